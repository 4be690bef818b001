// The hono application: generic entity routes for every API version, ops routes, and one error
// handler that turns every failure into the envelope (a client's mistake is never a 500).
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import { sql } from 'slonik';
import { createAjv } from '../registry/ajv.ts';
import type { Model } from '../registry/model.ts';
import { buildOpenApi } from '../codegen/openapi.ts';
import type { DatabasePool } from '../db/pool.ts';
import { docsRoutes } from './docs.ts';
import { entityRoutes } from './entity-routes.ts';
import { sendData, sendErrors } from './envelope.ts';
import { createClassifier } from './failures.ts';
import type { DomainSettings } from '../domain/index.ts';

export interface AppOptions {
  readonly model: Model;
  readonly pool: DatabasePool;
  readonly logger: Logger;
  readonly domain?: DomainSettings;
}

export function createApp({ model, pool, logger, domain }: AppOptions): Hono {
  const app = new Hono({ strict: false });
  const ajv = createAjv();
  const openapi = buildOpenApi(model);
  const classify = createClassifier(model);

  // X-Request-Id: the client's (letters, digits, -, _, =; at most 200), else a new UUID; echoed back.
  app.use(requestId({ limitLength: 200 }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    logger.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });

  app.get('/health', async (c) => {
    try {
      await pool.oneFirst(sql.unsafe`SELECT 1`);
      return c.json({ status: 'ok', database: 'ok', registry_version: model.registryVersion });
    } catch (error) {
      logger.error({ err: error }, 'health check: database unreachable');
      return c.json({ status: 'unavailable', database: 'unreachable', registry_version: model.registryVersion }, 503);
    }
  });
  app.get('/openapi.json', (c) => c.json(openapi));
  app.route('/', docsRoutes());
  app.route('/', entityRoutes(model, pool, ajv, classify, domain));

  app.notFound((c) => sendErrors(c, model, 404, [{ code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}`, field: null }]));

  app.onError((error, c) => {
    const known = classify(error, c.req.method);
    if (known) return sendErrors(c, model, known.status, known.problems);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error');
    return sendErrors(c, model, 500, [{ code: 'INTERNAL_ERROR', message: 'internal error; it has been logged', field: null }]);
  });

  return app;
}

