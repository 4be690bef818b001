// Thumbnail jobs over HTTP: POST /api/v1/{plural}/{id}/thumbnails queues a regeneration (202 with
// the job's address) and GET /api/v1/jobs/{id} shows a job, as route table entries. Also the
// entity's records as the thumbnail service sees them (ThumbnailRecords, from its actions and
// store; route-services.ts hands them over), so writes that change a source queue a job.
import type { Context } from 'hono';
import { withArticle, type EntityDef } from '../registry/model.ts';
import type { ThumbnailJobs, ThumbnailRecords } from '../media/services.ts';
import { ThumbnailRecordGone } from '../media/thumbnail-jobs.ts';
import { readOptionalJsonBody } from './body.ts';
import { actorOf } from './authentication.ts';
import { authorize } from './authorization.ts';
import type { EntityActions } from '../records/entity-actions.ts';
import { sendData } from './envelope.ts';
import { ApiError, notFound } from '../records/errors.ts';
import { requireMedia, type MediaRouteContext } from './media-context.ts';
import { queryParams } from './params.ts';
import { etagOf } from '../records/preconditions.ts';
import { isPlainObject } from '../records/record-input.ts';
import type { RecordStore } from '../db/records.ts';
import type { JsonSchema } from '../registry/json-schema.ts';
import { recordPath } from './paths.ts';
import type { Route } from './route.ts';
import { envelope, errorResponse, idParam, json } from './openapi/components.ts';

/** The longest frame time a caller may ask for (a day of video). */
const MAX_AT_SECONDS = 86_400;

/** The entity's records as the thumbnail service sees them. */
export function thumbnailRecords(entity: EntityDef, actions: EntityActions, store: RecordStore): ThumbnailRecords {
  return {
    entity,
    get: async (id) => {
      const record = await store.get(id);
      return record ? { record, version: store.versionOf(record) } : null;
    },
    writeServerOwned: async (id, values, version, actor) => {
      try {
        await actions.setServerOwned(id, values, 'update', undefined, {
          actor,
          requestId: null,
          ifMatch: version === undefined ? null : etagOf(version),
        });
        return true;
      } catch (error) {
        // 412: changed since it was read; 404: gone. Either way the caller reads it again.
        if (error instanceof ApiError && (error.status === 412 || error.status === 404)) return false;
        throw error;
      }
    },
    onWriting: (hook) => actions.addRule(async (values, current) => hook(values, current ?? null)),
    onCommitted: (listener) => actions.onCommitted(listener),
  };
}

function parseAt(value: unknown, field: string): number {
  const at = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0 || at > MAX_AT_SECONDS) {
    throw ApiError.single(
      field === 'at' ? 400 : 422,
      field === 'at' ? 'INVALID_QUERY' : 'VALIDATION_ERROR',
      `${field} must be a number of seconds from 0 to ${MAX_AT_SECONDS}`,
      field,
    );
  }
  return at;
}

/** `?at=` or a body `{at_seconds}`; neither: the source's own time. */
async function atSecondsOf(c: Context): Promise<number | undefined> {
  const at = queryParams(c, ['at']).get('at');
  const body = await readOptionalJsonBody(c);
  if (body !== undefined && !isPlainObject(body))
    throw ApiError.single(422, 'VALIDATION_ERROR', 'the body must be an object such as {"at_seconds": 2}');
  if (body !== undefined) {
    const unknown = Object.keys(body).filter((key) => key !== 'at_seconds');
    if (unknown.length > 0)
      throw ApiError.single(422, 'VALIDATION_ERROR', `unknown field ${unknown[0]}; allowed: at_seconds`, unknown[0]!);
  }
  const given = body?.at_seconds;
  if (at !== null && given !== undefined)
    throw ApiError.single(400, 'INVALID_QUERY', 'give the frame time once: ?at= or at_seconds in the body', 'at');
  if (at !== null) return parseAt(at, 'at');
  if (given !== undefined) return parseAt(given, 'at_seconds');
  return undefined;
}

function requireThumbnails(ctx: MediaRouteContext): ThumbnailJobs {
  const thumbnails = requireMedia(ctx).thumbnails;
  if (!thumbnails) throw ApiError.single(503, 'MEDIA_UNAVAILABLE', 'this service runs without the thumbnail job queue');
  return thumbnails;
}

const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'];

const queued: JsonSchema = {
  type: 'object',
  required: ['job_id', 'state', 'location'],
  properties: {
    job_id: { type: 'string', format: 'uuid' },
    state: { const: 'queued' },
    location: { type: 'string', description: 'GET it to follow the job.' },
  },
};

