// OpenAPI paths of the thumbnail jobs (src/api/thumbnail-routes.ts): POST /{plural}/{id}/thumbnails
// for each entity with a `thumbnails` block, and GET /jobs/{id}; merged into the document by
// buildOpenApi (openapi.ts) for each API version. Its own small helpers, so openapi.ts and this
// file do not import each other.
import { withArticle, type Model } from '../registry/model.ts';
import type { JsonSchema } from '../registry/json-schema.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('ErrorEnvelope')) });
const envelope = (data: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['data', 'metadata', 'errors'],
  properties: { data, metadata: ref('Metadata'), errors: { type: 'array', items: ref('Error'), maxItems: 0 } },
});

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

export function thumbnailPaths(model: Model, version: string): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {};
  for (const entity of model.entities) {
    if (!entity.thumbnails) continue;
    paths[`/api/${version}/${entity.route}/{id}/thumbnails`] = {
      post: {
        tags: [entity.plural],
        operationId: `${version}_thumbnails_${entity.name}`,
        summary: `Make ${withArticle(entity.name)}'s thumbnails again (asynchronous)`,
        description:
          `Queues a thumbnail job: the sources in the entity's order (${entity.thumbnails.sources.map((s) => s.kind).join(', ')}) give one image, rendered at 1280x720, 640x360 and 320x180 ` +
          `into the thumbnail bucket; the record's ${entity.thumbnails.status} follows the job (queued, running, retrying, done, failed) and ${entity.thumbnails.field} lists the files when done. ` +
          'Writes that change a source queue a job by themselves. Needs update permission.',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
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
      },
    };
  }
  paths[`/api/${version}/jobs/{id}`] = {
    get: {
      tags: ['jobs'],
      operationId: `${version}_get_job`,
      summary: 'A background job (a thumbnail job): its state, tries, output or error',
      description: "Needs read permission on the job's record's entity.",
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: { description: 'The job', content: json(envelope(job)) },
        404: errorResponse('No such job'),
        503: unavailable,
      },
    },
  };
  return paths;
}
