// The request a database call is made for, without threading it through every store method:
// - whether its client has gone: the pool (bounded-pool.ts) never starts a call's queries once
//   the client left, and a call queued for a connection stops waiting the moment it leaves;
// - its deadline (REQUEST_TIMEOUT_MS): past it no query runs and a write transaction's
//   statements may not outlive it (work.ts).
// A plain flag and listeners, not an AbortSignal: every request pays for this scope.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The client side of the current request, as the pool sees it. */
export interface RequestClient {
  /** True once the client closed its connection before the answer was sent. */
  readonly gone: boolean;
  /** Calls `listener` when the client goes; the returned function stops listening. */
  onGone(listener: () => void): () => void;
}

class RequestScope implements RequestClient {
  gone = false;
  /** Epoch milliseconds; unset outside /api routes. */
  deadline?: number;
  /** False once the route answered: a streamed body (an export) is not cut by the deadline. */
  open = true;
  /** Where this request's reads may go (replicas.ts); unset: the primary, as for every write. */
  reads?: ReadRouting;
  private listeners?: Set<() => void>;

  onGone(listener: () => void): () => void {
    this.listeners ??= new Set();
    this.listeners.add(listener);
    return () => this.listeners?.delete(listener);
  }

  /** The client left: tell whoever waits for it. */
  leave(): void {
    if (this.gone) return;
    this.gone = true;
    for (const listener of this.listeners ?? []) listener();
    this.listeners = undefined;
  }
}

/**
 * A read-only request (GET, HEAD) may read from a replica, one that has replayed `afterLsn` when the
 * client holds a consistency token; once it writes (a transaction), the rest reads the primary.
 */
export interface ReadRouting {
  readonly afterLsn?: bigint;
  wrote: boolean;
}

const scope = new AsyncLocalStorage<RequestScope>();

/** Lets the current request read from replicas (after `afterLsn`, when given). */
export function allowReplicaReads(afterLsn: bigint | undefined): void {
  const current = scope.getStore();
  if (current) current.reads = { ...(afterLsn !== undefined ? { afterLsn } : {}), wrote: false };
}

/** The current request's read routing, when it may read from replicas. */
export function readRouting(): ReadRouting | undefined {
  return scope.getStore()?.reads;
}

/** Runs `work` as a request; `watch` is handed the function to call when its client goes. */
export function inRequestScope<T>(watch: (clientGone: () => void) => void, work: () => T): T {
  const current = new RequestScope();
  watch(() => current.leave());
  return scope.run(current, work);
}

/** The current request's client; undefined outside a request (start-up, timers, the CLI). */
export function requestClient(): RequestClient | undefined {
  return scope.getStore();
}

/** Runs the rest of a request's handling under a deadline `timeoutMs` from now. */
export async function withDeadline<T>(timeoutMs: number, handle: () => Promise<T>): Promise<T> {
  const existing = scope.getStore();
  const current = existing ?? new RequestScope();
  current.deadline = Date.now() + timeoutMs;
  try {
    return await (existing ? handle() : scope.run(current, handle));
  } finally {
    current.open = false;
  }
}

/** Milliseconds left before the current request's deadline; undefined outside one. */
export function remainingMs(): number | undefined {
  const current = scope.getStore();
  return current?.open && current.deadline !== undefined ? current.deadline - Date.now() : undefined;
}
