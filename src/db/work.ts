// Bounds on the work one request may cause in the database, in one place:
// - a deadline for the whole request (REQUEST_TIMEOUT_MS): past it, the next query fails, and a
//   write transaction's statements may not outlive it, so its transaction rolls back;
// - per write transaction, the records it creates and the advisory locks it holds;
// - a transaction that lost a deadlock or a serialization race is run again, a few times.
// The deadline rides on the request's scope (request-scope.ts) and a transaction's counts on
// AsyncLocalStorage, so the code between the route and the query need not carry them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { remainingMs } from './request-scope.ts';
import { forgetSlowCounts } from './counting.ts';
import { isPooledStatementLost, isStalePreparedStatement } from './prepared.ts';
import { sqlState } from './sql-state.ts';
import { isDatabaseUnavailable } from './unavailable.ts';
import {
  sql,
  type CommonQueryMethods,
  type DatabaseConnection,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type Interceptor,
} from 'slonik';

/**
 * Records one write transaction may create, its own and those its rules create: an atomic batch
 * of 1,000 creates fits, with room for what their lists link.
 */
export const MAX_RECORDS_PER_TRANSACTION = 2000;
/**
 * Advisory locks on single keys one transaction may hold. PostgreSQL's lock table is shared by
 * every database on the server (max_locks_per_transaction × max_connections, 6,400 by default):
 * past this, a transaction locks the key's whole namespace instead of one more key.
 */
export const MAX_KEY_LOCKS_PER_TRANSACTION = 64;
/** Runs of a transaction that deadlocks (40P01) or fails to serialize (40001), the first included. */
export const TRANSACTION_ATTEMPTS = 4;

/** A transaction would create more records than MAX_RECORDS_PER_TRANSACTION. */
export class WorkLimitExceeded extends Error {
  override readonly name = 'WorkLimitExceeded';
}

/**
 * The database went away between a write's last statement and the answer to its COMMIT: the
 * write may or may not have been saved, so the client must not be told that nothing changed.
 */
export class CommitUnconfirmed extends Error {
  override readonly name = 'CommitUnconfirmed';
  constructor(
    /** The id of the record the write made or changed, when it names one. */
    readonly recordId: string | undefined,
    cause: unknown,
  ) {
    super(
      `the database connection was lost while the write was being committed: it may or may not have been saved; read ${recordId ?? 'the records'} back before writing again`,
      { cause },
    );
  }
}

