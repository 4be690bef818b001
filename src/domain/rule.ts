// What a domain rule implementation is: given the entity's use of the rule (the fields the YAML
// names for its parameters, checked against registry/rule-catalog.ts when the registry compiles),
// the write rule for that entity.
import type { WriteRule } from '../records/write-rules.ts';
import type { EntityDef, Model, RuleUse } from '../registry/model.ts';

export type DomainRule = (use: RuleUse, entity: EntityDef, model: Model) => WriteRule;

/** The field the YAML names for a parameter (the registry checked it is there and fits). */
export const parameter = (use: RuleUse, name: string): string => use.fields.get(name)!;
