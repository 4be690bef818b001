// The hono application: the middleware every request passes, the route table (route-table.ts) for every
// API version and the ops routes, and one error
// handler that turns every failure into the envelope (a client's mistake is never a 500).
import type { ExpirySweep } from '../records/expiry.ts';
import { Hono, type Context } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import { createAjv } from '../registry/ajv.ts';
import type { Model } from '../registry/model.ts';
import { buildOpenApi } from './openapi/document.ts';
import type { DatabasePool } from '../db/pool.ts';
import { docsAssets } from './docs.ts';
import { Metrics } from '../observability/metrics.ts';
import { matchedRoutes } from 'hono/route';
import { deprecationHeaders } from './api-shape.ts';
import { mountRoutes } from './route.ts';
import { createServices } from './route-services.ts';
import { routeTable } from './route-table.ts';
import { sendErrors } from './envelope.ts';
import { createClassifier } from '../records/failures.ts';
import type { RecordSettings } from '../records/settings.ts';
import type { AuthMode } from '../config.ts';
import type { TokenVerifier } from '../auth/cognito.ts';
import { FeedTokens } from '../auth/feed-tokens.ts';
import { actorOf, identifyCaller, refuseUnauthenticated } from './authentication.ts';
import { limitRequests, type RateLimitOptions } from './rate-limit.ts';
import { idempotentPosts, type IdempotencyOptions } from './idempotency.ts';
import { scopeToClient } from './client-gone.ts';
import { refuseMalformedQuery } from './params.ts';
import { limitBodies } from './body.ts';
import { withDeadline } from '../db/request-scope.ts';
import type { ReplicaSet } from '../db/replicas.ts';
import { readYourWrites } from './consistency.ts';
import type { MediaServices } from '../media/services.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface AppOptions {
  readonly model: Model;
  readonly pool: DatabasePool;
  readonly logger: Logger;
  /** Default: a registry of its own (without query timings, which come from the pool's interceptor). */
  readonly metrics?: Metrics;
  /** The migration versions this build ships, for /ready. */
  readonly migrations?: readonly number[];
  /** Settings the registry's options name (records/settings.ts); without them, the YAML's own values. */
  readonly settings?: RecordSettings;
  /** Default: AUTH_MODE=off (every caller anonymous with every role). */
  readonly auth?: { readonly mode: AuthMode; readonly verify?: TokenVerifier; readonly feeds?: FeedTokens };
  /** Default: no rate limiting. */
  readonly rateLimit?: RateLimitOptions;
  /** REQUEST_TIMEOUT_MS: how long an /api request may work (default 30 s; see db/work.ts). */
  readonly requestTimeoutMs?: number;
  /** True once shutdown began (see drain.ts): /ready answers 503 and answers close their connection. */
  readonly isDraining?: () => boolean;
  /** Default: keys kept 24 hours. */
  readonly idempotency?: IdempotencyOptions;
  /** Read replicas (DATABASE_REPLICA_URLS): `pool` routes reads to them; /ready shows their state. */
  readonly replicas?: ReplicaSet;
  /** Erases lapsed personal data (`expiry:`); the service runs its hourly sweep. */
  readonly expiry?: ExpirySweep;
  /** The object store and thumbnail jobs; without it, media routes answer 503 and media fields are not checked. */
  readonly media?: MediaServices;
}

