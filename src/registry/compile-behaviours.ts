// Field options that are server behaviours any entity can use (src/records/field-behaviours.ts
// runs them): `with_consent` (stored only while a boolean field is true), `stamp` (a datetime set
// when another field is first set) and `default_from_now` (a datetime some days ahead on create).
// This compiles them and checks the fields they name.
import type { ParsedFile } from './load.ts';
import { findField, type EntityDef, type FieldDef } from './model.ts';

type Report = (file: ParsedFile, path: string, message: string) => void;

export interface RawBehaviours {
  with_consent?: string;
  stamp?: { when_set: string; clear_when_unset?: boolean };
  default_from_now?: { days: number; setting?: string };
}

type Behaviours = Pick<FieldDef, 'withConsent' | 'stamp' | 'defaultFromNow'>;

/** The options of one field, with what can be told from the field alone. */
export function compileBehaviours(
  def: RawBehaviours & { required?: boolean; read_only?: boolean; default?: unknown },
  topLevel: boolean,
  problem: (option: string, message: string) => void,
): Behaviours {
  const { with_consent: consent, stamp, default_from_now: ahead } = def;
  for (const [option, given] of [
    ['with_consent', consent],
    ['stamp', stamp],
    ['default_from_now', ahead],
  ] as const) {
    if (given !== undefined && !topLevel) problem(option, `only top-level fields take ${option}`);
  }
  if (consent !== undefined && (def.required || def.read_only))
    problem('with_consent', 'a field stored only with consent cannot be required or read_only');
  if (stamp && !def.read_only) problem('stamp', 'a stamp is set by the server: add read_only: true');
  if (ahead && (def.required || def.default !== undefined))
    problem('default_from_now', 'a field with default_from_now cannot be required or have a default too');
  return {
    ...(consent !== undefined ? { withConsent: consent } : {}),
    ...(stamp ? { stamp: { whenSet: stamp.when_set, clearWhenUnset: stamp.clear_when_unset ?? false } } : {}),
    ...(ahead ? { defaultFromNow: { days: ahead.days, ...(ahead.setting ? { setting: ahead.setting } : {}) } } : {}),
  };
}

/** The fields the options name are top-level fields of the entity, of the kind each needs. */
export function checkBehaviours(file: ParsedFile, entity: EntityDef, report: Report): void {
  const names = entity.fields.map((f) => f.name).join(', ');
  for (const field of entity.fields) {
    if (field.withConsent !== undefined) {
      const consent = findField(entity, field.withConsent);
      if (consent?.type !== 'boolean' || consent.storage === 'computed') {
        const booleans = entity.fields.filter((f) => f.type === 'boolean').map((f) => f.name);
        report(
          file,
          `${field.source.path}.with_consent`,
          `"${field.withConsent}" must be a boolean field of ${entity.name}; boolean fields: ${booleans.join(', ') || 'none'}`,
        );
      }
    }
    if (field.stamp) {
      const watched = findField(entity, field.stamp.whenSet);
      if (!watched || watched === field || watched.storage === 'computed')
        report(
          file,
          `${field.source.path}.stamp.when_set`,
          `"${field.stamp.whenSet}" must be another stored field of ${entity.name}; fields: ${names}`,
        );
    }
  }
}
