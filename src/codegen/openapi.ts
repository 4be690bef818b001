// Model → OpenAPI 3.1 for every route the service serves (generic entity routes plus ops routes).
import {
  childRoutes,
  findEntity,
  resolvePath,
  sequenceRoutes,
  withArticle,
  type ApiVersionDef,
  type EntityDef,
  type FieldDef,
  type Model,
  type PartDef,
  type ViewDef,
} from '../registry/model.ts';
import { hasSoftDelete } from '../registry/model.ts';
import { fieldType } from '../registry/types.ts';
import { entitySchema, fieldSchema, idPrefixes, schemaTitle, type JsonSchema } from './json-schema.ts';
import { pathBackward } from '../evolution/steps.ts';
import { schemaForVersion } from './older-shapes.ts';
import { MAX_BATCH_OPERATIONS } from '../api/batch.ts';
import { MAX_DUPLICATE_IDS } from '../api/duplicates.ts';
import { EXACT_COUNT_LIMIT } from '../db/counting.ts';
import { searchableFields } from '../query/full-text.ts';
import { operatorsFor } from '../query/operators.ts';
import { LIST_LIMIT, MAX_QUERY_BYTES } from '../query/parse.ts';
import { MAX_CONDITIONS } from '../query/problems.ts';
import { MAX_DEPTH } from '../query/parse-filter.ts';
import { thumbnailPaths } from './openapi-thumbnails.ts';
import { resolveTarget } from '../query/targets.ts';
import { AUDIT_ENTITY } from '../audit/audit-entity.ts';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from '../api/idempotency.ts';
import { MAX_KEY_LENGTH } from '../idempotency/idempotency-entity.ts';
import { addUploadPaths, UPLOADS_TAG } from './openapi-uploads.ts';
import { registerPaths } from './openapi-register.ts';
import { mediaAccessPaths } from './openapi-media-access.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

const errorResponse = (description: string) => ({ description, content: json(ref('ErrorEnvelope')) });

function envelope(data: JsonSchema, list = false): JsonSchema {
  return {
    type: 'object',
    required: ['data', 'metadata', 'errors'],
    properties: {
      data: list ? { type: 'array', items: data } : data,
      metadata: ref(list ? 'ListMetadata' : 'Metadata'),
      errors: { type: 'array', items: ref('Error'), maxItems: 0 },
    },
  };
}

function listParameters(entity: EntityDef, nameOf: (field: string) => string): JsonSchema[] {
  const params: JsonSchema[] = [
    {
      name: 'filter',
      in: 'query',
      description:
        `A JSON filter in Directus's form: \`_and\`, \`_or\`, \`_not\`, fields by name, dot path or nested objects, operators prefixed with _, e.g. ` +
        `\`{"_or":[{"status":{"_eq":"published"}},{"wardrobe":{"shoes":{"brand":{"_eq":"Gucci"}}}}]}\`. ` +
        `At most ${MAX_CONDITIONS} conditions and ${MAX_DEPTH} levels of nesting; the whole query string at most ${MAX_QUERY_BYTES} bytes.`,
      schema: { type: 'string' },
    },
    {
      name: '_fields',
      in: 'query',
      description:
        'Comma-separated fields or dot paths to return, e.g. `title,backgrounds,wardrobe.shoes.brand`; id is always returned.',
      schema: { type: 'string' },
    },
    {
      name: '_sort',
      in: 'query',
      description:
        'Comma-separated fields or dot paths; prefix with - for descending, e.g. `-duration_seconds,title`. Missing values sort as the largest (last ascending, first descending); ties break on id.',
      schema: { type: 'string' },
    },
    {
      name: '_limit',
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default },
    },
    { name: '_offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
    {
      name: '_cursor',
      in: 'query',
      description: 'Keyset pagination: metadata.next_cursor of the previous page, with the same _sort.',
      schema: { type: 'string' },
    },
    {
      name: '_count',
      in: 'query',
      description: `How metadata.total is computed. Default: exact up to ${EXACT_COUNT_LIMIT} matches, the planner's estimate above (metadata.total_is_estimate).`,
      schema: { enum: ['exact', 'estimated', 'none'] },
    },
  ];
  if (searchableFields(entity).length > 0) {
    params.push({
      name: 'q',
      in: 'query',
      description: `Full-text search (websearch syntax: words, "quoted phrases", or, -excluded) over ${searchableFields(
        entity,
      )
        .map((f) => f.path.join('.'))
        .join(', ')}; ranked unless _sort is given.`,
      schema: { type: 'string' },
    });
  }
  if (hasSoftDelete(entity)) {
    params.push({
      name: 'include_deleted',
      in: 'query',
      description: 'Also list soft-deleted records.',
      schema: { type: 'boolean', default: false },
    });
  }
  for (const preset of entity.presets) {
    params.push({
      name: preset.name,
      in: 'query',
      description: `${preset.description ? `${preset.description} ` : ''}A preset: true adds the filter \`${JSON.stringify(preset.filter)}\`, false its negation.`,
      schema: { type: 'boolean' },
    });
  }
  for (const field of entity.fields) {
    const resolved = resolveTarget(entity, field.name);
    if ('error' in resolved || resolved.target.kind === 'group') continue;
    const name = nameOf(field.name);
    params.push({
      name,
      in: 'query',
      description: `Equality filter on ${name}; \`${name}[op]=value\` with op one of ${operatorsFor(resolved.target).join(', ')}. Fields inside objects filter by dot path.`,
      schema: filterSchema(field.type === 'array' ? field.items! : field),
    });
  }
  return params;
}

