// Operations routes, outside the API versions: liveness (/health: the process answers, nothing
// else, so a slow database never gets a healthy instance restarted), readiness (/ready: the
// database answers, every migration this build ships is applied, and the instance is not draining
// for shutdown), Prometheus /metrics and this service's OpenAPI document, as route table entries.
import { sql } from 'slonik';
import type { Route } from './route.ts';
import { json, ref } from './openapi/components.ts';

/** /health, /ready, /metrics and /openapi.json (the human reference /docs is docs.ts). */
export function opsRoutes(): Route[] {
  const tags = ['ops'];
  return [
    {
      method: 'get',
      path: '/health',
      operationId: 'health',
      summary: 'Liveness: the process answers (no database round trip)',
      tags,
      responses: { 200: { description: 'Alive', content: json(ref('Health')) } },
      handler:
        ({ model }) =>
        (c) =>
          c.json({ status: 'ok', registry_version: model.registryVersion }),
    },
    {
      method: 'get',
      path: '/ready',
      operationId: 'ready',
      summary:
        'Readiness: the database answers and every migration this build ships is applied; 503 while shutting down',
      tags,
      responses: {
        200: {
          description: 'Ready',
          content: json({
            type: 'object',
            properties: {
              status: { const: 'ok' },
              database: { type: 'string' },
              migrations: { type: 'string' },
              registry_version: { type: 'string' },
              replicas: {
                type: 'array',
                description:
                  'With DATABASE_REPLICA_URLS: each read replica, whether reads go to it (in_rotation) or why not (lagging, down, not_a_replica), and its lag',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    state: { enum: ['in_rotation', 'lagging', 'down', 'not_a_replica'] },
                    lag_ms: { type: ['number', 'null'] },
                    replay_lsn: { type: ['string', 'null'] },
                    reason: { type: 'string' },
                  },
                },
              },
            },
          }),
        },
        503: {
          description:
            'The database is unreachable, migrations are pending (listed), or the instance is draining for shutdown',
          content: json({ type: 'object' }),
        },
      },
      handler: ({ model, pool, ops }) => {
        const { logger, migrations, isDraining, replicas } = ops;
        const registry_version = model.registryVersion;
        return async (c) => {
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
          // Replicas out of rotation do not make the instance unready: their reads go to the primary.
          return c.json({
            status: 'ok',
            database: 'ok',
            migrations: 'applied',
            registry_version,
            ...(replicas ? { replicas: replicas.status() } : {}),
          });
        };
      },
    },
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary:
        'Prometheus metrics: request durations by route template, method and status; errors; query timings; pool; process',
      tags,
      responses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
      handler:
        ({ ops: { metrics } }) =>
        async (c) => {
          c.header('Content-Type', metrics.registry.contentType);
          return c.body(await metrics.registry.metrics());
        },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tags,
      responses: { 200: { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
      handler:
        ({ openapi }) =>
        (c) =>
          c.json(openapi),
    },
  ];
}
