// The OpenAPI components of the presigned uploads (their routes are api/upload-routes.ts): the
// Upload, UploadPartUrl and PresignedUpload schemas, the uploads tag, and which fields take uploads.
import { UPLOAD_ENTITY } from '../../media/upload-entity.ts';
import { uploadEntities } from '../../media/upload-request.ts';
import { mediaFields } from '../../media/media-fields.ts';
import { PART_URLS_LISTED } from '../../media/uploads.ts';
import type { Model } from '../../registry/model.ts';
import { entitySchema, type JsonSchema } from '../../registry/json-schema.ts';
import { ref } from './components.ts';

/** Which fields of which entities take uploads, for the descriptions. */
export function takers(model: Model): string {
  return uploadEntities(model)
    .map(
      (entity) =>
        `${entity.name} (${mediaFields(entity)
          .map((f) => f.name)
          .join(', ')})`,
    )
    .join('; ');
}

/** The component schemas of uploads. */
export function uploadSchemas(model: Model): Record<string, JsonSchema> {
  const { $schema: _s, $id: _i, ...upload } = entitySchema(UPLOAD_ENTITY, model);
  const partUrl = {
    type: 'object',
    required: ['part_number', 'size', 'url'],
    properties: {
      part_number: { type: 'integer', minimum: 1 },
      size: { type: 'integer', description: 'Send exactly this many bytes to the URL.' },
      url: { type: 'string', format: 'uri' },
    },
  };
  return {
    Upload: upload,
    UploadPartUrl: partUrl,
    PresignedUpload: {
      allOf: [
        ref('Upload'),
        {
          type: 'object',
          description: 'Either `upload` (one PUT) or `multipart` (a PUT per part).',
          properties: {
            upload: {
              type: 'object',
              required: ['method', 'url', 'headers'],
              properties: {
                method: { const: 'PUT' },
                url: {
                  type: 'string',
                  format: 'uri',
                  description:
                    'Presigned: works for S3_PRESIGN_EXPIRES_SECONDS and only takes exactly these headers and size_bytes bytes.',
                },
                headers: {
                  type: 'object',
                  required: ['Content-Type', 'Content-Length'],
                  properties: { 'Content-Type': { type: 'string' }, 'Content-Length': { type: 'string' } },
                },
              },
            },
            multipart: {
              type: 'object',
              required: ['part_size', 'part_count', 'parts'],
              properties: {
                part_size: {
                  type: 'integer',
                  description: 'The size of every part but the last: max(UPLOAD_PART_SIZE_MB, size_bytes / 10,000).',
                },
                part_count: { type: 'integer' },
                parts: {
                  type: 'array',
                  items: ref('UploadPartUrl'),
                  maxItems: PART_URLS_LISTED,
                  description: `The first ${PART_URLS_LISTED} parts' URLs; the others from POST /uploads/{id}/parts.`,
                },
                more_parts: {
                  type: 'string',
                  description: `Present when there are more than ${PART_URLS_LISTED} parts: how to get their URLs.`,
                },
              },
            },
          },
        },
      ],
    },
  };
}

export const UPLOADS_TAG = {
  name: 'uploads',
  description: `${UPLOAD_ENTITY.description} Roles needed: read ${UPLOAD_ENTITY.permissions.read} (presign and complete need the target entity's create or update).`,
};