/** A filter parameter's schema: the field type's OpenAPI form (registry/types.ts). */
const filterSchema = (field: FieldDef): JsonSchema => fieldType(field.type).parameter(field);

/** `name`: the component schema of the record in this version (an older version's own shape, or the current one). */
function entityPaths(
  model: Model,
  entity: EntityDef,
  apiVersion: ApiVersionDef,
  name: string,
): Record<string, JsonSchema> {
  const version = apiVersion.name;
  const schemaVersion = apiVersion.schemaVersions[entity.name] ?? entity.schemaVersion;
  const nameOf = (field: string) =>
    pathBackward([field], entity.upgrades, entity.schemaVersion, schemaVersion).join('.');
  const one = withArticle(entity.name);
  const tag = entity.plural;
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const item = { description: 'The record', content: json(envelope(ref(name))) };
  const writeBody = { required: true, content: json(ref(name)) };
  const common = {
    400: errorResponse('Malformed JSON, or a bad query parameter'),
    413: errorResponse('Body over 1 MiB'),
    415: errorResponse('Body is not JSON'),
    422: errorResponse('Validation failed: one error per problem, with dotted field paths'),
  };
  const softDelete = hasSoftDelete(entity);
  const ifMatch = {
    name: 'If-Match',
    in: 'header',
    description:
      'Write only if the record still has this ETag (as GET answered it); `*` matches any existing record. Otherwise 412 PRECONDITION_FAILED.',
    schema: { type: 'string' },
  };
  const etagHeader = { ETag: { description: "The record's version, for If-Match", schema: { type: 'string' } } };
  const tagged = { ...item, headers: etagHeader };
  const stale = { 412: errorResponse('If-Match does not match the current ETag: read the record again') };
  return {
    [`/api/${version}/${entity.route}`]: {
      get: {
        tags: [tag],
        operationId: `${version}_list_${entity.plural}`,
        summary: `List ${entity.plural}`,
        parameters: listParameters(entity, nameOf),
        responses: {
          200: {
            description: 'A page of records; metadata.total counts all matches',
            content: json(envelope(ref(name), true)),
          },
          400: errorResponse('Unknown field, operator or bad value'),
        },
      },
      post: {
        tags: [tag],
        operationId: `${version}_create_${entity.name}`,
        summary: `Create ${one}`,
        description: 'Server-owned fields (id, timestamps, schema_version, soft-delete fields) are ignored if sent.',
        requestBody: writeBody,
        responses: {
          201: { description: 'Created', content: json(envelope(ref(name))) },
          ...common,
          409: errorResponse('Conflict'),
        },
      },
    },
    [`/api/${version}/${entity.route}/batch`]: {
      post: {
        tags: [tag],
        operationId: `${version}_batch_${entity.plural}`,
        summary: `Create, update, replace and delete up to ${MAX_BATCH_OPERATIONS} ${entity.plural} in one request`,
        description:
          'Body: `{"operations": [{"op": "create", "data": {...}}, {"op": "update", "id": "...", "data": {...}}, {"op": "replace", "id": "...", "data": {...}}, {"op": "delete", "id": "...", "hard": false, "reason": "..."}]}`. ' +
          '`update` is a JSON merge patch. Each operation gets its own status and errors; with `atomic=true` the first failure rolls back all of them and the answer is that failure.',
        parameters: [
          { name: 'atomic', in: 'query', description: 'All or nothing.', schema: { type: 'boolean', default: false } },
        ],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['operations'],
            properties: {
              operations: { type: 'array', minItems: 1, maxItems: MAX_BATCH_OPERATIONS, items: { type: 'object' } },
            },
          }),
        },
        responses: {
          200: {
            description:
              'One result per operation: index, op, status, id, data or errors, and warnings (possible duplicates) when there are some',
            content: json(envelope({ type: 'object' }, true)),
          },
          400: errorResponse('Not a batch, or more than the maximum of operations'),
          409: errorResponse('atomic=true: an operation conflicted and nothing was applied'),
          422: errorResponse('atomic=true: an operation did not validate and nothing was applied'),
        },
      },
    },
    [`/api/${version}/${entity.route}/export`]: {
      get: {
        tags: [tag],
        operationId: `${version}_export_${entity.plural}`,
        summary: `Export every matching ${entity.name}, streamed`,
        description:
          'The list query language without paging (_limit, _offset, _cursor, _count); rows in id order unless _sort is given. CSV cells hold objects and lists as JSON.',
        parameters: [
          { name: 'format', in: 'query', schema: { enum: ['ndjson', 'csv'], default: 'ndjson' } },
          ...listParameters(entity, nameOf).filter(
            (p) => !['_limit', '_offset', '_cursor', '_count'].includes(p.name as string),
          ),
        ],
        responses: {
          200: {
            description: 'One record per line (NDJSON), or a CSV with a header row',
            content: {
              'application/x-ndjson': { schema: { type: 'string' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          400: errorResponse('Unknown field, operator, bad value or format'),
        },
      },
    },
    [`/api/${version}/${entity.route}/search`]: {
      get: {
        tags: [tag],
        operationId: `${version}_search_${entity.plural}`,
        summary: `Search ${entity.plural} (the list query language)`,
        parameters: listParameters(entity, nameOf),
        responses: {
          200: { description: 'A page of matching records', content: json(envelope(ref(name), true)) },
          400: errorResponse('Unknown field, operator or bad value'),
        },
      },
    },
    [`/api/${version}/${entity.route}/{id}`]: {
      parameters: [idParam],
      get: {
        tags: [tag],
        operationId: `${version}_get_${entity.name}`,
        summary: `Get ${one}`,
        parameters: softDelete
          ? [{ name: 'include_deleted', in: 'query', schema: { type: 'boolean', default: false } }]
          : [],
        responses: { 200: tagged, 404: errorResponse('No such record') },
      },
      put: {
        tags: [tag],
        operationId: `${version}_replace_${entity.name}`,
        summary: `Replace ${one}`,
        description: 'Full replace: fields left out are cleared (or reset to their default).',
        parameters: [ifMatch],
        requestBody: writeBody,
        responses: {
          200: tagged,
          404: errorResponse('No such record'),
          ...common,
          409: errorResponse('Conflict, or a transition the field does not allow'),
          ...stale,
        },
      },
      patch: {
        tags: [tag],
        operationId: `${version}_patch_${entity.name}`,
        summary: `Patch ${one} (JSON merge patch, RFC 7396)`,
        description: 'Objects merge deeply; null removes a field; arrays are replaced whole.',
        parameters: [ifMatch],
        requestBody: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: { type: 'object' } },
            'application/json': { schema: { type: 'object' } },
          },
        },
        responses: {
          200: tagged,
          404: errorResponse('No such record'),
          ...common,
          409: errorResponse('Conflict'),
          ...stale,
        },
      },
      delete: {
        tags: [tag],
        operationId: `${version}_delete_${entity.name}`,
        summary: softDelete ? `Delete ${one} (soft by default)` : `Delete ${one}`,
        parameters: softDelete
          ? [
              {
                name: 'hard',
                in: 'query',
                description: 'Remove the row instead of marking it deleted.',
                schema: { type: 'boolean', default: false },
              },
              { name: 'reason', in: 'query', description: 'Stored as deleted_reason.', schema: { type: 'string' } },
              ifMatch,
            ]
          : [ifMatch],
        responses: {
          200: { description: 'Deleted', content: json(envelope(ref('DeleteResult'))) },
          404: errorResponse('No such record'),
          409: errorResponse('Still referenced by other records'),
          ...stale,
        },
      },
    },
    [`/api/${version}/${entity.route}/{id}/history`]: {
      parameters: [idParam],
      get: {
        tags: [tag],
        operationId: `${version}_history_${entity.name}`,
        summary: `The audit entries of ${one}, newest first`,
        description: 'The list query language over its audit entries (operation, actor, at, changes.path …).',
        parameters: listParameters(AUDIT_ENTITY, (field) => field),
        responses: {
          200: { description: 'A page of audit entries', content: json(envelope(ref('AuditEntry'), true)) },
          400: errorResponse('Unknown field, operator or bad value'),
          404: errorResponse('Not an id of this entity'),
        },
      },
    },
    [`/api/${version}/${entity.route}/{id}/revert`]: {
      parameters: [idParam],
      post: {
        tags: [tag],
        operationId: `${version}_revert_${entity.name}`,
        summary: `Undo one audited change of ${one}`,
        description:
          'Body `{"audit_id": "aud_…"}`, an entry of this record. An update (or revert) is undone by writing back the fields as they were before it (validated like a PUT); a delete by a restore; a create or restore by a soft delete. The revert is audited itself (operation `revert`, `reverts` naming the entry).',
        requestBody: {
          required: true,
          content: json({ type: 'object', required: ['audit_id'], properties: { audit_id: { type: 'string' } } }),
        },
        responses: {
          200: {
            description: 'The record as reverted (or the delete result, for a create undone)',
            headers: etagHeader,
            content: json(envelope({})),
          },
          400: errorResponse('No audit_id'),
          404: errorResponse('No such record, or the entry is not one of its changes'),
          409: errorResponse('The change cannot be undone (a hard delete) or conflicts with the record now'),
          422: errorResponse('The state before the change no longer validates'),
        },
      },
    },
    ...Object.fromEntries(
      childRoutes(model, entity, version).map((route) => [
        route.path.replace(':id', '{id}'),
        {
          parameters: [idParam],
          get: {
            tags: [tag],
            operationId: `${version}_list_${entity.plural}_of_${route.parent.name}`,
            summary: `List the ${entity.plural} of ${withArticle(route.parent.name)} (${route.via})`,
            description: 'The list query language, limited to the records that refer to this one.',
            parameters: listParameters(entity, nameOf),
            responses: {
              200: { description: 'A page of records', content: json(envelope(ref(name), true)) },
              400: errorResponse('Unknown field, operator or bad value'),
              404: errorResponse(`No such ${route.parent.name}`),
            },
          },
        },
      ]),
    ),
    ...Object.fromEntries(
      sequenceRoutes(model, entity, version).map((route) => [
        route.path.replace(':id', '{id}'),
        {
          parameters: [idParam],
          get: {
            tags: [tag],
            operationId: `${version}_next_${route.field.name}_of_${route.parent.name}`,
            summary: `The next ${route.field.name} of ${withArticle(route.parent.name)}`,
            description: `${route.field.name} counts within ${route.field.sequence!.within.join(', ')} among live ${entity.plural}; the answer is one more than the highest.`,
            parameters: route.scope.map((def) => ({
              name: def.name,
              in: 'query',
              required: true,
              schema: filterSchema(def),
            })),
            responses: {
              200: { description: 'The scope and the suggested number', content: json(envelope({ type: 'object' })) },
              400: errorResponse('A scope parameter is missing or not valid'),
              404: errorResponse(`No such ${route.parent.name}`),
            },
          },
        },
      ]),
    ),
    ...Object.fromEntries(
      entity.views.map((view) => {
        const schema = viewSchema(entity, view, model);
        const answer = { description: `The ${view.name} of the ${entity.name}`, content: json(envelope(schema)) };
        return [
          `/api/${version}/${entity.route}/{id}/${view.name}`,
          {
            parameters: [idParam],
            get: {
              tags: [tag],
              operationId: `${version}_get_${entity.name}_${view.name}`,
              summary: view.description ?? `The ${view.name} of ${withArticle(entity.name)}`,
              responses: { 200: answer, 404: errorResponse('No such record') },
            },
            put: {
              tags: [tag],
              operationId: `${version}_put_${entity.name}_${view.name}`,
              summary: `Replace the ${view.name} of ${withArticle(entity.name)}`,
              description:
                'Validated and stored like a PUT of the whole record; metadata.warnings says what server rules reused or found twice.',
              requestBody: { required: true, content: json(schema) },
              responses: {
                200: answer,
                400: errorResponse('Not a JSON object'),
                404: errorResponse('No such record'),
                409: errorResponse('Conflict'),
                422: errorResponse('Validation failed'),
              },
            },
          },
        ];
      }),
    ),
    ...Object.fromEntries(entity.parts.flatMap((part) => partPaths(model, entity, part, version))),
    ...(entity.versions ? versionSearchPath(model, entity, version) : {}),
    ...(softDelete
      ? {
          [`/api/${version}/${entity.route}/{id}/restore`]: {
            parameters: [idParam],
            post: {
              tags: [tag],
              operationId: `${version}_restore_${entity.name}`,
              parameters: [ifMatch],
              summary: `Restore a soft-deleted ${entity.name}`,
              description:
                'Clears the deletion fields and records restored_at and restored_by (the caller). The records the delete cascaded to (their deleted_reason is "deleted with" this record) are restored with it, at any depth, in one transaction; metadata.restored counts them by plural.',
              responses: {
                200: item,
                404: errorResponse('No such record'),
                409: errorResponse(
                  'The record is not deleted, or a live record now holds its unique values (or those of a record it would bring back)',
                ),
                ...stale,
              },
            },
          },
        }
      : {}),
  };
}

