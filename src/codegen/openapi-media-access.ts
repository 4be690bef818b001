// OpenAPI for reading media (api/media-access-routes.ts): GET /{plural}/{id}/media/{field} for
// entities with s3_uri fields and GET /{plural}/{id}/thumbnails/{size} for those with thumbnails.
import { withArticle, type Model } from '../registry/model.ts';
import type { JsonSchema } from '../registry/json-schema.ts';
import { s3UriFields } from '../media/media-fields.ts';
import { MAX_READ_URL_SECONDS } from '../media/media-read.ts';
import { THUMBNAIL_SIZES } from '../registry/media.ts';

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const redirect = {
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

/** The media-reading paths of every version, for buildOpenApi. */
export function mediaAccessPaths(model: Model): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {};
  for (const version of model.apiVersions) {
    for (const entity of model.entities) {
      const item = `/api/${version.name}/${entity.route}/{id}`;
      const fields = s3UriFields(entity).map((f) => f.name);
      if (fields.length > 0) {
        paths[`${item}/media/{field}`] = {
          parameters: [
            idParam,
            {
              name: 'field',
              in: 'path',
              required: true,
              description: 'A file (s3_uri) field, by dotted path',
              schema: { enum: fields },
            },
          ],
          get: {
            tags: [entity.plural],
            operationId: `${version.name}_read_${entity.name}_media`,
            summary: `Download a file of ${withArticle(entity.name)}: a redirect to a short-lived presigned URL`,
            description:
              'Needs read on the entity. No S3 call is made: the URL is signed here; the object store answers the download.',
            responses: {
              302: redirect,
              404: errorResponse(
                'No such record (NOT_FOUND), no such file field (NOT_FOUND, the message lists them), or the field is empty (NO_MEDIA)',
              ),
              409: notManaged,
              503: unavailable,
            },
          },
        };
      }
      if (entity.thumbnails) {
        paths[`${item}/thumbnails/{size}`] = {
          parameters: [
            idParam,
            { name: 'size', in: 'path', required: true, schema: { enum: THUMBNAIL_SIZES.map((s) => s.label) } },
          ],
          get: {
            tags: [entity.plural],
            operationId: `${version.name}_read_${entity.name}_thumbnail`,
            summary: `Download a thumbnail of ${withArticle(entity.name)}: a redirect to a short-lived presigned URL`,
            description: `The image of this size listed in ${entity.thumbnails.status}.images. Needs read on the entity.`,
            responses: {
              302: redirect,
              404: errorResponse(
                'No such record or size (NOT_FOUND), or no thumbnail of this size yet (THUMBNAIL_NOT_READY, naming the job state)',
              ),
              409: notManaged,
              503: unavailable,
            },
          },
        };
      }
    }
  }
  return paths;
}
