// Whether a failure means "the database cannot be reached right now" (down, restarting, refusing
// connections, the connection dropped) rather than anything about the request: the API answers
// those with 503 and Retry-After, and the pool reconnects on its own once the server is back.
import { BackendTerminatedError, BackendTerminatedUnexpectedlyError, ConnectionError } from 'slonik';

/** Socket errors seen when the server is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs: class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up or shutting down), 53300 too_many_connections.
 */
const unavailableState = (code: string) => code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);

/** node-postgres reports a dropped or timed-out connection in words only. */
const DROPPED = /^Connection terminated|connection timeout|timeout expired|Client has encountered a connection error/i;

function* chain(error: unknown, depth = 0): Generator<Error> {
  if (!(error instanceof Error) || depth > 10) return;
  yield error;
  // Connecting to a host with several addresses fails with an AggregateError of each attempt.
  if (error instanceof AggregateError) for (const inner of error.errors) yield* chain(inner, depth + 1);
  yield* chain(error.cause, depth + 1);
}

/**
 * No connection became free, or could be opened, within DB_CONNECT_TIMEOUT_MS: the database is
 * unreachable or every pooled connection is busy. The request gave up before doing anything.
 */
export class ConnectionWaitTimeout extends Error {
  override readonly name = 'ConnectionWaitTimeout';
  constructor(readonly timeoutMs: number) {
    super(
      `no database connection within ${timeoutMs} ms (DB_CONNECT_TIMEOUT_MS): the database is unreachable or every connection is busy`,
    );
  }
}

/** The client closed its connection before the request got a database connection: nothing was run. */
export class RequestAbandoned extends Error {
  override readonly name = 'RequestAbandoned';
  constructor() {
    super('the client closed the connection before the request reached the database; nothing was run');
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof ConnectionWaitTimeout) return true;
    if (
      e instanceof ConnectionError ||
      e instanceof BackendTerminatedError ||
      e instanceof BackendTerminatedUnexpectedlyError
    )
      return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && unavailableState(code))))
      return true;
    if (DROPPED.test(e.message)) return true;
  }
  return false;
}

/** Seconds a client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;
