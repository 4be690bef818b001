// The success and error envelope of seed 7.4.2: `{ data, metadata, errors }`.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { EntityDef, Model } from '../registry/model.ts';
import { listedProblems, type ApiProblem } from '../records/errors.ts';
import type { ListQuery } from '../query/ast.ts';
import type { ListPage } from '../db/records.ts';
import { encodeCursor } from '../query/cursor.ts';

export interface Metadata {
  readonly schema_version?: number;
  readonly registry_version: string;
  readonly timestamp: string;
  readonly [extra: string]: unknown;
}

export function metadata(
  model: Model,
  entity?: EntityDef,
  extra: Record<string, unknown> = {},
  schemaVersion = entity?.schemaVersion,
): Metadata {
  return {
    ...(schemaVersion !== undefined ? { schema_version: schemaVersion } : {}),
    registry_version: model.registryVersion,
    timestamp: new Date().toISOString(),
    ...extra,
  };
}

export interface SendOptions {
  readonly status?: ContentfulStatusCode;
  readonly entity?: EntityDef;
  /** The shape the data is in, when an older API version answers (default: the entity's current one). */
  readonly schemaVersion?: number;
  readonly extra?: Record<string, unknown>;
}

export function sendData(c: Context, model: Model, data: unknown, options: SendOptions = {}) {
  return c.json(
    { data, metadata: metadata(model, options.entity, options.extra, options.schemaVersion), errors: [] },
    options.status ?? 200,
  );
}

/**
 * The envelope around data that is already JSON text (a record built by PostgreSQL,
 * db/record-json.ts): spliced in as it is, never parsed and serialized again.
 */
export function sendJsonData(c: Context, model: Model, dataJson: string, options: SendOptions = {}) {
  const meta = JSON.stringify(metadata(model, options.entity, options.extra, options.schemaVersion));
  return c.body(`{"data":${dataJson},"metadata":${meta},"errors":[]}`, options.status ?? 200, {
    'Content-Type': 'application/json',
  });
}

/** The error envelope; past MAX_ERRORS_LISTED problems, metadata.error_count says how many there were. */
export function sendErrors(c: Context, model: Model, status: ContentfulStatusCode, problems: readonly ApiProblem[]) {
  // An older API version's routes name fields as it does (api-shape.ts).
  const problemOut = c.get('problemOut');
  const listed = listedProblems(problemOut ? problems.map(problemOut) : problems);
  const extra = problems.length > listed.length ? { error_count: problems.length } : {};
  return c.json({ data: null, metadata: metadata(model, undefined, extra), errors: listed }, status);
}

/** A route's other methods: 405 with an `Allow` header. */
export const methodNotAllowed = (model: Model, allowed: string) => (c: Context) => {
  c.header('Allow', allowed);
  return sendErrors(c, model, 405, [
    { code: 'METHOD_NOT_ALLOWED', message: `${c.req.method} is not allowed here; use ${allowed}`, field: null },
  ]);
};

/** A list page's metadata: limit, offset (offset paging), total and whether it is an estimate, next_cursor. */
export function pageMetadata(query: ListQuery, page: Pick<ListPage, 'total' | 'next'>): Record<string, unknown> {
  const extra: Record<string, unknown> = { limit: query.limit };
  if (!query.after) extra.offset = query.offset;
  if (page.total) {
    extra.total = page.total.total;
    extra.total_is_estimate = page.total.isEstimate;
  }
  if (page.next) extra.next_cursor = encodeCursor(query.sort, page.next);
  return extra;
}