/** A view's value: one field's schema, or an object of several. */
function viewSchema(entity: EntityDef, view: ViewDef, model: Model): JsonSchema {
  const prefixes = idPrefixes(model);
  const of = (path: readonly string[]) => fieldSchema(resolvePath(entity, path)!, prefixes, true);
  if (view.field) return of(view.field);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(view.fields!).map(([key, path]) => [key, of(path)])),
  };
}

/** The tag text of an entity, ending with the least role each operation needs. */
function withPermissions(description: string | undefined, entity: EntityDef): string {
  const roles = Object.entries(entity.permissions)
    .map(([operation, role]) => `${operation} ${role}`)
    .join(', ');
  return `${description ? `${description} ` : ''}Roles needed: ${roles}.`;
}

/** /api operations need a token (401) and a role (403), within a request budget (429); the ops routes are open. */
function secureApiPaths(paths: Record<string, JsonSchema>): void {
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, JsonSchema>)) {
      if (method === 'parameters') continue;
      const op = operation as { security?: unknown[]; responses: Record<string, unknown> };
      if (!path.startsWith('/api/')) {
        op.security = [];
        continue;
      }
      op.responses[401] = errorResponse('No token, or a token that does not verify (see the WWW-Authenticate header)');
      op.responses[403] = errorResponse(
        "The caller's role is below the one the registry's permissions give this operation (the message names it)",
      );
      op.responses[429] = errorResponse(
        "The caller's request budget is spent (RATE_LIMITED); Retry-After says when to try again, RateLimit-* headers where it stands",
      );
    }
  }
}

