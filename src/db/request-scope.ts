// The request a database call is made for, without threading it through every store method:
// - its abort signal: the pool (bounded-pool.ts) never starts a call's queries once the client
//   has gone, and stops waiting for a connection the moment it leaves;
// - its deadline (REQUEST_TIMEOUT_MS): past it no query runs and a write transaction's
//   statements may not outlive it (work.ts).
import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestScope {
  /** Aborted when the client closes its connection before the answer was sent. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds; unset outside /api routes. */
  deadline?: number;
  /** False once the route answered: a streamed body (an export) is not cut by the deadline. */
  open: boolean;
}

const scope = new AsyncLocalStorage<RequestScope>();

export function inRequestScope<T>(signal: AbortSignal, work: () => T): T {
  return scope.run({ signal, open: true }, work);
}

/** The current request's signal; undefined outside a request (start-up, timers, the CLI). */
export function requestSignal(): AbortSignal | undefined {
  return scope.getStore()?.signal;
}

/** Runs the rest of a request's handling under a deadline `timeoutMs` from now. */
export async function withDeadline<T>(timeoutMs: number, handle: () => Promise<T>): Promise<T> {
  const current = scope.getStore() ?? { signal: new AbortController().signal, open: true };
  current.deadline = Date.now() + timeoutMs;
  try {
    return await (scope.getStore() === current ? handle() : scope.run(current, handle));
  } finally {
    current.open = false;
  }
}

/** Milliseconds left before the current request's deadline; undefined outside one. */
export function remainingMs(): number | undefined {
  const current = scope.getStore();
  return current?.open && current.deadline !== undefined ? current.deadline - Date.now() : undefined;
}
