// Operations routes, outside the API versions: liveness (/health: the process answers, nothing
// else, so a slow database never gets a healthy instance restarted), readiness (/ready: the
// database answers, every migration this build ships is applied, and the instance is not draining
// for shutdown) and Prometheus /metrics.
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
  /** True once shutdown began: /ready answers 503 so a load balancer stops sending. */
  readonly isDraining?: () => boolean;
}

export function opsRoutes({
  model,
  pool,
  logger,
  metrics,
  migrations = [],
  isDraining = () => false,
}: OpsOptions): Hono {
  const app = new Hono();
  const registry_version = model.registryVersion;

  app.get('/health', (c) => c.json({ status: 'ok', registry_version }));

  app.get('/ready', async (c) => {
    if (isDraining()) return c.json({ status: 'draining', registry_version }, 503);
    let applied: number[];
    try {
      applied = (await pool.anyFirst(sql.unsafe`SELECT version FROM reelmeta_migrations`)) as number[];
    } catch (error) {
      logger.warn({ err: error }, 'readiness: database unreachable');
      return c.json({ status: 'unavailable', database: 'unreachable', registry_version }, 503);
    }
    // Shutdown may have begun while the query ran: the answer says what holds when it is sent.
    if (isDraining()) return c.json({ status: 'draining', registry_version }, 503);
    const pending = migrations.filter((v) => !applied.includes(v));
    if (pending.length > 0) {
      return c.json(
        {
          status: 'unavailable',
          database: 'ok',
          migrations: 'pending',
          pending: pending.map((v) => String(v).padStart(4, '0')),
          registry_version,
        },
        503,
      );
    }
    return c.json({ status: 'ok', database: 'ok', migrations: 'applied', registry_version });
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  return app;
}