const job: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'state', 'data', 'output', 'retry_count', 'retry_limit'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string', description: 'The queue: thumbnails.' },
    state: {
      type: 'string',
      enum: JOB_STATES,
      description:
        'created (waiting), active (running), retry (a try failed; another is due, with backoff), completed, failed (no tries left, or an error no retry would help).',
    },
    data: { type: 'object', description: '{entity, id, at_seconds?}: the record the job makes thumbnails for.' },
    output: {
      description:
        'What the job returned ({source, images}, or {skipped}); while retrying or once failed, {message, error, non_retryable}.',
    },
    retry_count: { type: 'integer', minimum: 0 },
    retry_limit: { type: 'integer', minimum: 0 },
    created_at: { type: ['string', 'null'], format: 'date-time' },
    started_at: { type: ['string', 'null'], format: 'date-time' },
    completed_at: { type: ['string', 'null'], format: 'date-time' },
    error: { type: 'string', description: "The last try's error, while retrying or once failed." },
  },
};

const unavailable = errorResponse('MEDIA_UNAVAILABLE: this service runs without an object store or job queue');

/** POST /{plural}/{id}/thumbnails of an entity with a `thumbnails` block: makes them again. */
export function thumbnailRoutes(entity: EntityDef, version: string): Route[] {
  const thumbnails = entity.thumbnails;
  if (!thumbnails) return [];
  return [
    {
      method: 'post',
      path: `${recordPath(version, entity)}/thumbnails`,
      operationId: `${version}_thumbnails_${entity.name}`,
      summary: `Make ${withArticle(entity.name)}'s thumbnails again (asynchronous)`,
      description:
        `Queues a thumbnail job: the sources in the entity's order (${thumbnails.sources.map((s) => s.kind).join(', ')}) give one image, rendered at 1280x720, 640x360 and 320x180 ` +
        `into the thumbnail bucket; the record's ${thumbnails.status} follows the job (queued, running, retrying, done, failed) and ${thumbnails.field} lists the files when done. ` +
        'Writes that change a source queue a job by themselves. Needs update permission.',
      tags: [entity.plural],
      parameters: [
        idParam,
        {
          name: 'at',
          in: 'query',
          required: false,
          description: "A frame source's time in seconds (default: the source's at_seconds).",
          schema: { type: 'number', minimum: 0 },
        },
      ],
      requestBody: {
        required: false,
        content: json({
          type: 'object',
          additionalProperties: false,
          properties: { at_seconds: { type: 'number', minimum: 0, description: 'Like ?at=.' } },
        }),
      },
      responses: {
        202: {
          description: 'Queued; Location is the job',
          headers: { Location: { schema: { type: 'string' } } },
          content: json(envelope(queued)),
        },
        400: errorResponse('A bad ?at= value'),
        404: errorResponse('No such record'),
        422: errorResponse('A bad body'),
        503: unavailable,
      },
      permission: [[entity, 'update']],
      handler: (ctx) => {
        const actions = ctx.actionsOf.get(entity.name)!;
        return async (c) => {
          const thumbnails = requireThumbnails(ctx);
          const atSeconds = await atSecondsOf(c);
          const id = await actions.requireLiveId(c.req.param('id') ?? '');
          let jobId: string;
          try {
            jobId = await thumbnails.request(entity, id, {
              ...(atSeconds === undefined ? {} : { atSeconds }),
              actor: actorOf(c, 200),
            });
          } catch (error) {
            // Deleted between the look-up and the status write.
            if (error instanceof ThumbnailRecordGone) throw notFound(entity.name, id);
            throw error;
          }
          const location = `/api/${version}/jobs/${jobId}`;
          c.header('Location', location);
          return sendData(c, ctx.model, { job_id: jobId, state: 'queued', location }, { status: 202 });
        };
      },
    },
  ];
}

/** GET /jobs/{id}: a job, for a caller who may read its record's entity. */
export function jobRoutes(version: string): Route[] {
  return [
    {
      method: 'get',
      path: `/api/${version}/jobs/:id`,
      operationId: `${version}_get_job`,
      summary: 'A background job (a thumbnail job): its state, tries, output or error',
      description: "Needs read permission on the job's record's entity.",
      tags: ['jobs'],
      parameters: [idParam],
      responses: {
        200: { description: 'The job', content: json(envelope(job)) },
        404: errorResponse('No such job'),
        503: unavailable,
      },
      handler: (ctx) => async (c) => {
        const thumbnails = requireThumbnails(ctx);
        queryParams(c, []);
        const id = c.req.param('id') ?? '';
        const job = await thumbnails.job(id);
        const data = job?.data;
        const entityName = isPlainObject(data) && typeof data.entity === 'string' ? data.entity : undefined;
        const entity = entityName === undefined ? undefined : ctx.model.entities.find((e) => e.name === entityName);
        if (!job || !entity) throw ApiError.single(404, 'NOT_FOUND', `job ${id} not found`);
        authorize(c, entity, 'read');
        return sendData(c, ctx.model, job);
      },
    },
  ];
}
