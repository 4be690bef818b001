// Conditional writes (RFC 9110 §13.1.1): a record's ETag is its row version, and a write sent
// with If-Match runs only when the record still has that version, else 412.
import { ApiError } from './errors.ts';

export const etagOf = (version: string): string => `"${version}"`;

/**
 * Whether `ifMatch` (a header value: `*`, or a comma list of entity tags) lets a write through
 * to a record whose version is `version`. Weak tags never match (strong comparison).
 */
export function checkIfMatch(ifMatch: string | null | undefined, version: string | undefined, what: string): void {
  if (ifMatch === null || ifMatch === undefined) return;
  const tags = ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  if (tags.includes('*')) return;
  if (version !== undefined && tags.includes(etagOf(version))) return;
  throw ApiError.single(
    412,
    'PRECONDITION_FAILED',
    `${what} has changed since it was read: If-Match ${ifMatch} does not match its current ETag ${version === undefined ? '(unknown)' : etagOf(version)}; read it again and retry`,
  );
}
