// The request a database call is made for, without threading it through every store method: the
// pool (see bounded-pool.ts) reads its abort signal so a request whose client has gone never
// starts its queries, and stops waiting for a connection the moment the client leaves.
import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestScope {
  /** Aborted when the client closes its connection before the answer was sent. */
  readonly signal: AbortSignal;
}

const scope = new AsyncLocalStorage<RequestScope>();

export function inRequestScope<T>(signal: AbortSignal, work: () => T): T {
  return scope.run({ signal }, work);
}

/** The current request's signal; undefined outside a request (start-up, timers, the CLI). */
export function requestSignal(): AbortSignal | undefined {
  return scope.getStore()?.signal;
}
