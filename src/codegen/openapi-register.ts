// OpenAPI for POST /api/{version}/{plural}/register (api/register-routes.ts): one operation per
// entity with media fields, its body, the per-key result and the NDJSON progress stream.
import type { ApiVersionDef, EntityDef, Model } from '../registry/model.ts';
import type { JsonSchema } from '../registry/json-schema.ts';
import { mediaFields } from '../media/media-fields.ts';
import { DEFAULT_REGISTER_KEYS, MAX_PREFIX_LENGTH, MAX_REGISTER_KEYS } from '../media/register.ts';

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
});

const KEY_RESULT: JsonSchema = {
  type: 'object',
  required: ['key', 'uri', 'size', 'etag', 'status'],
  properties: {
    key: { type: 'string' },
    uri: { type: 'string', description: 'The s3:// URI written into the field' },
    size: { type: 'integer' },
    etag: { type: 'string' },
    status: { enum: ['created', 'exists', 'would_create', 'failed'] },
    id: { type: 'string', description: 'The record created, or the live record that already holds the URI' },
    warnings: {
      type: 'array',
      items: { $ref: '#/components/schemas/Warning' },
      description: 'Possible duplicates of a created record (it was still created)',
    },
    errors: {
      type: 'array',
      items: { $ref: '#/components/schemas/Error' },
      description: 'Why the key failed (the run went on)',
    },
  },
};

const SUMMARY: JsonSchema = {
  type: 'object',
  properties: {
    prefix: { type: 'string' },
    field: { type: 'string' },
    dry_run: { type: 'boolean' },
    listed: { type: 'integer', description: 'Objects handled (folder markers ending in / are skipped)' },
    created: { type: 'integer' },
    exists: { type: 'integer' },
    would_create: { type: 'integer' },
    failed: { type: 'integer' },
    truncated: { type: 'boolean', description: 'The run stopped before the end of the listing' },
    truncated_by: {
      enum: ['max_keys', 'deadline'],
      description:
        'max_keys: more objects than max_keys; deadline: a JSON answer stopped before REQUEST_TIMEOUT_MS (run again, or stream NDJSON)',
    },
    error: {
      $ref: '#/components/schemas/Error',
      description: 'NDJSON only: the object store or database failed mid-run; keys done so far stay done',
    },
  },
};

function registerPath(entity: EntityDef, version: ApiVersionDef): JsonSchema {
  const fields = mediaFields(entity).map((f) => f.name);
  return {
    post: {
      tags: [entity.plural],
      operationId: `${version.name}_register_${entity.plural}`,
      summary: `Register existing objects of the media bucket as ${entity.plural}`,
      description:
        `Lists the prefix (ListObjectsV2, paged) and creates one ${entity.name} per object through the normal create (validation, rules, audit, duplicate warnings), ` +
        "with the object's s3:// URI in `field` and its size and ETag in the field's size and ETag fields. Idempotent: a key whose URI a live record already holds is `exists` " +
        '(concurrent runs lock each URI). Each key is its own transaction; a failing key is `failed` and the run goes on. `defaults` is checked once, before listing. ' +
        'Needs read and create. With `Accept: application/x-ndjson` the answer streams one result per line as each key is done, then `{"summary": {...}}`; ' +
        'errors before the first key (bad body, 403, S3 unavailable) are the error envelope either way.',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['prefix'],
              additionalProperties: false,
              properties: {
                prefix: {
                  type: 'string',
                  minLength: 1,
                  maxLength: MAX_PREFIX_LENGTH,
                  description: 'Key prefix in the media bucket, without a leading /',
                },
                field: {
                  enum: fields,
                  description:
                    fields.length === 1 ? 'The media field to fill (may be left out)' : 'The media field to fill',
                },
                defaults: { type: 'object', description: `Values every created ${entity.name} starts from` },
                dry_run: {
                  type: 'boolean',
                  default: false,
                  description: 'List and look up only: would_create or exists, nothing written',
                },
                max_keys: { type: 'integer', minimum: 1, maximum: MAX_REGISTER_KEYS, default: DEFAULT_REGISTER_KEYS },
              },
            },
          },
        },
      },
      responses: {
        200: {
          description: 'One result per key (metadata: the summary), or the NDJSON stream',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['data', 'metadata', 'errors'],
                properties: {
                  data: { type: 'array', items: KEY_RESULT },
                  metadata: SUMMARY,
                  errors: { type: 'array', maxItems: 0 },
                },
              },
            },
            'application/x-ndjson': {
              schema: {
                type: 'string',
                description:
                  'One JSON object per line: each key\'s result as in `data`, in key order, then `{"summary": {...}}` with the fields of the JSON answer\'s metadata',
              },
            },
          },
        },
        400: errorResponse('Not a register body, an unknown key, or max_keys out of range'),
        422: errorResponse(
          'prefix missing or malformed, field not a media field (the message lists them), or defaults that would not make a valid record',
        ),
        503: errorResponse(
          'The object store is unavailable (S3_UNAVAILABLE, Retry-After), or this service runs without one (MEDIA_UNAVAILABLE)',
        ),
      },
    },
  };
}

/** The register paths of every version, for buildOpenApi. */
export function registerPaths(model: Model): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {};
  for (const version of model.apiVersions) {
    for (const entity of model.entities) {
      if (mediaFields(entity).length > 0)
        paths[`/api/${version.name}/${entity.route}/register`] = registerPath(entity, version);
    }
  }
  return paths;
}
