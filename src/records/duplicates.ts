// Duplicate warnings (seed 8.4, 8.5): an entity's `duplicate_warnings` sets name fields that, when
// another live record has the same values for all of them, suggest the same thing was entered
// twice. The write still happens; the answer carries a warning so the client can ask the user.
import type { CommonQueryMethods, ValueExpression } from 'slonik';
import type { RecordStore, StoredRecord } from '../db/records.ts';

/** At most this many matching ids are listed per warning (`total` counts all of them). */
export const MAX_DUPLICATE_IDS = 10;

/**
 * Something the client should look at although the write went ahead: a possible duplicate, a
 * record a server rule reused instead of creating it again, or read-only fields the body set.
 */
export interface Warning {
  readonly code: 'POSSIBLE_DUPLICATE' | 'REUSED' | 'READ_ONLY_IGNORED';
  readonly message: string;
  /** The `duplicate_warnings` set whose values matched, the slot a reused record fills, or the read-only fields. */
  readonly fields: readonly string[];
  /** The first matching or reused records, in id order (none for READ_ONLY_IGNORED). */
  readonly ids: readonly string[];
  /** How many records match or were reused. */
  readonly total: number;
}

/** "a", "a and b", "a, b and c". */
export const joinNames = (names: readonly string[]): string =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? '');

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * One warning per set whose values another live record shares. A set is only checked on create,
 * or when `previous` (the record before an update) differs from `record` in one of its fields, so
 * editing an unrelated field of a known duplicate does not warn again. Sets with a null value are
 * skipped: a missing hash is not a match.
 */
export async function duplicateWarnings(
  store: RecordStore,
  record: StoredRecord,
  previous: StoredRecord | undefined,
  db: CommonQueryMethods,
): Promise<Warning[]> {
  const { entity } = store;
  const warnings: Warning[] = [];
  for (const fields of entity.duplicateWarnings) {
    if (previous && fields.every((name) => same(previous[name], record[name]))) continue;
    if (fields.some((name) => (record[name] ?? null) === null)) continue;
    const values = Object.fromEntries(fields.map((name) => [name, record[name] as ValueExpression]));
    const { ids, total } = await store.liveMatches(values, record.id, MAX_DUPLICATE_IDS, db);
    if (total === 0) continue;
    const others =
      total === 1
        ? `${entity.name} ${ids[0]}`
        : `${total} other ${entity.plural}: ${ids.slice(0, 3).join(', ')}${total > 3 ? ', …' : ''}`;
    warnings.push({
      code: 'POSSIBLE_DUPLICATE',
      message: `same ${joinNames(fields)} as ${others}`,
      fields,
      ids,
      total,
    });
  }
  return warnings;
}

/** `metadata.warnings`, present only when there is something to say. */
export const warningsMetadata = (warnings: readonly Warning[]): Record<string, unknown> =>
  warnings.length > 0 ? { warnings } : {};
