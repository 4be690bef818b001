// The pool methods that run one statement on a connection of their own: the wrappers
// (bounded-pool.ts, read-routing.ts) treat them alike, and transaction, connect and stream apart.
import type { DatabasePool } from 'slonik';

export const SINGLE_QUERY_METHODS = [
  'any',
  'anyFirst',
  'exists',
  'many',
  'manyFirst',
  'maybeOne',
  'maybeOneFirst',
  'one',
  'oneFirst',
  'query',
] as const satisfies readonly (keyof DatabasePool)[];

export type SingleQueryMethod = (typeof SINGLE_QUERY_METHODS)[number];

/** Runs `method` of `target` (a pool or a connection) with `args`, whatever its overloads. */
export const runMethod = (target: object, method: SingleQueryMethod, args: readonly unknown[]): Promise<unknown> =>
  (Reflect.get(target, method) as (...a: unknown[]) => Promise<unknown>).apply(target, args as unknown[]);
