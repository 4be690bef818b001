// Graceful HTTP shutdown: stop accepting connections, let in-flight requests finish (closing each
// keep-alive connection once it goes idle), and after `timeoutMs` cut whatever is still open, so a
// stuck request cannot hold the process past its orchestrator's kill deadline.
import type { Server } from 'node:http';
import type { Logger } from 'pino';

/** How often idle keep-alive connections are swept while draining. */
const SWEEP_MS = 50;

export async function drainServer(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // server.close() only closes connections idle at that moment; one whose request finishes later
  // becomes idle afterwards (the answer also carries Connection: close, see app.ts).
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    if ((await Promise.race([closed.then(() => 'drained' as const), deadline])) === 'timeout') {
      logger.warn(
        { timeout_ms: timeoutMs },
        'shutdown: requests still in flight after SHUTDOWN_TIMEOUT_MS; closing their connections',
      );
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
