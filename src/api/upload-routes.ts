// Presigned uploads (seed 8.2) over HTTP: POST /api/{v}/uploads (presign), /uploads/{id}/parts
// (more part URLs of a multipart upload), /uploads/{id}/complete, /uploads/{id}/abort, and the
// upload list GET /uploads (the list query language) and GET /uploads/{id}, as route table entries.
// The work is the UploadService's (src/media/uploads.ts); here are roles, bodies and answers.
import type { Context } from 'hono';
import { parseListQuery } from '../query/list-query.ts';
import { idPattern } from '../registry/json-schema.ts';
import { UPLOAD_ENTITY } from '../media/upload-entity.ts';
import { UploadRefused } from '../media/upload-refused.ts';
import { MAX_SINGLE_PUT_BYTES, parseUploadRequest } from '../media/upload-request.ts';
import { MAX_PART_URLS_PER_CALL, UploadService } from '../media/uploads.ts';
import type { Model } from '../registry/model.ts';
import { writeMeta } from './audit-routes.ts';
import { actorOf } from './authentication.ts';
import { authorize, authorizeQuery, unreadableCounts, withoutFields } from './authorization.ts';
import { countFieldReaches } from '../query/reach.ts';
import { readJsonBody, readOptionalJsonBody } from './body.ts';
import { warningsMetadata } from '../records/duplicates.ts';
import { pageMetadata, sendData } from './envelope.ts';
import { ApiError, notFound } from '../records/errors.ts';
import { requireMedia, sendRecord, type MediaRouteContext } from './media-context.ts';
import { queryParams } from './params.ts';
import { etagOf } from '../records/preconditions.ts';
import type { Parameter, Route } from './route.ts';
import { envelope, errorResponse, json, ref } from './openapi/components.ts';
import { listParameters } from './openapi/list-parameters.ts';
import { takers } from './openapi/uploads.ts';

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

const idParameter: Parameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The upload id (upl_…).',
  schema: { type: 'string', pattern: idPattern(UPLOAD_ENTITY.idPrefix) },
};

const send = (ctx: MediaRouteContext, c: Context, data: unknown, options: Parameters<typeof sendData>[3] = {}) =>
  sendData(c, ctx.model, data, { entity: UPLOAD_ENTITY, ...options });

const idOf = (c: Context): string => {
  const id = c.req.param('id') ?? '';
  if (!uploadIdShape.test(id)) throw notFound('upload', id);
  return id;
};

