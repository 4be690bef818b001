// Every pool call waits at most `timeoutMs` for a connection (slonik's own queue waits for ever),
// and never starts its queries once it has stopped waiting: a request that answered 503, or whose
// client went away (see request-scope.ts), must not have its write land later. A call whose wait
// ended keeps its place in slonik's queue; when its turn comes it hands the connection straight back.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabasePool, DatabasePoolConnection } from 'slonik';
import { requestSignal } from './request-scope.ts';
import { ConnectionWaitTimeout, RequestAbandoned } from './unavailable.ts';

/** What a call that stopped waiting returns to slonik instead of running its queries. */
const ABANDONED = Symbol('abandoned');

export function boundConnectionWait(pool: DatabasePool, timeoutMs: number): DatabasePool {
  const withConnection = <T>(work: (connection: DatabasePoolConnection) => Promise<T>): Promise<T> => {
    const signal = requestSignal();
    if (signal?.aborted) return Promise.reject(new RequestAbandoned());
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const stopWaiting = (error: Error) => {
        if (!waiting) return;
        waiting = false;
        done();
        reject(error);
      };
      const timer = setTimeout(() => stopWaiting(new ConnectionWaitTimeout(timeoutMs)), timeoutMs);
      const onAbort = () => stopWaiting(new RequestAbandoned());
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      pool
        .connect(async (connection) => {
          if (!waiting) return ABANDONED;
          waiting = false;
          done();
          return work(connection);
        })
        .then(
          (value) => {
            if (value !== ABANDONED) resolve(value as T);
          },
          (error: unknown) => {
            // After the wait ended the caller has its answer; a late connect failure is nobody's.
            if (waiting) done();
            waiting = false;
            reject(error as Error);
          },
        );
    });
  };

  type Methods = Pick<DatabasePool, 'any' | 'anyFirst' | 'exists' | 'many' | 'manyFirst' | 'maybeOne' | 'maybeOneFirst' | 'one' | 'oneFirst' | 'query' | 'stream' | 'transaction' | 'connect' | 'end'>;
  const methods: Methods = {
    any: ((query) => withConnection((c) => c.any(query))) as DatabasePool['any'],
    anyFirst: ((query) => withConnection((c) => c.anyFirst(query))) as DatabasePool['anyFirst'],
    exists: ((query) => withConnection((c) => c.exists(query))) as DatabasePool['exists'],
    many: ((query) => withConnection((c) => c.many(query))) as DatabasePool['many'],
    manyFirst: ((query) => withConnection((c) => c.manyFirst(query))) as DatabasePool['manyFirst'],
    maybeOne: ((query) => withConnection((c) => c.maybeOne(query))) as DatabasePool['maybeOne'],
    maybeOneFirst: ((query) => withConnection((c) => c.maybeOneFirst(query))) as DatabasePool['maybeOneFirst'],
    one: ((query) => withConnection((c) => c.one(query))) as DatabasePool['one'],
    oneFirst: ((query) => withConnection((c) => c.oneFirst(query))) as DatabasePool['oneFirst'],
    query: ((query) => withConnection((c) => c.query(query))) as DatabasePool['query'],
    stream: ((query, handler) => withConnection((c) => c.stream(query, handler))) as DatabasePool['stream'],
    transaction: (handler, retryLimit) => withConnection((c) => c.transaction(handler, retryLimit)),
    connect: (routine) => withConnection((c) => routine(c)),
    // slonik's end() waits for every queued call to get a connection, which never happens while the
    // database is down: closing the pool on shutdown waits a bounded time instead.
    end: () => Promise.race([pool.end(), sleep(2 * timeoutMs)]),
  };
  // Everything else (configuration, state, end, the error events) is the pool's own.
  return Object.assign(Object.create(pool) as DatabasePool, methods);
}
