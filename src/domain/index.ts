// The domain rules by the name entities declare them under `rules:` in YAML: what the registry's
// generic options cannot say. Each entry implements a rule of registry/rule-catalog.ts (a test
// keeps the two in step); everything else is YAML.
import type { WriteRule } from '../records/write-rules.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import type { DomainRule } from './rule.ts';
import { guestFromTalent } from './talent.ts';
import { outfitFromWardrobe } from './wardrobe.ts';

export const DOMAIN_RULES: ReadonlyMap<string, DomainRule> = new Map([
  ['outfit_from_wardrobe', outfitFromWardrobe],
  ['guest_from_talent', guestFromTalent],
]);

/** The write rules of the domain rules the entity declares, in their YAML order. */
export function domainRules(entity: EntityDef, model: Model): WriteRule[] {
  return entity.rules.map((use) => {
    const rule = DOMAIN_RULES.get(use.name);
    if (!rule) throw new Error(`${entity.file}: rules.${use.name}: no implementation in src/domain/`);
    return rule(use, entity, model);
  });
}
