// Operations routes, outside the API versions: liveness (/health), readiness (/ready: the
// database answers and every migration this build ships is applied) and Prometheus /metrics.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { sql } from 'slonik';
import type { DatabasePool } from '../db/pool.ts';
import type { Model } from '../registry/model.ts';
import type { Metrics } from '../observability/metrics.ts';

export interface OpsOptions {
  readonly model: Model;
  readonly pool: DatabasePool;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The migration versions this build ships; /ready waits until all are applied. */
  readonly migrations?: readonly number[];
}

export function opsRoutes({ model, pool, logger, metrics, migrations = [] }: OpsOptions): Hono {
  const app = new Hono();
  const registry_version = model.registryVersion;

  app.get('/health', async (c) => {
    try {
      await pool.oneFirst(sql.unsafe`SELECT 1`);
      return c.json({ status: 'ok', database: 'ok', registry_version });
    } catch (error) {
      logger.error({ err: error }, 'health check: database unreachable');
      return c.json({ status: 'unavailable', database: 'unreachable', registry_version }, 503);
    }
  });

  app.get('/ready', async (c) => {
    let applied: number[];
    try {
      applied = (await pool.anyFirst(sql.unsafe`SELECT version FROM reelmeta_migrations`)) as number[];
    } catch (error) {
      logger.warn({ err: error }, 'readiness: database unreachable');
      return c.json({ status: 'unavailable', database: 'unreachable', registry_version }, 503);
    }
    const pending = migrations.filter((v) => !applied.includes(v));
    if (pending.length > 0) {
      return c.json({ status: 'unavailable', database: 'ok', migrations: 'pending', pending: pending.map((v) => String(v).padStart(4, '0')), registry_version }, 503);
    }
    return c.json({ status: 'ok', database: 'ok', migrations: 'applied', registry_version });
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  return app;
}
