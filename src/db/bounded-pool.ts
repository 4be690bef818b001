// Every pool call waits at most `timeoutMs` for a connection (slonik's own queue waits for ever,
// and is not woken when a connection attempt fails), and never starts its queries once it has
// stopped waiting: a request that answered 503, or whose client went away (see request-scope.ts),
// must not have its write land later. Calls queue here, at most `size` at a time in slonik, so a
// call that gives up leaves the queue at once; one already handed to slonik hands its connection
// straight back when it gets one.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabasePool, DatabasePoolConnection } from 'slonik';
import { requestClient, type RequestClient } from './request-scope.ts';
import { ConnectionWaitTimeout, RequestAbandoned } from './unavailable.ts';
import { runMethod, SINGLE_QUERY_METHODS, type SingleQueryMethod } from './pool-methods.ts';

export function boundConnectionWait(pool: DatabasePool, size: number, timeoutMs: number): DatabasePool {
  let inSlonik = 0;
  // Set: first in, first out, and a call that gives up leaves from the middle at once.
  const queued = new Set<() => void>();
  const next = () => {
    const first = queued.values().next();
    if (first.done) inSlonik -= 1;
    else {
      queued.delete(first.value);
      first.value();
    }
  };

  /** In slonik: the call's queries run unless its client left meanwhile; the slot passes on after. */
  const inPool = <T>(
    work: (connection: DatabasePoolConnection) => Promise<T>,
    client: RequestClient | undefined,
  ): Promise<T> =>
    pool
      .connect(async (connection) => {
        if (client?.gone) throw new RequestAbandoned();
        return work(connection);
      })
      .finally(next);

  const withConnection = <T>(work: (connection: DatabasePoolConnection) => Promise<T>): Promise<T> => {
    const client = requestClient();
    if (client?.gone) return Promise.reject(new RequestAbandoned());
    // A free slot: slonik has an idle connection or opens one, which pg bounds by the same
    // timeout (connectionTimeout in pool.ts), so no timer is needed.
    if (inSlonik < size) {
      inSlonik += 1;
      return inPool(work, client);
    }
    // Every slot taken: wait here, at most timeoutMs, and not past the client leaving.
    return new Promise<T>((resolve, reject) => {
      const giveUp = (error: Error) => {
        clearTimeout(timer);
        stopListening?.();
        queued.delete(enter);
        reject(error);
      };
      const timer = setTimeout(() => giveUp(new ConnectionWaitTimeout(timeoutMs)), timeoutMs);
      const stopListening = client?.onGone(() => giveUp(new RequestAbandoned()));
      const enter = () => {
        clearTimeout(timer);
        stopListening?.();
        inPool(work, client).then(resolve, reject);
      };
      queued.add(enter);
    });
  };

  type Methods = Pick<DatabasePool, SingleQueryMethod | 'stream' | 'transaction' | 'connect' | 'end' | 'state'>;
  const single = Object.fromEntries(
    SINGLE_QUERY_METHODS.map((method) => [
      method,
      (...args: unknown[]) => withConnection((c) => runMethod(c, method, args)),
    ]),
  ) as Pick<DatabasePool, SingleQueryMethod>;
  const methods: Methods = {
    ...single,
    stream: ((query, handler) => withConnection((c) => c.stream(query, handler))) as DatabasePool['stream'],
    transaction: (handler, retryLimit) => withConnection((c) => c.transaction(handler, retryLimit)),
    connect: (routine) => withConnection((c) => routine(c)),
    // slonik's end() waits for every queued call to get a connection, which never happens while the
    // database is down: closing the pool on shutdown waits a bounded time instead.
    end: () => Promise.race([pool.end(), sleep(2 * timeoutMs)]),
    // The calls queued here are the clients waiting for a connection (db_pool_connections).
    state: () => {
      const state = pool.state();
      return { ...state, waitingClients: state.waitingClients + queued.size };
    },
  };
  // Everything else (configuration, the error events) is the pool's own.
  return Object.assign(Object.create(pool) as DatabasePool, methods);
}
