// Notices when the client closes its connection before the answer was sent, so the database
// work done for it stops (see db/request-scope.ts). Under @hono/node-server it listens to the
// response itself (reading c.req.raw.signal would build a full Request for every call).
import type { ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { inRequestScope } from '../db/request-scope.ts';

function watchClient(c: Context): (clientGone: () => void) => void {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing) return (clientGone) => c.req.raw.signal.addEventListener('abort', clientGone, { once: true });
  return (clientGone) =>
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) clientGone();
    });
}

/** Runs the rest of the request in a scope whose database calls end when its client leaves. */
export const scopeToClient: MiddlewareHandler = (c, next) => inRequestScope(watchClient(c), next);