const IDEMPOTENCY_PARAMETER = 'IdempotencyKey';
const idempotencyKey = {
  name: IDEMPOTENCY_HEADER,
  in: 'header',
  required: false,
  description:
    `Makes a retry safe (draft-ietf-httpapi-idempotency-key-header): a unique value per request, e.g. a UUID, bare or as a quoted string; printable ASCII, 1–${MAX_KEY_LENGTH} characters (else 400 INVALID_IDEMPOTENCY_KEY). ` +
    `Keys are per caller. The same key with the same request (method, path, query, Content-Type, If-Match, body) answers the first answer again, status, body, Location and ETag, with \`${REPLAYED_HEADER}: true\`, without running it again; ` +
    'another request under the key answers 422 IDEMPOTENCY_KEY_REUSED, and while the first is still running 409 IDEMPOTENCY_KEY_IN_USE. ' +
    'Answers 2xx and 4xx are kept; a 5xx (or 408, 425, 429) is not, so the retry runs. Keys are kept IDEMPOTENCY_KEY_TTL_HOURS (default 24) from their first use.',
  schema: { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH + 2 },
};

/** Every /api POST takes an Idempotency-Key: the header, its replay marker and its two refusals. */
function keyedPosts(paths: Record<string, JsonSchema>): void {
  for (const [path, item] of Object.entries(paths)) {
    const post = (
      item as {
        post?: {
          parameters?: unknown[];
          responses: Record<string, { headers?: Record<string, unknown>; [other: string]: unknown }>;
        };
      }
    ).post;
    if (!post || !path.startsWith('/api/')) continue;
    post.parameters = [...(post.parameters ?? []), { $ref: `#/components/parameters/${IDEMPOTENCY_PARAMETER}` }];
    for (const [status, response] of Object.entries(post.responses)) {
      if (status.startsWith('2'))
        response.headers = {
          ...response.headers,
          [REPLAYED_HEADER]: {
            description: 'true when this is the stored answer to an earlier request with the same Idempotency-Key',
            schema: { const: 'true' },
          },
        };
    }
    post.responses[409] ??= errorResponse(
      'IDEMPOTENCY_KEY_IN_USE: a request with this Idempotency-Key is still running (Retry-After)',
    );
    post.responses[422] ??= errorResponse('IDEMPOTENCY_KEY_REUSED: this Idempotency-Key was sent with another request');
  }
}

