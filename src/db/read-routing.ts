// The pool the app is given when replicas are configured: it is the primary's, except that a
// single query (not a transaction, not a held connection) made by a read-only request that has
// not written yet goes to a replica from the set (replicas.ts), one that has replayed the
// request's consistency token when it holds one. A transaction or a held connection is the
// primary's and marks the request as writing, so whatever it reads afterwards it reads there too
// (a GET that erases lapsed personal data first must not then read the replica's older copy).
// A replica that fails a read is taken out of rotation and the read runs on the primary; a
// statement that turns out to write (refused by the replica as read-only) runs there too.
import type { DatabasePool } from 'slonik';
import { readRouting } from './request-scope.ts';
import type { ReplicaSet } from './replicas.ts';
import { isDatabaseUnavailable } from './unavailable.ts';
import { sqlState } from './sql-state.ts';
import { runMethod, SINGLE_QUERY_METHODS, type SingleQueryMethod } from './pool-methods.ts';

export interface ReadCounter {
  countRead(target: 'primary' | 'replica'): void;
}

/**
 * What a failed replica read means: `replica` (unreachable or shutting down: out of rotation),
 * `statement` (this statement only: it wrote, 25006, or replay cancelled it, 40001), or undefined
 * (the statement's own error, which the primary would give too).
 */
function replicaTrouble(error: unknown): 'replica' | 'statement' | undefined {
  const state = sqlState(error);
  if (state === '25006' || state === '40001') return 'statement';
  if (isDatabaseUnavailable(error) || state?.startsWith('57P') === true) return 'replica';
  return undefined;
}

export function routeReads(primary: DatabasePool, replicas: ReplicaSet, counter: ReadCounter): DatabasePool {
  const methods: Partial<Record<SingleQueryMethod | 'transaction' | 'connect' | 'stream', unknown>> = {};
  for (const method of SINGLE_QUERY_METHODS) {
    const onPrimary = (...args: unknown[]) => runMethod(primary, method, args);
    methods[method] = async (...args: unknown[]) => {
      const routing = readRouting();
      const replica = routing && !routing.wrote ? replicas.pick(routing.afterLsn) : undefined;
      if (!replica) {
        // Only a read-only request's queries are reads; a write's and a timer's are not counted.
        if (routing) counter.countRead('primary');
        return onPrimary(...args);
      }
      try {
        const result = await runMethod(replica.pool, method, args);
        counter.countRead('replica');
        return result;
      } catch (error) {
        const trouble = replicaTrouble(error);
        if (trouble === undefined) throw error;
        if (trouble === 'replica') replicas.failed(replica.name, error);
        // A statement that writes belongs to the primary, and so does what the request reads after it.
        else if (sqlState(error) === '25006') routing!.wrote = true;
        counter.countRead('primary');
        return onPrimary(...args);
      }
    };
  }
  // Whatever holds a connection may write with it: the primary, and the request counts as writing.
  const writing = <A extends unknown[], R>(run: (...args: A) => R) => {
    return (...args: A): R => {
      const routing = readRouting();
      if (routing) routing.wrote = true;
      return run(...args);
    };
  };
  methods.transaction = writing(primary.transaction.bind(primary));
  methods.connect = writing(primary.connect.bind(primary));
  // A stream (an export) is a long read: the primary keeps it consistent with what the client wrote.
  methods.stream = primary.stream.bind(primary);
  // end() and state() stay the primary's: the service ends the replica set itself.
  return Object.assign(Object.create(primary) as DatabasePool, methods);
}
