// Named prepared statements for the statements marked PREPARED: lookups and writes by primary
// key. An unnamed statement is parsed, analysed and planned on every run; for a lookup by id that
// costs several times the execution itself. A named one is parsed once per connection and soon
// runs a generic plan, which for `WHERE id = $1` is the only plan there is. Filters and searches
// stay unnamed: for `status = $1` or a full-text query a generic plan ignores the value and can
// be far worse (measured: a two-word search went from 72 to 3 requests per second).
// Bounded on both sides: at most MAX_TEXTS texts per process and MAX_PER_CONNECTION per connection.
import { createHash } from 'node:crypto';
import { sql } from 'slonik';
import { sqlState } from './sql-state.ts';

/** Put first in a statement whose plan does not depend on its values (a lookup by id). A comment: PostgreSQL ignores it. */
export const PREPARED = sql.fragment`/* prepared */ `;
const MARK = PREPARED.sql.trimEnd();

/** Distinct statement texts the process tracks (each costs its text and a name). */
export const MAX_TEXTS = 2000;
/** Named statements one connection holds (each costs the backend a parse tree and maybe a plan). */
export const MAX_PER_CONNECTION = 500;

/** What pg's `client.query` takes: the text, or a config naming the statement. */
export type Statement = string | { readonly name: string; readonly text: string };

/** Process-wide: the name of each marked text, and the names never to use again. */
export class StatementNames {
  private readonly seen = new Map<string, string>();
  private readonly refused = new Set<string>();
  private stopped = false;

  /** The statement's name, or null when it is not marked PREPARED (or may not be named). */
  nameOf(text: string): string | null {
    if (this.stopped || !text.startsWith(MARK)) return null;
    const known = this.seen.get(text);
    if (known !== undefined) return this.refused.has(known) ? null : known;
    if (this.seen.size >= MAX_TEXTS) return null;
    const name = `rm_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    this.seen.set(text, name);
    return name;
  }

  /**
   * A named statement failed for being named: PostgreSQL refuses to run a cached plan whose
   * result columns changed under it (a migration altered a column's type). From now on it runs
   * unnamed, on every connection.
   */
  refuse(name: string): void {
    this.refused.add(name);
  }

  /**
   * The server connection behind ours is not the one that prepared the statement: a pooler in
   * transaction mode that cannot keep named statements (PgBouncer before 1.21). From now on every
   * statement runs unnamed, as with DB_PREPARED_STATEMENTS=false.
   */
  stopNaming(): void {
    this.stopped = true;
  }
}

/** One connection's named statements, and whether it is inside a transaction. */
export class ConnectionStatements {
  private readonly named = new Set<string>();
  private transaction = false;

  constructor(private readonly names: StatementNames) {}

  /** Whether the connection is between START TRANSACTION and its COMMIT or ROLLBACK. */
  get inTransaction(): boolean {
    return this.transaction;
  }

  /**
   * How to send `text` with `values`: named when it is marked and the connection has room. A
   * statement without values goes as it is (pg's simple protocol: transaction control, SET, DDL).
   */
  statement(text: string, values: readonly unknown[]): Statement {
    if (values.length === 0) {
      this.follow(text);
      return text;
    }
    const name = this.names.nameOf(text);
    if (name === null) return text;
    if (!this.named.has(name)) {
      if (this.named.size >= MAX_PER_CONNECTION) return text;
      this.named.add(name);
    }
    return { name, text };
  }

  /** Transaction control as slonik sends it (transaction.js, nestedTransaction.js). */
  private follow(text: string): void {
    if (/^(START TRANSACTION|BEGIN)\b/i.test(text)) this.transaction = true;
    else if (/^(COMMIT|END)\b/i.test(text) || /^ROLLBACK(?!\s+TO\b)/i.test(text)) this.transaction = false;
  }
}

/**
 * A named statement that a pooler lost or mixed up: `prepared statement "rm_…" already exists`
 * (42P05) or `does not exist` (26000), which on a direct connection never happens.
 */
export function isPooledStatementLost(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== '42P05' && state !== '26000') return false;
  for (let e = error; e instanceof Error; e = e.cause) if (e.message.includes('prepared statement "rm_')) return true;
  return false;
}

/** PostgreSQL's refusal to reuse a prepared statement after its result type changed (SQLSTATE 0A000). */
export function isStalePreparedStatement(error: unknown): boolean {
  if (sqlState(error) !== '0A000') return false;
  for (let e = error; e instanceof Error; e = e.cause)
    if (e.message.includes('cached plan must not change result type')) return true;
  return false;
}
