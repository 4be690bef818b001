// Reading media: GET /api/v1/{plural}/{id}/media/{field} and /thumbnails/{size} → 302 to a
// short-lived presigned GET, after the caller's read permission. The service only presigns
// objects in the buckets it manages (media and thumbnails); presigning needs no S3 call, so the
// redirect costs one record read. Nothing is cached: each answer is a fresh URL (no-store).
import type { Context, Hono } from 'hono';
import type { EntityDef } from '../registry/model.ts';
import { fieldNamed, s3UriFields, valueAtPath } from '../media/media-fields.ts';
import { managedObject, MAX_READ_URL_SECONDS, thumbnailUri } from '../media/media-read.ts';
import { THUMBNAIL_SIZES } from '../registry/media.ts';
import type { MediaServices } from '../media/services.ts';
import { ownValue } from '../registry/own.ts';
import { allow } from './authorization.ts';
import { methodNotAllowed } from './envelope.ts';
import { ApiError } from '../records/errors.ts';
import { queryParams } from './params.ts';
import { requireMedia, type MediaRouteContext } from './media-context.ts';

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

export function mountMediaAccess(app: Hono, ctx: MediaRouteContext, entity: EntityDef, version: string): void {
  const item = `/api/${version}/${entity.route}/:id`;
  const actions = ctx.actionsOf.get(entity.name)!;
  const fields = s3UriFields(entity);
  const shape = () => ctx.shapeOf(version, entity.name);

  if (fields.length > 0) {
    const path = `${item}/media/:field`;
    app.get(path, allow(entity, 'read'), async (c) => {
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
    });
    app.all(path, methodNotAllowed(ctx.model, 'GET'));
  }

  const thumbnails = entity.thumbnails;
  if (thumbnails) {
    const path = `${item}/thumbnails/:size`;
    app.get(path, allow(entity, 'read'), async (c) => {
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
    });
    app.all(path, methodNotAllowed(ctx.model, 'GET'));
  }
}
