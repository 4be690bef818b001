// The write rules of the registry's behaviour options (compiled in registry/compile-behaviours.ts),
// built for any entity from its fields: consent gating (`with_consent`), stamps (`stamp`) and
// defaults some days ahead (`default_from_now`). They run before the entity's domain rules.
import { ApiError, type ApiProblem } from './errors.ts';
import type { Values, WriteRule } from './write-rules.ts';
import type { EntityDef, FieldDef } from '../registry/model.ts';
import type { RecordSettings } from './settings.ts';

const DAY_MS = 86_400_000;

/** A field counts as set when it holds a value other than false or [] (a consent box ticked, an id given). */
const isSet = (value: unknown): boolean =>
  (value ?? null) !== null && value !== false && !(Array.isArray(value) && value.length === 0);

/** The entity's behaviour rules, in a fixed order: consent first, since stamps may watch it. */
export function fieldBehaviourRules(entity: EntityDef, settings: RecordSettings): WriteRule[] {
  const gated = entity.fields.filter((f) => f.withConsent !== undefined);
  const stamps = entity.fields.filter((f) => f.stamp);
  const ahead = entity.fields.filter((f) => f.defaultFromNow);
  return [
    ...(gated.length > 0 ? [consentRule(entity, gated)] : []),
    ...(stamps.length > 0 ? [stampRule(stamps)] : []),
    ...(ahead.length > 0 ? [defaultFromNowRule(ahead, settings)] : []),
  ];
}

/**
 * Fields with `with_consent: c` hold a value only while `c` is true: withdrawing consent (true to
 * anything else) erases them, and a write that gives one without consent is refused (422).
 */
function consentRule(entity: EntityDef, gated: readonly FieldDef[]): WriteRule {
  return async (values, current) => {
    const problems: ApiProblem[] = [];
    for (const field of gated) {
      const consent = field.withConsent!;
      const given = values[consent] === true;
      if (current?.[consent] === true && !given) values[field.name] = null;
      if (!given && (values[field.name] ?? null) !== null)
        problems.push({
          code: 'CONSENT_REQUIRED',
          message: `${field.name} is stored only with the ${entity.name}'s consent: set ${consent} to true`,
          field: field.name,
        });
    }
    if (problems.length > 0) throw new ApiError(422, problems);
  };
}

/** `stamp`: now, the first time its field is found set while the stamp is empty; cleared when asked. */
function stampRule(stamps: readonly FieldDef[]): WriteRule {
  return async (values, current) => {
    const now = new Date().toISOString();
    for (const field of stamps) {
      const { whenSet, clearWhenUnset } = field.stamp!;
      // A stamp is read-only: the write's values never hold it, the stored record does.
      if (isSet(values[whenSet])) {
        if ((current?.[field.name] ?? null) === null) values[field.name] = now;
      } else if (clearWhenUnset) values[field.name] = null;
    }
  };
}

/** `default_from_now`: a create that leaves the field empty stores now plus the days. */
function defaultFromNowRule(fields: readonly FieldDef[], settings: RecordSettings): WriteRule {
  const days = (field: FieldDef) => {
    const { days, setting } = field.defaultFromNow!;
    return (setting === undefined ? undefined : settings.get(setting)) ?? days;
  };
  return async (values: Values, current) => {
    if (current) return;
    const now = Date.now();
    for (const field of fields) {
      if ((values[field.name] ?? null) === null)
        values[field.name] = new Date(now + days(field) * DAY_MS).toISOString();
    }
  };
}