/** `{ record: { id } }` (what the actions return): the id, else undefined. */
function recordIdOf(result: unknown): string | undefined {
  const record = typeof result === 'object' && result !== null ? (result as { record?: unknown }).record : undefined;
  const id = typeof record === 'object' && record !== null ? (record as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** The request's deadline passed; its transaction is rolled back. */
export class RequestTimedOut extends Error {
  override readonly name = 'RequestTimedOut';
  constructor() {
    super('the request took longer than REQUEST_TIMEOUT_MS');
  }
}

/**
 * Whether the current request is past its deadline (or within `slackMs` of it: a statement
 * timeout lowered to the deadline may fire a moment early).
 */
export const deadlinePassed = (slackMs = 0): boolean => (remainingMs() ?? Infinity) <= slackMs;

/** Refuses every query of a request past its deadline (the transaction it is in rolls back). */
export const deadlineInterceptor: Interceptor = {
  name: 'request-deadline',
  beforeQueryExecution: () => {
    if (deadlinePassed()) throw new RequestTimedOut();
    return null;
  },
};

/** What one write transaction did so far. */
class TransactionWork {
  records = 0;
  keyLocks = 0;
  /** Namespaces locked shared (their keys one by one) or exclusive (all of them). */
  readonly shared = new Set<string>();
  readonly exclusive = new Set<string>();
  readonly keys = new Map<string, Set<string>>();
  /** Tasks to run once this transaction has committed (see afterCommit). */
  readonly committed: (() => void)[] = [];
}

const transactions = new AsyncLocalStorage<TransactionWork>();

const isPool = (db: DatabaseConnection): db is DatabasePool => 'connect' in db && 'end' in db;

/**
 * Runs `work` in a transaction: its own on a pool, or the caller's. A nested slonik transaction
 * would be a SAVEPOINT and its RELEASE, two round trips that buy nothing when every failure
 * rolls the caller's whole transaction back.
 */
export function withinTransaction<T>(
  db: DatabasePool | DatabaseTransactionConnection,
  work: (tx: DatabaseTransactionConnection) => Promise<T>,
): Promise<T> {
  return isPool(db) ? db.transaction(work) : work(db);
}

/**
 * 40P01 deadlock_detected, 40001 serialization_failure, and a prepared statement whose result
 * type a migration changed (now unnamed, prepared.ts): the transaction may work when run again.
 */
export const isTransactionConflict = (error: unknown): boolean =>
  ['40P01', '40001'].includes(sqlState(error) ?? '') || isStalePreparedStatement(error) || isPooledStatementLost(error);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A write transaction. On the pool it is a transaction of its own, run again (from the start,
 * with fresh counts) when it deadlocks or fails to serialize, at most TRANSACTION_ATTEMPTS times
 * and not past the request's deadline; on a connection it is a savepoint inside the caller's
 * transaction, whose conflicts that transaction retries.
 */
export async function transact<T>(
  db: DatabaseConnection,
  handler: (tx: DatabaseTransactionConnection) => Promise<T>,
): Promise<T> {
  if (!isPool(db)) return db.transaction(handler, 0);
  for (let attempt = 1; ; attempt++) {
    try {
      let done: { result: T } | undefined;
      const work = new TransactionWork();
      const result = await transactions
        .run(work, () =>
          db.transaction(async (tx) => {
            await boundStatements(tx);
            done = { result: await handler(tx) };
            return done.result;
          }, 0),
        )
        .catch((error: unknown) => {
          // The work was done and COMMIT sent when the connection died: it may have been saved.
          throw done && isDatabaseUnavailable(error) ? new CommitUnconfirmed(recordIdOf(done.result), error) : error;
        });
      // A write may change any kept count (a filter can reach other tables): they are counted again.
      forgetSlowCounts();
      runCommitted(work);
      return result;
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= TRANSACTION_ATTEMPTS || deadlinePassed()) throw error;
      // Both sides of a deadlock are run again: a random pause keeps them from meeting again.
      await pause(Math.random() * 20 * attempt);
    }
  }
}

/**
 * Runs `task` once the current write transaction (the outermost transact() on the pool) has
 * committed: never when it rolls back, and only for the run that committed when it is run again
 * after a deadlock. Outside transact() there is no transaction to wait for: the task runs at once.
 * Tasks must not throw (a throw is dropped: the write has already happened).
 */
export function afterCommit(task: () => void): void {
  const work = transactions.getStore();
  if (work) work.committed.push(task);
  else runTask(task);
}

function runTask(task: () => void): void {
  try {
    task();
  } catch {
    // The write is committed: a follow-up's failure must not turn it into an error.
  }
}

function runCommitted(work: TransactionWork): void {
  // The ALS context is left first, so a task that writes starts a transaction of its own.
  for (const task of work.committed.splice(0)) transactions.exit(() => runTask(task));
}

/** Within a request, no statement of the transaction may run past the deadline. */
async function boundStatements(tx: DatabaseTransactionConnection): Promise<void> {
  const remaining = remainingMs();
  if (remaining === undefined) return;
  if (remaining <= 0) throw new RequestTimedOut();
  // statement_timeout as set on the pool ('30s', or '0' for none), lowered to what is left.
  await tx.query(sql.unsafe`
    SELECT set_config('statement_timeout', (CASE WHEN current_setting('statement_timeout') = '0' THEN ${Math.ceil(remaining)}
      ELSE LEAST(EXTRACT(EPOCH FROM current_setting('statement_timeout')::interval) * 1000, ${Math.ceil(remaining)}) END)::bigint::text, true)`);
}

/** Counts a record the current transaction creates; past MAX_RECORDS_PER_TRANSACTION it fails. */
export function countRecordCreated(): void {
  const work = transactions.getStore();
  if (!work) return;
  if (++work.records > MAX_RECORDS_PER_TRANSACTION) {
    throw new WorkLimitExceeded(
      `this request would create more than ${MAX_RECORDS_PER_TRANSACTION} records in one transaction (counting those its lists create or link); send fewer at once`,
    );
  }
}

/**
 * Takes transaction-level advisory locks on `keys` within `namespace` (e.g. a table's match
 * set), in sorted order, so two writers locking the same keys in any order cannot deadlock on
 * them. Keys this transaction holds already are not locked again. Each key lock also holds the
 * namespace shared; a transaction that would hold more than MAX_KEY_LOCKS_PER_TRANSACTION key
 * locks takes the namespace exclusively instead, which covers every key in it.
 */
export async function lockKeys(tx: CommonQueryMethods, namespace: string, keys: readonly string[]): Promise<void> {
  // Outside transact (a test's own connection) nothing is remembered: every call locks its keys.
  const work = transactions.getStore() ?? new TransactionWork();
  if (work.exclusive.has(namespace)) return;
  const held = work.keys.get(namespace) ?? new Set<string>();
  work.keys.set(namespace, held);
  const fresh = [...new Set(keys)].filter((key) => !held.has(key)).sort();
  if (fresh.length === 0) return;
  if (work.keyLocks + fresh.length > MAX_KEY_LOCKS_PER_TRANSACTION) {
    await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext(${namespace}), 0)`);
    work.exclusive.add(namespace);
    return;
  }
  if (!work.shared.has(namespace)) {
    await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock_shared(hashtext(${namespace}), 0)`);
    work.shared.add(namespace);
  }
  const texts = fresh.map((key) => JSON.stringify([namespace, key]));
  await tx.query(sql.unsafe`
    SELECT pg_advisory_xact_lock(hashtextextended(t.key, 0))
    FROM unnest(${sql.array(texts, 'text')}::text[]) WITH ORDINALITY AS t(key, n) ORDER BY t.n`);
  for (const key of fresh) held.add(key);
  work.keyLocks += fresh.length;
}