export function createApp({
  model,
  pool,
  logger,
  settings,
  metrics = new Metrics(),
  migrations,
  auth = { mode: 'off' },
  rateLimit,
  isDraining = () => false,
  idempotency,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  media,
  expiry,
  replicas,
}: AppOptions): Hono {
  const app = new Hono({ strict: false });
  const ajv = createAjv();
  const openapi = buildOpenApi(model);
  const classify = createClassifier(model);
  const feeds = auth.feeds ?? new FeedTokens({ secret: undefined, days: 90 });
  const services = createServices({
    model,
    pool,
    feeds,
    ajv,
    classify,
    settings,
    media,
    ops: { logger, metrics, migrations: migrations ?? [], isDraining, ...(replicas ? { replicas } : {}) },
    openapi,
    ...(expiry ? { expiry } : {}),
  });

  // X-Request-Id: the client's (letters, digits, -, _, =; at most 200), else a new UUID; echoed back.
  app.use(requestId({ limitLength: 200 }));
  // A request whose client has gone never starts its database work (see db/bounded-pool.ts).
  app.use(scopeToClient);
  // One log line and one metrics observation per request. The route is the matched template;
  // bodies, tokens and headers other than the request id and actor are never logged.
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routeTemplate(c);
    metrics.observeRequest(c.req.method, route, c.res.status, seconds);
    logger.info(
      {
        request_id: c.get('requestId'),
        method: c.req.method,
        route,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        actor: actorOf(c),
      },
      'request',
    );
  });

  // While draining, a keep-alive client is told to reconnect (to another instance) after this answer.
  app.use(async (c, next) => {
    await next();
    if (isDraining()) c.header('Connection', 'close');
  });

  // Every /api route needs a caller (ops routes, /docs and /openapi.json are open), and each
  // caller has a request budget; requests with bad tokens spend their address's budget first.
  app.use('/api/*', identifyCaller(auth.mode, model, auth.verify, feeds));
  app.use('/api/*', limitRequests(model, rateLimit));
  app.use('/api/*', refuseUnauthenticated);
  app.use('/api/*', refuseMalformedQuery);
  // Every route's body is capped here, so no route can forget it (see body.ts).
  app.use(limitBodies);
  // Each request's database work ends by its deadline (see db/work.ts), the idempotency claim's included.
  // Reads may go to replicas, writes answer their WAL position (consistency.ts).
  if (replicas) app.use('/api/*', readYourWrites(pool));
  app.use('/api/*', (_c, next) => withDeadline(requestTimeoutMs, next));
  app.use('/api/*', idempotentPosts(pool, logger, idempotency));
  // An older API version's answers say so (and name the current one), whichever route answers.
  for (const version of model.apiVersions)
    app.use(`/api/${version.name}/*`, deprecationHeaders(version, model.apiVersions.at(-1)!));
  mountRoutes(app, model, routeTable(model), services);
  app.route('/', docsAssets());

  app.notFound((c) =>
    sendErrors(c, model, 404, [
      { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}`, field: null },
    ]),
  );

  app.onError((error, c) => {
    const known = classify(error, c.req.method);
    if (known) {
      if (known.retryAfter !== undefined) c.header('Retry-After', String(known.retryAfter));
      // The database being away is an operational condition, not a bug: a warning, without a stack.
      if (known.problems[0]?.code === 'DATABASE_UNAVAILABLE' || known.problems[0]?.code === 'COMMIT_UNCONFIRMED')
        logger.warn({ reason: error.message, method: c.req.method, path: c.req.path }, 'database unavailable');
      return sendErrors(c, model, known.status, known.problems);
    }
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error');
    return sendErrors(c, model, 500, [
      { code: 'INTERNAL_ERROR', message: 'internal error; it has been logged', field: null },
    ]);
  });

  return app;
}

/**
 * The registered path that answered (`/api/v1/episodes/:id`), or `unmatched`: never the raw path,
 * so labels stay few. Later routes may match too (`/clips/register` also matches `/clips/:id`'s
 * 405), so it is the route whose handler ran last; when a middleware answered (401, 413, 429), the
 * route the request was for.
 */
function routeTemplate(c: Context): string {
  const routes = matchedRoutes(c);
  const isRoute = (r: (typeof routes)[number] | undefined) =>
    r !== undefined && (r.method !== 'ALL' || !r.path.endsWith('*'));
  const answered = routes[c.req.routeIndex];
  if (isRoute(answered)) return answered!.path;
  return routes.filter(isRoute).at(-1)?.path ?? 'unmatched';
}
