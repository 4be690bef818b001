// Registering existing keys (seed 8.2, bulk import): POST /api/v1/{plural}/register, for entities
// with at least one media field. The run itself is media/register.ts; this is its HTTP edge:
// permissions, the body in the API version's shape, and the answer, either the JSON envelope
// with a status per key or, with `Accept: application/x-ndjson`, one line per key as it is done
// and a last `{"summary": …}` line. Anything wrong before the first key (the body, a 403, S3
// down) is the normal error envelope.
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import { remainingMs } from '../db/request-scope.ts';
import type { EntityDef } from '../registry/model.ts';
import { mediaFields } from '../media/media-fields.ts';
import {
  checkDefaults,
  DEFAULT_REGISTER_KEYS,
  MAX_PREFIX_LENGTH,
  MAX_REGISTER_KEYS,
  parseRegisterBody,
  Registration,
  RegistrationStopped,
  type KeyOutcome,
  type RegisterDeps,
} from '../media/register.ts';
import { writeMeta } from './audit-routes.ts';
import { readJsonBody } from './body.ts';
import { sendErrors } from './envelope.ts';
import { isPlainObject } from '../records/record-input.ts';
import { queryParams } from './params.ts';
import { requireMedia, sendRecord } from './media-context.ts';
import type { JsonSchema } from '../registry/json-schema.ts';
import { collectionPath } from './paths.ts';
import type { RouteEntry } from './route.ts';
import { errorResponse } from './openapi/components.ts';

/** A JSON answer stops taking new keys this long before the request's deadline, to answer in time. */
const DEADLINE_SLACK_MS = 2000;

const wantsNdjson = (c: Context) => /application\/x-ndjson/i.test(c.req.header('accept') ?? '');

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

/** POST /{plural}/register for an entity with media fields; for any other, a clear 404 there. */
export function registerRoutes(entity: EntityDef, version: string): RouteEntry[] {
  const path = `${collectionPath(version, entity)}/register`;
  const fields = mediaFields(entity).map((f) => f.name);
  if (fields.length === 0) {
    // Not a route of this entity (nothing documents it): a clear 404 rather than /{plural}/:id's 405.
    return [
      {
        path,
        fallback: (ctx) => (c) =>
          sendErrors(c, ctx.model, 404, [
            {
              code: 'NOT_FOUND',
              message: `${entity.plural} have no media fields, so there is nothing to register`,
              field: null,
            },
          ]),
      },
    ];
  }
  return [
    {
      method: 'post',
      path,
      operationId: `${version}_register_${entity.plural}`,
      tags: [entity.plural],
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
      // Looking up records on file needs read, making them create.
      permission: [
        [entity, 'read'],
        [entity, 'create'],
      ],
      handler: (ctx) => async (c) => {
        queryParams(c, []);
        const media = requireMedia(ctx);
        const shape = ctx.shapeOf(version, entity.name);
        const raw = await readJsonBody(c);
        const body =
          isPlainObject(raw) && isPlainObject(raw.defaults) ? { ...raw, defaults: shape.bodyIn(raw.defaults) } : raw;
        const plan = parseRegisterBody(entity, body, (p) => shape.pathIn(p, 'field'));
        const deps: RegisterDeps = {
          storage: media.storage,
          pool: ctx.pool,
          store: ctx.stores.get(entity.name)!,
          actions: ctx.actionsOf.get(entity.name)!,
          actionsOf: ctx.actionsOf,
          classify: ctx.classify,
          meta: writeMeta(c, false),
        };
        await checkDefaults(plan, deps);
        const registration = new Registration(plan, deps);
        await registration.begin();

        if (!wantsNdjson(c)) {
          const outcomes: KeyOutcome[] = [];
          let summary: Awaited<ReturnType<typeof registration.run>>;
          try {
            summary = await registration.run(
              (outcome) => void outcomes.push(outcome),
              () => (remainingMs() ?? Infinity) < DEADLINE_SLACK_MS,
            );
          } catch (error) {
            // A JSON answer is all or an error: running again is safe (keys done are `exists`).
            throw error instanceof RegistrationStopped ? error.cause : error;
          }
          return sendRecord(ctx, c, version, entity, outcomes, { extra: { ...summary } });
        }

        c.header('Content-Type', 'application/x-ndjson');
        c.header('Cache-Control', 'no-store');
        return stream(c, async (out) => {
          try {
            const summary = await registration.run((outcome) =>
              out.write(`${JSON.stringify(outcome)}\n`).then(() => undefined),
            );
            await out.write(`${JSON.stringify({ summary })}\n`);
          } catch (error) {
            // The client gone: nobody reads a summary (the keys done so far are committed).
            if (out.aborted) return;
            if (!(error instanceof RegistrationStopped)) throw error;
            const cause = error.cause instanceof Error ? error.cause : new Error(String(error.cause));
            const known = ctx.classify(cause, 'POST')?.problems[0];
            const problem = known ?? {
              code: 'INTERNAL_ERROR',
              message: 'the run stopped on an unexpected error; the keys before it are done, running again is safe',
              field: null,
            };
            await out.write(`${JSON.stringify({ summary: { ...error.summary, error: problem } })}\n`);
            // Not the client's to read, but someone's to see: hono's stream helper prints it.
            if (!known) throw cause;
          }
        });
      },
    },
  ];
}
