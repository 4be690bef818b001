// Thumbnail jobs over HTTP: POST /api/v1/{plural}/{id}/thumbnails queues a regeneration (202 with
// the job's address) and GET /api/v1/jobs/{id} shows a job. Mounting an entity's route also hands
// the thumbnail service that entity's records (ThumbnailRecords, built here from its actions and
// store), so its writes that change a thumbnail source queue a job after they commit.
import type { Context, Hono } from 'hono';
import type { EntityDef } from '../registry/model.ts';
import type { ThumbnailJobs, ThumbnailRecords } from '../media/services.ts';
import { ThumbnailRecordGone } from '../media/thumbnail-jobs.ts';
import { readOptionalJsonBody } from './body.ts';
import { actorOf } from './authentication.ts';
import { allow, authorize } from './authorization.ts';
import type { EntityActions } from '../records/entity-actions.ts';
import { methodNotAllowed, sendData } from './envelope.ts';
import { ApiError, notFound } from '../records/errors.ts';
import { requireMedia, type MediaRouteContext } from './media-context.ts';
import { queryParams } from './params.ts';
import { etagOf } from '../records/preconditions.ts';
import { isPlainObject } from '../records/record-input.ts';
import type { RecordStore } from '../db/records.ts';

/** The longest frame time a caller may ask for (a day of video). */
const MAX_AT_SECONDS = 86_400;

/** The entity's records as the thumbnail service sees them. */
function thumbnailRecords(entity: EntityDef, actions: EntityActions, store: RecordStore): ThumbnailRecords {
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

export function mountThumbnails(app: Hono, ctx: MediaRouteContext, entity: EntityDef, version: string): void {
  if (!entity.thumbnails) return;
  const actions = ctx.actionsOf.get(entity.name)!;
  ctx.media?.thumbnails?.attach(thumbnailRecords(entity, actions, ctx.stores.get(entity.name)!));
  const path = `/api/${version}/${entity.route}/:id/thumbnails`;
  app.post(path, allow(entity, 'update'), async (c) => {
    const thumbnails = requireThumbnails(ctx);
    const atSeconds = await atSecondsOf(c);
    const { id } = await actions.requireLive(c.req.param('id') ?? '');
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
  });
  app.all(path, methodNotAllowed(ctx.model, 'POST'));
}

export function mountJobs(app: Hono, ctx: MediaRouteContext, version: string): void {
  const path = `/api/${version}/jobs/:id`;
  app.get(path, async (c) => {
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
  });
  app.all(path, methodNotAllowed(ctx.model, 'GET'));
}
