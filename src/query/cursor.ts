// Keyset cursors: an opaque token holding the sort-key values and id of the last row of a page.
// The sort it was made for is part of it, so a cursor cannot be replayed against another order.
import type { FieldType } from '../registry/model.ts';
import { fieldType } from '../registry/types.ts';
import { unusableText } from '../registry/text.ts';
import type { CursorPosition, ScalarValue, SortKey } from './ast.ts';

interface CursorPayload {
  /** The sort signature, e.g. `-updated_at,title`. */
  readonly s: string;
  readonly v: readonly (ScalarValue | null)[];
  readonly id: string;
}

export function sortSignature(sort: readonly SortKey[]): string {
  return sort
    .map((k) => `${k.direction === 'desc' ? '-' : ''}${k.target === 'rank' ? '~rank' : k.target.path}`)
    .join(',');
}

export function encodeCursor(sort: readonly SortKey[], position: CursorPosition): string {
  const payload: CursorPayload = { s: sortSignature(sort), v: position.values, id: position.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/**
 * Whether a cursor value can stand for a value of this type. The cursor is the client's text: a
 * value of another type would reach PostgreSQL as a bound parameter it cannot cast (a 500 once).
 */
function fitsType(value: ScalarValue, type: FieldType | 'rank'): boolean {
  if (type === 'rank') return typeof value === 'number' && Number.isFinite(value);
  return fieldType(type).fits(value);
}

/** The position a cursor stands for, or why it cannot be used with this sort. */
export function decodeCursor(token: string, sort: readonly SortKey[]): CursorPosition | { error: string } {
  const invalid = { error: 'is not a cursor from this API; use metadata.next_cursor of the previous page unchanged' };
  let payload: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return invalid;
    payload = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return invalid;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return invalid;
  const { s, v, id } = payload as Partial<CursorPayload>;
  if (
    typeof s !== 'string' ||
    !Array.isArray(v) ||
    typeof id !== 'string' ||
    id === '' ||
    unusableText(id) !== undefined
  )
    return invalid;
  if (s !== sortSignature(sort))
    return {
      error: `was made for _sort=${s || '(default)'}; send the same _sort (and q) as the request that returned it`,
    };
  if (v.length !== sort.length) return invalid;
  for (const [index, value] of v.entries()) {
    if (value === null) continue;
    const key = sort[index]!;
    if (!fitsType(value as ScalarValue, key.target === 'rank' ? 'rank' : key.target.type)) return invalid;
  }
  return { values: v as (ScalarValue | null)[], id };
}
