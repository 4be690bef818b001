// Reading media: GET /api/v1/{plural}/{id}/media/{field} and /thumbnails/{size} → 302 to a
// short-lived presigned GET, after the caller's read permission. The service only presigns
// objects in the buckets it manages (media and thumbnails); presigning needs no S3 call, so the
// redirect costs one record read. Nothing is cached: each answer is a fresh URL (no-store).
import type { Context } from 'hono';
import { withArticle, type EntityDef } from '../registry/model.ts';
import { fieldNamed, s3UriFields } from '../media/media-fields.ts';
import { valueAtPath } from '../registry/own.ts';
import { managedObject, MAX_READ_URL_SECONDS, thumbnailUri } from '../media/media-read.ts';
import { THUMBNAIL_SIZES } from '../registry/media.ts';
import type { MediaServices } from '../media/services.ts';
import { ownValue } from '../registry/own.ts';
import { ApiError } from '../records/errors.ts';
import { queryParams } from './params.ts';
import { requireMedia, type MediaRouteContext } from './media-context.ts';
import { recordPath } from './paths.ts';
import type { ResponseDoc, Route } from './route.ts';
import { errorResponse, idParam } from './openapi/components.ts';

/** 302 to a presigned GET of a URI in a managed bucket; 409 NOT_MANAGED for any other. */
async function redirectTo(c: Context, media: MediaServices, uri: string, what: string): Promise<Response> {
  const { storage } = media;
  const object = managedObject(uri, [storage.bucket, storage.thumbnailBucket]);
  if (!object) {
    throw ApiError.single(
      409,
      'NOT_MANAGED',
      `${what} is ${uri}, which is not in a bucket this service manages (${storage.bucket}, ${storage.thumbnailBucket}); read it from where it is`,
    );
  }
  const url = await storage.presignGet(object.bucket, object.key, {
    filename: object.filename,
    expiresIn: Math.min(storage.presignExpiresSeconds, MAX_READ_URL_SECONDS),
  });
  c.header('Cache-Control', 'no-store');
  return c.redirect(url, 302);
}

const redirect: ResponseDoc = {
  description: `Found: Location is a presigned GET of the object (valid at most S3_PRESIGN_EXPIRES_SECONDS, and at most ${MAX_READ_URL_SECONDS} s); Cache-Control: no-store`,
  headers: {
    Location: { schema: { type: 'string', format: 'uri' } },
    'Cache-Control': { schema: { const: 'no-store' } },
  },
};
const unavailable = errorResponse('This service runs without an object store (MEDIA_UNAVAILABLE)');
const notManaged = errorResponse(
  'NOT_MANAGED: the URI is not in a bucket this service manages (media or thumbnail bucket); the message names it',
);

/** GET {item}/media/{field} for an entity with file fields, GET {item}/thumbnails/{size} for one with thumbnails. */
export function mediaAccessRoutes(entity: EntityDef, version: string): Route[] {
  const item = recordPath(version, entity);
  const fields = s3UriFields(entity);
  const routes: Route[] = [];
  const context = (ctx: MediaRouteContext) => ({
    actions: ctx.actionsOf.get(entity.name)!,
    shape: () => ctx.shapeOf(version, entity.name),
  });

  if (fields.length > 0) {
    routes.push({
      method: 'get',
      path: `${item}/media/:field`,
      operationId: `${version}_read_${entity.name}_media`,
      summary: `Download a file of ${withArticle(entity.name)}: a redirect to a short-lived presigned URL`,
      description:
        'Needs read on the entity. No S3 call is made: the URL is signed here; the object store answers the download.',
      tags: [entity.plural],
      parameters: [
        idParam,
        {
          name: 'field',
          in: 'path',
          required: true,
          description: 'A file (s3_uri) field, by dotted path',
          schema: { enum: fields.map((f) => f.name) },
        },
      ],
      responses: {
        302: redirect,
        404: errorResponse(
          'No such record (NOT_FOUND), no such file field (NOT_FOUND, the message lists them), or the field is empty (NO_MEDIA)',
        ),
        409: notManaged,
        503: unavailable,
      },
      permission: [[entity, 'read']],
      handler: (ctx) => {
        const { actions, shape } = context(ctx);
        return async (c) => {
          queryParams(c, []);
          const asked = c.req.param('field') ?? '';
          const field = fieldNamed(fields, shape().isCurrent ? asked : shape().pathIn(asked, 'field'));
          if (!field)
            throw ApiError.single(
              404,
              'NOT_FOUND',
              `${asked} is not a file field of ${entity.name}; its file fields are: ${fields.map((f) => f.name).join(', ')}`,
              'field',
            );
          const media = requireMedia(ctx);
          const record = await actions.requireLive(c.req.param('id') ?? '');
          const value = valueAtPath(record, field.path);
          if (typeof value !== 'string' || value === '')
            throw ApiError.single(404, 'NO_MEDIA', `${entity.name} ${record.id} has no ${field.name}`, field.name);
          return redirectTo(c, media, value, `${field.name} of ${entity.name} ${record.id}`);
        };
      },
    });
  }

  const thumbnails = entity.thumbnails;
  if (thumbnails) {
    routes.push({
      method: 'get',
      path: `${item}/thumbnails/:size`,
      operationId: `${version}_read_${entity.name}_thumbnail`,
      summary: `Download a thumbnail of ${withArticle(entity.name)}: a redirect to a short-lived presigned URL`,
      description: `The image of this size listed in ${thumbnails.status}.images. Needs read on the entity.`,
      tags: [entity.plural],
      parameters: [
        idParam,
        { name: 'size', in: 'path', required: true, schema: { enum: THUMBNAIL_SIZES.map((s) => s.label) } },
      ],
      responses: {
        302: redirect,
        404: errorResponse(
          'No such record or size (NOT_FOUND), or no thumbnail of this size yet (THUMBNAIL_NOT_READY, naming the job state)',
        ),
        409: notManaged,
        503: unavailable,
      },
      permission: [[entity, 'read']],
      handler: (ctx) => {
        const { actions } = context(ctx);
        return async (c) => {
          queryParams(c, []);
          const asked = c.req.param('size') ?? '';
          const size = THUMBNAIL_SIZES.find((s) => s.label === asked);
          if (!size)
            throw ApiError.single(
              404,
              'NOT_FOUND',
              `no thumbnail size ${asked}; the sizes are ${THUMBNAIL_SIZES.map((s) => s.label).join(', ')}`,
              'size',
            );
          const media = requireMedia(ctx);
          const record = await actions.requireLive(c.req.param('id') ?? '');
          const found = thumbnailUri(ownValue(record, thumbnails.status), size);
          if ('state' in found) {
            throw ApiError.single(
              404,
              'THUMBNAIL_NOT_READY',
              `${entity.name} ${record.id} has no ${size.label} thumbnail yet (${thumbnails.status}.state: ${found.state}); POST /api/${version}/${entity.route}/${record.id}/thumbnails makes them`,
            );
          }
          return redirectTo(c, media, found.uri, `the ${size.label} thumbnail of ${entity.name} ${record.id}`);
        };
      },
    });
  }
  return routes;
}