export function buildOpenApi(model: Model): JsonSchema {
  const schemas: Record<string, JsonSchema> = {};
  for (const entity of model.entities) {
    const { $schema: _s, $id: _i, ...schema } = entitySchema(entity, model);
    schemas[schemaTitle(entity)] = schema;
  }
  const paths: Record<string, JsonSchema> = {
    '/health': {
      get: {
        tags: ['ops'],
        operationId: 'health',
        summary: 'Liveness: the process answers (no database round trip)',
        responses: {
          200: { description: 'Alive', content: json(ref('Health')) },
        },
      },
    },
    '/ready': {
      get: {
        tags: ['ops'],
        operationId: 'ready',
        summary:
          'Readiness: the database answers and every migration this build ships is applied; 503 while shutting down',
        responses: {
          200: {
            description: 'Ready',
            content: json({
              type: 'object',
              properties: {
                status: { const: 'ok' },
                database: { type: 'string' },
                migrations: { type: 'string' },
                registry_version: { type: 'string' },
              },
            }),
          },
          503: {
            description:
              'The database is unreachable, migrations are pending (listed), or the instance is draining for shutdown',
            content: json({ type: 'object' }),
          },
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['ops'],
        operationId: 'metrics',
        summary:
          'Prometheus metrics: request durations by route template, method and status; errors; query timings; pool; process',
        responses: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['ops'],
        operationId: 'openapi',
        summary: 'This document',
        responses: { 200: { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
      },
    },
    '/docs': {
      get: {
        tags: ['ops'],
        operationId: 'docs',
        summary: 'Human API reference (Swagger UI)',
        responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
  };
  for (const version of model.apiVersions) {
    for (const entity of model.entities) {
      const schemaVersion = version.schemaVersions[entity.name] ?? entity.schemaVersion;
      let name = schemaTitle(entity);
      if (schemaVersion !== entity.schemaVersion) {
        name = `${name}_${version.name}`;
        schemas[name] = schemaForVersion(schemas[schemaTitle(entity)]!, entity, schemaVersion);
      }
      Object.assign(paths, entityPaths(model, entity, version, name));
    }
    Object.assign(paths, thumbnailPaths(model, version.name));
    paths[`/api/${version.name}/${AUDIT_ENTITY.route}`] = {
      get: {
        tags: ['audit'],
        operationId: `${version.name}_list_audit`,
        summary: 'Audit entries, newest first',
        description:
          'Every create, update, delete, restore, hard delete and revert, written in the same transaction as the change. `id` filters the audited record (record_id), `since` is at[gte] and `until` at[lt]; the whole list query language applies.',
        parameters: [
          { name: 'entity', in: 'query', schema: { type: 'string' } },
          { name: 'id', in: 'query', description: "The audited record's id.", schema: { type: 'string' } },
          { name: 'actor', in: 'query', schema: { type: 'string' } },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
          ...listParameters(AUDIT_ENTITY, (field) => field),
        ],
        responses: {
          200: { description: 'A page of audit entries', content: json(envelope(ref('AuditEntry'), true)) },
          400: errorResponse('Unknown field, operator or bad value'),
        },
      },
    };
  }
  addUploadPaths(model, paths, schemas, (entity) => listParameters(entity, (field) => field));
  const { $schema: _as, $id: _ai, ...auditSchema } = entitySchema(AUDIT_ENTITY, model);
  schemas.AuditEntry = auditSchema;
  Object.assign(paths, registerPaths(model), mediaAccessPaths(model));
  secureApiPaths(paths);
  keyedPosts(paths);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Reelmeta API',
      version: model.registryVersion,
      description:
        'Metadata for fashion and lifestyle video production. Every entity route is generated from the schema registry.',
    },
    tags: [
      ...model.entities.map((e) => ({ name: e.plural, description: withPermissions(e.description, e) })),
      { name: 'audit', description: withPermissions(AUDIT_ENTITY.description, AUDIT_ENTITY) },
      {
        name: 'jobs',
        description: "Background jobs (thumbnails). Reading one needs read permission on its record's entity.",
      },
      UPLOADS_TAG,
      { name: 'ops', description: 'Open: no token needed.' },
    ],
    security: [{ cognito: [] }],
    paths,
    components: {
      parameters: { [IDEMPOTENCY_PARAMETER]: idempotencyKey },
      securitySchemes: {
        cognito: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "An AWS Cognito access or id token of the user pool (AUTH_MODE=cognito). Roles come from the token's cognito:groups: viewer, editor, admin.",
        },
      },
      schemas: {
        ...schemas,
        Error: {
          type: 'object',
          required: ['code', 'message', 'field'],
          properties: {
            code: { type: 'string', examples: ['VALIDATION_ERROR'] },
            message: { type: 'string' },
            field: {
              type: ['string', 'null'],
              description: 'Dotted path of the offending field, e.g. wardrobe.shoes.color',
            },
          },
        },
        Metadata: {
          type: 'object',
          properties: {
            schema_version: { type: 'integer' },
            registry_version: { type: 'string' },
            timestamp: { type: 'string', format: 'date-time' },
            restored: {
              type: 'object',
              additionalProperties: { type: 'integer' },
              description:
                'On a restore: the records its delete had cascaded to, restored with it, by plural. Absent when none.',
            },
            warnings: {
              type: 'array',
              items: ref('Warning'),
              description:
                "On a create or update: other live records sharing the values of one of the entity's duplicate_warnings sets. Absent when there are none.",
            },
          },
        },
        Warning: {
          type: 'object',
          required: ['code', 'message', 'fields', 'ids', 'total'],
          properties: {
            code: { const: 'POSSIBLE_DUPLICATE' },
            message: { type: 'string', examples: ['same source_file_hash as clip clip_20260101_k3x9q2m7za'] },
            fields: { type: 'array', items: { type: 'string' } },
            ids: {
              type: 'array',
              items: { type: 'string' },
              maxItems: MAX_DUPLICATE_IDS,
              description: 'The first matching records, in id order.',
            },
            total: { type: 'integer', description: 'How many live records match.' },
          },
        },
        ListMetadata: {
          allOf: [
            ref('Metadata'),
            {
              type: 'object',
              properties: {
                total: { type: 'integer' },
                total_is_estimate: { type: 'boolean' },
                limit: { type: 'integer' },
                offset: { type: 'integer' },
                next_cursor: { type: 'string', description: 'Absent on the last page.' },
              },
            },
          ],
        },
        ErrorEnvelope: {
          type: 'object',
          required: ['data', 'metadata', 'errors'],
          properties: {
            data: { type: 'null' },
            metadata: ref('Metadata'),
            errors: { type: 'array', items: ref('Error'), minItems: 1 },
          },
        },
        DeleteResult: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            deleted: { type: 'boolean' },
            hard: { type: 'boolean' },
            deleted_at: { type: ['string', 'null'], format: 'date-time' },
            cascaded: {
              type: 'object',
              additionalProperties: { type: 'integer' },
              description:
                'Soft delete: referring records deleted with it (on_delete: cascade, at any depth), by plural. Absent when none.',
            },
            detached: {
              type: 'object',
              additionalProperties: { type: 'integer' },
              description:
                'Soft delete: referring records whose ref was cleared (on_delete: set_null), by plural. Absent when none.',
            },
          },
        },
        Health: {
          type: 'object',
          properties: { status: { const: 'ok' }, registry_version: { type: 'string' } },
        },
      },
    },
  };
}

