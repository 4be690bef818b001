// Named prepared statements for the queries a process runs again and again. An unnamed statement
// is parsed, analysed and planned on every run; for a lookup by id that costs several times the
// execution itself. A named one is parsed once per connection, and PostgreSQL may keep a generic
// plan for it (plan_cache_mode=auto decides per statement, so skewed filters keep custom plans).
// Bounded on both sides: a statement text is named on its second run (one-off shapes stay
// unnamed), at most MAX_TEXTS texts per process and MAX_PER_CONNECTION per connection.
import { createHash } from 'node:crypto';

/** Distinct statement texts the process tracks (each costs its text and a name). */
export const MAX_TEXTS = 2000;
/** Named statements one connection holds (each costs the backend a parse tree and maybe a plan). */
export const MAX_PER_CONNECTION = 500;

/** What pg's `client.query` takes: the text, or a config naming the statement. */
export type Statement = string | { readonly name: string; readonly text: string };

/** Process-wide: how often each text ran, its name once it has one, and the texts never to name. */
export class StatementNames {
  private readonly seen = new Map<string, string | null>();
  private readonly refused = new Set<string>();

  /** The statement's name, or null while it has run only once (or when it may not be named). */
  nameOf(text: string): string | null {
    const known = this.seen.get(text);
    if (known !== undefined) {
      if (known !== null) return this.refused.has(known) ? null : known;
      const name = `rm_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      this.seen.set(text, name);
      return name;
    }
    if (this.seen.size < MAX_TEXTS) this.seen.set(text, null);
    return null;
  }

  /**
   * A named statement failed for being named: PostgreSQL refuses to run a cached plan whose
   * result columns changed under it (a migration altered a column's type). From now on it runs
   * unnamed, on every connection.
   */
  refuse(name: string): void {
    this.refused.add(name);
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
   * How to send `text` with `values`: named when it is worth it. A statement without values goes
   * as it is (the simple protocol, which also runs multi-statement migration scripts).
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

/** PostgreSQL's refusal to reuse a prepared statement after its result type changed (SQLSTATE 0A000). */
export function isStalePreparedStatement(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}
