// The field-level difference between two states of a record, as the audit trail keeps it: one
// entry per changed leaf, nested objects by dotted path, lists compared whole.
import { isDeepStrictEqual } from 'node:util';
import { ownValue } from '../registry/own.ts';

export interface FieldChange {
  readonly path: string;
  readonly old: unknown;
  readonly new: unknown;
}

/** Server bookkeeping that changes on every write and says nothing about the change. */
const IGNORED = new Set(['updated_at', 'schema_version']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function walk(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  const old = before ?? null;
  const now = after ?? null;
  // An object on either side (the other side missing) is compared key by key.
  if ((isObject(old) || old === null) && (isObject(now) || now === null) && (old !== null || now !== null)) {
    const a = (old ?? {}) as Record<string, unknown>;
    const b = (now ?? {}) as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      walk(ownValue(a, key), ownValue(b, key), path ? `${path}.${key}` : key, out);
    return;
  }
  if (!isDeepStrictEqual(old, now)) out.push({ path, old, new: now });
}

/** `before` null: a create; `after` null: a hard delete. */
export function diffRecords(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): FieldChange[] {
  const strip = (record: Record<string, unknown> | null) =>
    record && Object.fromEntries(Object.entries(record).filter(([key]) => !IGNORED.has(key)));
  const out: FieldChange[] = [];
  walk(strip(before), strip(after), '', out);
  return out;
}