export function uploadRoutes(model: Model, version: string): Route[] {
  const base = `/api/${version}/${UPLOAD_ENTITY.route}`;
  const item = `${base}/:id`;
  const tags = ['uploads'];
  const op = (name: string) => `${version}_${name}`;
  return [
    {
      method: 'post',
      path: base,
      operationId: op('presign_upload'),
      tags,
      summary: 'Presign an upload of a file into a media field of a record',
      description:
        `Fields that take uploads: ${takers(model)}. With \`id\`, completing sets the field on that record (needs update); without, completing creates the record from \`defaults\` plus the field (needs create; \`defaults\` are validated now). ` +
        'The key comes from the field’s key template only. A file up to UPLOAD_MULTIPART_THRESHOLD_MB gets one presigned PUT (`upload`), a larger one a multipart upload (`multipart`, a URL per part). ' +
        `Each URL signs its exact Content-Length (and the PUT its Content-Type), so S3 refuses any other body; one PUT takes at most ${MAX_SINGLE_PUT_BYTES} bytes. The upload expires after UPLOAD_EXPIRES_HOURS.`,
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['entity', 'field', 'filename', 'content_type', 'size_bytes'],
          additionalProperties: false,
          properties: {
            entity: { type: 'string', description: 'An entity name or plural, e.g. clip or clips.' },
            id: { type: 'string', description: 'The record the file is for; leave out to create one on complete.' },
            field: { type: 'string', description: 'The media field, a dotted path, e.g. file_reference.' },
            filename: {
              type: 'string',
              minLength: 1,
              maxLength: 255,
              description: 'A file name: no "/" or "\\", not "." or "..", no control characters.',
            },
            content_type: {
              type: 'string',
              description: 'A type the field accepts; the PUT must send exactly this Content-Type.',
            },
            size_bytes: {
              type: 'integer',
              minimum: 1,
              description: "At most the field's max_bytes; the PUT must send exactly this many bytes.",
            },
            sha256: {
              type: 'string',
              pattern: '^[0-9a-fA-F]{64}$',
              description: 'When given, complete reads the object and compares.',
            },
            defaults: {
              type: 'object',
              description: 'Without id: the other fields of the record completing creates.',
            },
          },
        }),
      },
      responses: {
        201: { description: 'Presigned; Location names the upload', content: json(envelope(ref('PresignedUpload'))) },
        400: errorResponse('The body is not a JSON object'),
        404: errorResponse('No live record with this id'),
        422: errorResponse(
          'UNKNOWN_ENTITY, UNKNOWN_FIELD, INVALID_FILENAME, MEDIA_TYPE_NOT_ALLOWED, MEDIA_TOO_LARGE or VALIDATION_ERROR (also a default that a create would refuse); the message says what is accepted',
        ),
        503: errorResponse('S3_UNAVAILABLE: the object store does not answer (Retry-After), or MEDIA_UNAVAILABLE'),
      },
      // Updating a record needs update; an upload that creates its record on complete needs create.
      handler: (ctx) => async (c) => {
        queryParams(c, []);
        const body = await readJsonBody(c);
        const service = serviceOf(ctx);
        const parsed = await answering(async () => parseUploadRequest(ctx.model, body));
        authorize(c, parsed.entity, parsed.id === null ? 'create' : 'update');
        // Defaults are a record body in this API version's shape, like a POST's.
        const shape = ctx.shapeOf(version, parsed.entity.name);
        const request =
          parsed.defaults === null || shape.isCurrent
            ? parsed
            : { ...parsed, defaults: shape.bodyIn(parsed.defaults) as Record<string, unknown> };
        const presigned = await answering(() => service.presign(request, actorOf(c, ACTOR_MAX)));
        c.header('Location', `${base}/${presigned.id}`);
        return send(ctx, c, presigned, { status: 201 });
      },
    },
    {
      method: 'get',
      path: base,
      operationId: op('list_uploads'),
      tags,
      summary: 'Uploads, with the list query language (e.g. ?state=completed&entity=clip)',
      parameters: listParameters(UPLOAD_ENTITY),
      responses: {
        200: {
          description: 'A page of uploads',
          content: json(envelope(ref('Upload'), true)),
        },
        400: errorResponse('Unknown field, operator or bad value'),
      },
      permission: [[UPLOAD_ENTITY, 'read']],
      handler: (ctx) => async (c) => {
        const service = serviceOf(ctx);
        const query = parseListQuery(UPLOAD_ENTITY, new URL(c.req.url).search.slice(1), [UPLOAD_ENTITY]);
        authorizeQuery(c, UPLOAD_ENTITY, query, [UPLOAD_ENTITY]);
        const page = await service.uploads.records.list(query);
        return send(ctx, c, page.records, { extra: pageMetadata(query, page) });
      },
    },
    {
      method: 'get',
      path: item,
      operationId: op('get_upload'),
      tags,
      summary: 'One upload',
      parameters: [idParameter],
      responses: {
        200: { description: 'The upload', content: json(envelope(ref('Upload'))) },
        404: errorResponse('No such upload'),
      },
      permission: [[UPLOAD_ENTITY, 'read']],
      handler: (ctx) => async (c) => {
        const id = idOf(c);
        queryParams(c, []);
        const upload = await serviceOf(ctx).uploads.get(id);
        if (!upload) throw notFound('upload', id);
        return send(ctx, c, upload);
      },
    },
    {
      method: 'post',
      path: `${item}/parts`,
      operationId: op('upload_part_urls'),
      tags,
      summary: 'Presigned URLs for more parts of a multipart upload',
      parameters: [idParameter],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['part_numbers'],
          properties: {
            part_numbers: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_PART_URLS_PER_CALL,
              items: { type: 'integer', minimum: 1 },
            },
          },
        }),
      },
      responses: {
        200: {
          description: 'One URL per part asked for',
          content: json(envelope({ type: 'array', items: ref('UploadPartUrl') })),
        },
        403: errorResponse('Another caller presigned this upload'),
        404: errorResponse('No such upload'),
        409: errorResponse('NOT_MULTIPART, UPLOAD_COMPLETED or UPLOAD_ABORTED'),
        410: errorResponse('UPLOAD_EXPIRED'),
        422: errorResponse('A part number outside 1..part_count'),
      },
      handler: (ctx) => async (c) => {
        const id = idOf(c);
        queryParams(c, []);
        const body = await readJsonBody(c);
        const parts = await answering(() => serviceOf(ctx).moreParts(id, body, actorOf(c, ACTOR_MAX)));
        return send(ctx, c, parts);
      },
    },
    {
      method: 'post',
      path: `${item}/complete`,
      operationId: op('complete_upload'),
      tags,
      summary: "Complete an upload: the file is checked in S3 and set on the record through the entity's write path",
      description:
        'Multipart: send `{"parts": [{"part_number", "etag"}]}` with the ETag each part PUT answered; S3 joins them. The object is then HEADed (and hashed when sha256 was declared); ' +
        "only a file of exactly the declared size and type is set, in one transaction with the upload's state, validated and audited like a PATCH (If-Match applies), with the media's size and ETag fields. " +
        'Answers the record in its entity’s envelope (201 when completing created it), the upload in metadata.upload.',
      parameters: [
        idParameter,
        {
          name: 'If-Match',
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: "The record's ETag, when updating",
        },
      ],
      requestBody: {
        required: false,
        content: json({
          type: 'object',
          properties: {
            parts: {
              type: 'array',
              items: {
                type: 'object',
                required: ['part_number', 'etag'],
                properties: { part_number: { type: 'integer' }, etag: { type: 'string' } },
              },
            },
          },
        }),
      },
      responses: {
        200: {
          description: 'The updated record',
          content: json(envelope({ type: 'object', description: "The record, in its entity's schema" })),
        },
        201: {
          description: 'The record completing created',
          content: json(envelope({ type: 'object', description: "The record, in its entity's schema" })),
        },
        403: errorResponse('Another caller presigned this upload'),
        404: errorResponse('No such upload'),
        409: errorResponse(
          'UPLOAD_INCOMPLETE (no object yet, or S3 could not join the parts), UPLOAD_MISMATCH (size, type or SHA-256 differ: declared and found named), UPLOAD_COMPLETED, UPLOAD_ABORTED; nothing was written',
        ),
        410: errorResponse('UPLOAD_EXPIRED'),
        412: errorResponse('If-Match does not match the record'),
        422: errorResponse('The record would not validate, or the parts list is malformed'),
        503: errorResponse('S3_UNAVAILABLE (Retry-After)'),
      },
      handler: (ctx) => async (c) => {
        const id = idOf(c);
        queryParams(c, []);
        const body = await readOptionalJsonBody(c);
        const service = serviceOf(ctx);
        const pending = await service.uploads.get(id);
        if (!pending) throw notFound('upload', id);
        const entity = ctx.model.entities.find((e) => e.name === pending.entity);
        if (!entity) throw ApiError.single(409, 'CONFLICT', `${pending.entity} is no longer an entity of the registry`);
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
      },
    },
    {
      method: 'post',
      path: `${item}/abort`,
      operationId: op('abort_upload'),
      tags,
      summary: 'Abort a pending upload: S3 drops its parts and any object left at its key',
      parameters: [idParameter],
      responses: {
        200: {
          description: 'The aborted upload (metadata.leftover when S3 could not remove everything)',
          content: json(envelope(ref('Upload'))),
        },
        403: errorResponse('Another caller presigned this upload'),
        404: errorResponse('No such upload'),
        409: errorResponse('UPLOAD_COMPLETED or UPLOAD_ABORTED'),
        410: errorResponse('UPLOAD_EXPIRED'),
      },
      handler: (ctx) => async (c) => {
        const id = idOf(c);
        queryParams(c, []);
        await readOptionalJsonBody(c);
        const { upload, leftover } = await answering(() => serviceOf(ctx).abort(id, actorOf(c, ACTOR_MAX)));
        return send(ctx, c, upload, { extra: leftover ? { leftover } : {} });
      },
    },
  ];
}
