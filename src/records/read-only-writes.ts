// A write never changes a read-only field. One that a release had writable (MADE_READ_ONLY in
// docs/reference/compatibility-rules.md) is still sent by that release's clients: the write says
// it did not store it, instead of dropping it silently. Server stamps that were never writable
// (updated_at, …) are left out: a GET body sent back after another write differs in them.
import { isDeepStrictEqual } from 'node:util';
import { findField, type EntityDef, type FieldDef } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import { joinNames, type Warning } from './duplicates.ts';
import { isPlainObject } from './record-input.ts';

const orNull = (value: unknown) => (value === undefined ? null : value);

/** Two spellings of one instant are the same datetime. */
function same(field: FieldDef | undefined, sent: unknown, stored: unknown): boolean {
  if (field?.type === 'datetime' && typeof sent === 'string' && typeof stored === 'string')
    return Date.parse(sent) === Date.parse(stored);
  return isDeepStrictEqual(orNull(sent), orNull(stored));
}

/**
 * The READ_ONLY_IGNORED warning for the formerly writable fields `body` sets to something other
 * than the stored record's value (on a create, to anything but null), or undefined when none.
 */
export function ignoredReadOnlyWrites(
  entity: EntityDef,
  body: unknown,
  current: Readonly<Record<string, unknown>> | undefined,
): Warning | undefined {
  if (!isPlainObject(body)) return undefined;
  const fields: string[] = [];
  for (const name of entity.formerlyWritable ?? []) {
    if (!Object.hasOwn(body, name)) continue;
    if (!same(findField(entity, name), body[name], current === undefined ? null : ownValue(current, name)))
      fields.push(name);
  }
  if (fields.length === 0) return undefined;
  const one = fields.length === 1;
  return {
    code: 'READ_ONLY_IGNORED',
    message: `${joinNames(fields)} ${one ? 'is' : 'are'} set by the server: the ${one ? 'value' : 'values'} sent ${one ? 'was' : 'were'} not stored`,
    fields,
    ids: [],
    total: 0,
  };
}
