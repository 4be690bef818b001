// The hono application: generic entity routes for every API version, ops routes, and one error
// handler that turns every failure into the envelope (a client's mistake is never a 500).
import { Hono } from 'hono';
import type { Logger } from 'pino';
import {
  CheckIntegrityConstraintViolationError,
  ForeignKeyIntegrityConstraintViolationError,
  NotNullIntegrityConstraintViolationError,
  UniqueIntegrityConstraintViolationError,
} from 'slonik';
import { sql } from 'slonik';
import { createAjv } from '../registry/ajv.ts';
import type { Model } from '../registry/model.ts';
import { objectName, uniqueIndexName } from '../codegen/table-spec.ts';
import { buildOpenApi } from '../codegen/openapi.ts';
import type { DatabasePool } from '../db/pool.ts';
import { QueryError } from '../query/problems.ts';
import { docsRoutes } from './docs.ts';
import { entityRoutes } from './entity-routes.ts';
import { sendData, sendErrors } from './envelope.ts';
import { ApiError, type ApiProblem } from './errors.ts';

export interface AppOptions {
  readonly model: Model;
  readonly pool: DatabasePool;
  readonly logger: Logger;
}

/** Unique index name → its entity and fields, for a 409 that names them. */
function uniqueSets(model: Model) {
  const sets = new Map<string, { entity: string; fields: readonly string[] }>();
  for (const entity of model.entities) for (const set of entity.unique) sets.set(uniqueIndexName(entity, set), { entity: entity.name, fields: set });
  return sets;
}

/** Foreign-key constraint name → the ref field it guards. */
function foreignKeys(model: Model) {
  const keys = new Map<string, { entity: string; plural: string; field: string; target: string }>();
  for (const entity of model.entities) {
    for (const field of entity.fields) {
      if (field.type === 'ref' && field.storage === 'column') {
        keys.set(objectName(entity.table, field.name, 'fkey'), { entity: entity.name, plural: entity.plural, field: field.name, target: field.to! });
      }
    }
  }
  return keys;
}

export function createApp({ model, pool, logger }: AppOptions): Hono {
  const app = new Hono({ strict: false });
  const ajv = createAjv();
  const openapi = buildOpenApi(model);
  const refs = foreignKeys(model);
  const unique = uniqueSets(model);

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
  for (const version of model.apiVersions) app.route('/', entityRoutes(model, pool, ajv, version));

  app.notFound((c) => sendErrors(c, model, 404, [{ code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}`, field: null }]));

  app.onError((error, c) => {
    const known = classify(error, refs, unique, c.req.method);
    if (known) return sendErrors(c, model, known.status, known.problems);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error');
    return sendErrors(c, model, 500, [{ code: 'INTERNAL_ERROR', message: 'internal error; it has been logged', field: null }]);
  });

  return app;
}

type Classified = { status: 400 | 404 | 405 | 409 | 413 | 415 | 422; problems: readonly ApiProblem[] };

/** The SQLSTATE of a database error, wherever it sits in the cause chain. */
function sqlState(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

function classify(error: Error, refs: ReturnType<typeof foreignKeys>, unique: ReturnType<typeof uniqueSets>, method: string): Classified | undefined {
  if (error instanceof ApiError) return { status: error.status as Classified['status'], problems: error.problems };
  if (error instanceof QueryError) {
    return { status: 400, problems: error.problems.map((p) => ({ code: 'INVALID_QUERY', message: `${p.field}: ${p.message}`, field: p.field })) };
  }
  if (error instanceof ForeignKeyIntegrityConstraintViolationError) {
    const ref = refs.get(error.constraint ?? '');
    const detail = String((error.cause as { detail?: string } | undefined)?.detail ?? '');
    if (ref && detail.includes('still referenced')) {
      return { status: 409, problems: [{ code: 'CONFLICT', message: `still referenced by ${ref.plural} (${ref.field}); delete or reassign those first`, field: null }] };
    }
    return {
      status: 409,
      problems: [{ code: 'CONFLICT', message: `${ref?.field ?? 'a reference'} refers to a ${ref?.target ?? 'record'} that does not exist`, field: ref?.field ?? null }],
    };
  }
  if (error instanceof UniqueIntegrityConstraintViolationError) {
    const set = unique.get(error.constraint ?? '');
    if (set) {
      const names = set.fields.length > 1 ? `${set.fields.slice(0, -1).join(', ')} and ${set.fields.at(-1)}` : set.fields[0];
      return {
        status: 409,
        problems: [{ code: 'CONFLICT', message: `another ${set.entity} already has the same ${names}`, field: set.fields.length === 1 ? set.fields[0]! : null }],
      };
    }
    return { status: 409, problems: [{ code: 'CONFLICT', message: `a record with these values already exists (${error.constraint ?? 'unique'})`, field: null }] };
  }
  if (error instanceof CheckIntegrityConstraintViolationError || error instanceof NotNullIntegrityConstraintViolationError) {
    return { status: 422, problems: [{ code: 'VALIDATION_ERROR', message: `the database refused the values (${error.constraint ?? 'constraint'})`, field: null }] };
  }
  // Class 22, data exception: a value PostgreSQL cannot hold that validation let through.
  if (sqlState(error)?.startsWith('22')) {
    const detail = (error.cause instanceof Error ? error.cause.message : error.message).split('\n')[0];
    return method === 'GET'
      ? { status: 400, problems: [{ code: 'INVALID_QUERY', message: `a query value cannot be used: ${detail}`, field: null }] }
      : { status: 422, problems: [{ code: 'VALIDATION_ERROR', message: `a value cannot be stored: ${detail}`, field: null }] };
  }
  return undefined;
}

