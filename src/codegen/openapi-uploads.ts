// OpenAPI for the presigned uploads (src/api/upload-routes.ts): POST /uploads, /uploads/{id}/parts,
// /complete, /abort, GET /uploads and /uploads/{id}, in every API version, and their schemas.
// Merged into the document by buildOpenApi (openapi.ts).
import { UPLOAD_ENTITY } from '../media/upload-entity.ts';
import { uploadEntities, MAX_SINGLE_PUT_BYTES } from '../media/upload-request.ts';
import { mediaFields } from '../media/media-fields.ts';
import { MAX_PART_URLS_PER_CALL, PART_URLS_LISTED } from '../media/uploads.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import { entitySchema, idPattern, type JsonSchema } from '../registry/json-schema.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('ErrorEnvelope')) });
const envelope = (data: JsonSchema, metadata = 'Metadata'): JsonSchema => ({
  type: 'object',
  required: ['data', 'metadata', 'errors'],
  properties: {
    data,
    metadata: typeof metadata === 'string' ? ref(metadata) : metadata,
    errors: { type: 'array', items: ref('Error'), maxItems: 0 },
  },
});

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The upload id (upl_…).',
  schema: { type: 'string', pattern: idPattern(UPLOAD_ENTITY.idPrefix) },
};

/** Which fields of which entities take uploads, for the descriptions. */
function takers(model: Model): string {
  return uploadEntities(model)
    .map(
      (entity) =>
        `${entity.name} (${mediaFields(entity)
          .map((f) => f.name)
          .join(', ')})`,
    )
    .join('; ');
}

function schemas(model: Model): Record<string, JsonSchema> {
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

function paths(
  model: Model,
  version: string,
  listParameters: (entity: EntityDef) => JsonSchema[],
): Record<string, JsonSchema> {
  const base = `/api/${version}/${UPLOAD_ENTITY.route}`;
  const tags = ['uploads'];
  const op = (name: string) => `${version}_${name}`;
  return {
    [base]: {
      post: {
        tags,
        operationId: op('presign_upload'),
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
      },
      get: {
        tags,
        operationId: op('list_uploads'),
        summary: 'Uploads, with the list query language (e.g. ?state=completed&entity=clip)',
        parameters: listParameters(UPLOAD_ENTITY),
        responses: {
          200: {
            description: 'A page of uploads',
            content: json(envelope({ type: 'array', items: ref('Upload') }, 'ListMetadata')),
          },
          400: errorResponse('Unknown field, operator or bad value'),
        },
      },
    },
    [`${base}/{id}`]: {
      get: {
        tags,
        operationId: op('get_upload'),
        summary: 'One upload',
        parameters: [idParameter],
        responses: {
          200: { description: 'The upload', content: json(envelope(ref('Upload'))) },
          404: errorResponse('No such upload'),
        },
      },
    },
    [`${base}/{id}/parts`]: {
      post: {
        tags,
        operationId: op('upload_part_urls'),
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
      },
    },
    [`${base}/{id}/complete`]: {
      post: {
        tags,
        operationId: op('complete_upload'),
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
      },
    },
    [`${base}/{id}/abort`]: {
      post: {
        tags,
        operationId: op('abort_upload'),
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
      },
    },
  };
}

/** Adds the upload routes of every API version and their schemas to the document's parts. */
export function addUploadPaths(
  model: Model,
  into: Record<string, JsonSchema>,
  schemasInto: Record<string, JsonSchema>,
  listParameters: (entity: EntityDef) => JsonSchema[],
): void {
  for (const version of model.apiVersions) Object.assign(into, paths(model, version.name, listParameters));
  Object.assign(schemasInto, schemas(model));
}

export const UPLOADS_TAG = {
  name: 'uploads',
  description: `${UPLOAD_ENTITY.description} Roles needed: read ${UPLOAD_ENTITY.permissions.read} (presign and complete need the target entity's create or update).`,
};
