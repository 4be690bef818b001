// Presigned uploads (seed 8.2) over HTTP: POST /api/{v}/uploads (presign), /uploads/{id}/parts
// (more part URLs of a multipart upload), /uploads/{id}/complete, /uploads/{id}/abort, and the
// upload list GET /uploads (the list query language) and GET /uploads/{id}. The work is the
// UploadService's (src/media/uploads.ts); here are roles, bodies and answers.
import type { Context, Hono } from 'hono';
import { parseListQuery } from '../query/list-query.ts';
import { idPattern } from '../codegen/json-schema.ts';
import { UPLOAD_ENTITY } from '../media/upload-entity.ts';
import { UploadRefused } from '../media/upload-refused.ts';
import { parseUploadRequest } from '../media/upload-request.ts';
import { UploadService } from '../media/uploads.ts';
import { writeMeta } from './audit-routes.ts';
import { actorOf } from './authentication.ts';
import { allow, authorize, authorizeQuery, unreadableCounts, withoutFields } from './authorization.ts';
import { countFieldReaches } from '../query/reach.ts';
import { readJsonBody, readOptionalJsonBody } from './body.ts';
import { warningsMetadata } from './duplicates.ts';
import { methodNotAllowed, pageMetadata, sendData } from './envelope.ts';
import { ApiError, notFound } from './errors.ts';
import { requireMedia, sendRecord, type MediaRouteContext } from './media-context.ts';
import { queryParams } from './params.ts';
import { etagOf } from './preconditions.ts';

/** As long as the upload row's created_by column holds. */
const ACTOR_MAX = 300;

/** One service per app (every API version shares it), made when a route first needs it. */
const services = new WeakMap<MediaRouteContext, UploadService>();

function serviceOf(ctx: MediaRouteContext): UploadService {
  let service = services.get(ctx);
  if (!service) {
    const media = requireMedia(ctx);
    service = new UploadService({
      pool: ctx.pool,
      storage: media.storage,
      settings: media.settings,
      model: ctx.model,
      writesOf: (name) => ctx.actionsOf.get(name),
    });
    services.set(ctx, service);
  }
  return service;
}

/** The service's refusals in the error envelope. */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UploadRefused) throw ApiError.single(error.status, error.code, error.message, error.field);
    throw error;
  }
}

const uploadIdShape = new RegExp(idPattern(UPLOAD_ENTITY.idPrefix));

export function mountUploads(app: Hono, ctx: MediaRouteContext, version: string): void {
  const base = `/api/${version}/${UPLOAD_ENTITY.route}`;
  const item = `${base}/:id`;
  const send = (c: Context, data: unknown, options: Parameters<typeof sendData>[3] = {}) =>
    sendData(c, ctx.model, data, { entity: UPLOAD_ENTITY, ...options });
  const idOf = (c: Context): string => {
    const id = c.req.param('id') ?? '';
    if (!uploadIdShape.test(id)) throw notFound('upload', id);
    return id;
  };
  const entityOf = (name: string) => {
    const entity = ctx.model.entities.find((e) => e.name === name);
    if (!entity) throw ApiError.single(409, 'CONFLICT', `${name} is no longer an entity of the registry`);
    return entity;
  };

  app.post(base, async (c) => {
    queryParams(c, []);
    const body = await readJsonBody(c);
    const service = serviceOf(ctx);
    const parsed = await answering(async () => parseUploadRequest(ctx.model, body));
    // Updating a record needs update; an upload that creates its record on complete needs create.
    authorize(c, parsed.entity, parsed.id === null ? 'create' : 'update');
    // Defaults are a record body in this API version's shape, like a POST's.
    const shape = ctx.shapeOf(version, parsed.entity.name);
    const request =
      parsed.defaults === null || shape.isCurrent
        ? parsed
        : { ...parsed, defaults: shape.bodyIn(parsed.defaults) as Record<string, unknown> };
    const presigned = await answering(() => service.presign(request, actorOf(c, ACTOR_MAX)));
    c.header('Location', `${base}/${presigned.id}`);
    return send(c, presigned, { status: 201 });
  });

  app.get(base, allow(UPLOAD_ENTITY, 'read'), async (c) => {
    const service = serviceOf(ctx);
    const query = parseListQuery(UPLOAD_ENTITY, new URL(c.req.url).search.slice(1), [UPLOAD_ENTITY]);
    authorizeQuery(c, UPLOAD_ENTITY, query, [UPLOAD_ENTITY]);
    const page = await service.uploads.records.list(query);
    return send(c, page.records, { extra: pageMetadata(query, page) });
  });

  app.get(item, allow(UPLOAD_ENTITY, 'read'), async (c) => {
    const id = idOf(c);
    queryParams(c, []);
    const upload = await serviceOf(ctx).uploads.get(id);
    if (!upload) throw notFound('upload', id);
    return send(c, upload);
  });

  app.post(`${item}/parts`, async (c) => {
    const id = idOf(c);
    queryParams(c, []);
    const body = await readJsonBody(c);
    const parts = await answering(() => serviceOf(ctx).moreParts(id, body, actorOf(c, ACTOR_MAX)));
    return send(c, parts);
  });

  app.post(`${item}/complete`, async (c) => {
    const id = idOf(c);
    queryParams(c, []);
    const body = await readOptionalJsonBody(c);
    const service = serviceOf(ctx);
    const pending = await service.uploads.get(id);
    if (!pending) throw notFound('upload', id);
    const entity = entityOf(pending.entity);
    // The write checks it too (meta.permit); checked first so a refusal costs no S3 call.
    authorize(c, entity, pending.record_id === null ? 'create' : 'update');
    const done = await answering(() =>
      service.complete(id, body, actorOf(c, ACTOR_MAX), writeMeta(c, pending.record_id !== null)),
    );
    const rowVersion = ctx.actionsOf.get(entity.name)?.versionOf(done.record);
    if (rowVersion) c.header('ETag', etagOf(rowVersion));
    if (done.created) c.header('Location', `/api/${version}/${entity.route}/${done.record.id}`);
    // As the entity's own routes answer it: count fields over records the caller may not read left out.
    const hidden = unreadableCounts(c, countFieldReaches(entity, ctx.model.entities), ctx.model.entities);
    const record = withoutFields(ctx.shapeOf(version, entity.name).recordOut(done.record), hidden);
    return sendRecord(ctx, c, version, entity, record, {
      status: done.created ? 201 : 200,
      extra: { upload: done.upload, ...warningsMetadata(done.warnings as Parameters<typeof warningsMetadata>[0]) },
    });
  });

  app.post(`${item}/abort`, async (c) => {
    const id = idOf(c);
    queryParams(c, []);
    await readOptionalJsonBody(c);
    const { upload, leftover } = await answering(() => serviceOf(ctx).abort(id, actorOf(c, ACTOR_MAX)));
    return send(c, upload, { extra: leftover ? { leftover } : {} });
  });

  const notAllowed = (allowed: string) => methodNotAllowed(ctx.model, allowed);
  app.all(base, notAllowed('GET, POST'));
  app.all(`${item}/parts`, notAllowed('POST'));
  app.all(`${item}/complete`, notAllowed('POST'));
  app.all(`${item}/abort`, notAllowed('POST'));
  app.all(item, notAllowed('GET'));
}