/** A part with versions (`parts:` + `versions:`): /episodes/{id}/script and its versions, diff and active version. */
function partPaths(model: Model, entity: EntityDef, part: PartDef, version: string): [string, JsonSchema][] {
  const owner = findEntity(model, part.entity)!;
  if (!owner.versions) return [];
  const versionEntity = findEntity(model, owner.versions.entity)!;
  const base = `/api/${version}/${entity.route}/{id}/${part.name}`;
  const tag = entity.plural;
  const op = (what: string) => `${version}_${what}_${entity.name}_${part.name.replace(/-/g, '_')}`;
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const one = {
    description: `A version of the ${part.name}`,
    content: json(envelope(ref(schemaTitle(versionEntity)))),
  };
  const missing = errorResponse(`No such ${entity.name}, no ${part.name} yet, or no such version`);
  const body = { required: true, content: json(ref(schemaTitle(versionEntity))) };
  const { number, active, text } = owner.versions;
  return [
    [
      base,
      {
        parameters: [idParam],
        get: {
          tags: [tag],
          operationId: op('get'),
          summary: `The active version of the ${part.name}`,
          responses: { 200: one, 404: missing },
        },
        put: {
          tags: [tag],
          operationId: op('put'),
          summary: `Add a version of the ${part.name} and make it the active one`,
          description: `The ${part.name} record is created with its first version. ${number} is the server's.`,
          requestBody: body,
          responses: {
            200: one,
            404: missing,
            409: errorResponse(`The ${part.name} already has the most versions it can have`),
            422: errorResponse('Validation failed'),
          },
        },
      },
    ],
    [
      `${base}/versions`,
      {
        parameters: [idParam],
        get: {
          tags: [tag],
          operationId: op('list_versions'),
          summary: `The versions of the ${part.name}, oldest first unless _sort is given; metadata.${active} names the active one`,
          parameters: listParameters(versionEntity, (f) => f),
          responses: {
            200: { description: 'Versions', content: json(envelope(ref(schemaTitle(versionEntity)), true)) },
            404: missing,
          },
        },
        post: {
          tags: [tag],
          operationId: op('add_version'),
          summary: `Add a version of the ${part.name} (the first one becomes active; later ones by PUT …/active)`,
          requestBody: body,
          responses: {
            201: one,
            404: missing,
            409: errorResponse(`The ${part.name} already has the most versions it can have`),
            422: errorResponse('Validation failed'),
          },
        },
      },
    ],
    [
      `${base}/versions/{n}`,
      {
        parameters: [idParam, { name: 'n', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
        get: {
          tags: [tag],
          operationId: op('get_version'),
          summary: `Version n of the ${part.name}`,
          responses: { 200: one, 400: errorResponse('n is not a version number'), 404: missing },
        },
      },
    ],
    [
      `${base}/active`,
      {
        parameters: [idParam],
        put: {
          tags: [tag],
          operationId: op('activate'),
          summary: `Choose the active version of the ${part.name}: {"version": n}`,
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['version'],
              properties: { version: { type: 'integer', minimum: 1 } },
            }),
          },
          responses: { 200: one, 400: errorResponse('version is not a version number'), 404: missing },
        },
      },
    ],
    [
      `${base}/diff`,
      {
        parameters: [
          idParam,
          ...['from', 'to'].map((name) => ({
            name,
            in: 'query',
            required: true,
            schema: { type: 'integer', minimum: 1 },
          })),
        ],
        get: {
          tags: [tag],
          operationId: op('diff'),
          summary: `A line diff of the ${text} of two versions: unified text and structured hunks`,
          responses: {
            200: {
              description: 'The diff',
              content: json(
                envelope({
                  type: 'object',
                  properties: {
                    from: { type: 'integer' },
                    to: { type: 'integer' },
                    unified: { type: 'string' },
                    hunks: { type: 'array', items: { type: 'object' } },
                  },
                }),
              ),
            },
            400: errorResponse('from or to is not a version number'),
            404: missing,
          },
        },
      },
    ],
  ];
}

/** GET /{plural}/search?q= of an entity with versions: their text, with highlighted snippets. */
function versionSearchPath(model: Model, entity: EntityDef, version: string): Record<string, JsonSchema> {
  const versions = entity.versions!;
  const hit = {
    type: 'object',
    properties: {
      [entity.name]: ref(schemaTitle(entity)),
      version: { type: 'integer' },
      active: { type: 'boolean' },
      snippet: { type: 'string', description: 'Matching passages, the matched words in <mark>…</mark>' },
    },
  };
  return {
    [`/api/${version}/${entity.route}/search`]: {
      get: {
        tags: [entity.plural],
        operationId: `${version}_search_${entity.plural}`,
        summary: `Full-text search over the ${versions.text} of ${findEntity(model, versions.entity)!.plural}, best match first`,
        parameters: [
          {
            name: 'q',
            in: 'query',
            required: true,
            description: 'Websearch syntax: words, "quoted phrases", or, -excluded',
            schema: { type: 'string' },
          },
          { name: '_limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        ],
        responses: {
          200: { description: 'Matches', content: json(envelope(hit, true)) },
          400: errorResponse('q is missing'),
        },
      },
    },
  };
}
