// The slonik pool, with type parsers that give JSON-ready values: ISO strings for timestamps,
// plain 'YYYY-MM-DD' strings for dates, numbers for int8 and numeric.
import { createPool, type DatabasePool, type Interceptor } from 'slonik';
import { boundConnectionWait } from './bounded-pool.ts';
import { createPgDriverWithoutLeaks } from './driver.ts';
import { databaseTarget, explainConnectionFailure } from './tls.ts';
import { deadlineInterceptor } from './work.ts';

export type { DatabasePool };

/** PostgreSQL's text for a UTC timestamptz, e.g. `2025-01-05 10:00:00.12+00`. */
const UTC_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/** ISO 8601 with milliseconds in UTC. Rewriting the text is much cheaper than a Date round trip. */
export const isoTimestamp = (value: string): string => {
  const utc = UTC_TIMESTAMP.exec(value);
  if (!utc) return new Date(value).toISOString();
  return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
};

export async function createDatabasePool(
  databaseUrl: string,
  maximumPoolSize: number,
  options: {
    interceptors?: readonly Interceptor[];
    statementTimeoutMs?: number;
    /**
     * Longest a call waits for a connection (a free one, or a new one being opened) before it fails
     * with ConnectionWaitTimeout, a 503 (bounded-pool.ts). Unset: slonik's 5 s connect timeout and an
     * unbounded queue, for the CLI's sequential work.
     */
    connectTimeoutMs?: number;
    /** Repeated queries as named prepared statements (prepared.ts); off behind a pooler that cannot keep them. */
    preparedStatements?: boolean;
  } = {},
): Promise<DatabasePool> {
  // TLS comes from DATABASE_URL's libpq parameters, read in tls.ts (slonik's parser knows fewer).
  const target = databaseTarget(databaseUrl);
  const { connectTimeoutMs } = options;
  const pool = await createPool(target.url, {
    ...(target.ssl ? { ssl: target.ssl } : {}),
    driverFactory: createPgDriverWithoutLeaks({ preparedStatements: options.preparedStatements }),
    maximumPoolSize,
    // A refused connection is not retried at once (slonik would try four times): the request
    // answers 503 with Retry-After and the next one tries again.
    ...(connectTimeoutMs !== undefined ? { connectionTimeout: connectTimeoutMs, connectionRetryLimit: 0 } : {}),
    // A request past its deadline runs no more queries (work.ts).
    interceptors: [deadlineInterceptor, ...(options.interceptors ?? [])],
    statementTimeout: options.statementTimeoutMs ?? 60_000,
    // Deadlocks are retried by work.ts's transact, the whole transaction: slonik's own retry
    // would run a savepoint again while the outer transaction keeps its locks.
    transactionRetryLimit: 0,
    // slonik's default runs DISCARD ALL each time a connection returns to the pool: a second
    // round trip per query, and it throws away cached plans. Nothing here sets session state
    // outside a transaction (SET LOCAL ends with its transaction), so there is nothing to reset.
    resetConnection: async () => undefined,
    typeParsers: [
      { name: 'timestamptz', parse: isoTimestamp },
      { name: 'timestamp', parse: (value) => isoTimestamp(`${value}Z`) },
      { name: 'date', parse: (value) => value },
      { name: 'int8', parse: (value) => Number(value) },
      { name: 'numeric', parse: (value) => Number(value) },
    ],
  }).catch((error: unknown) => {
    throw explainConnectionFailure(error, target);
  });
  return connectTimeoutMs !== undefined ? boundConnectionWait(pool, maximumPoolSize, connectTimeoutMs) : pool;
}
