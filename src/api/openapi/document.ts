// Builds the OpenAPI 3.1 document of the route table (route-table.ts): each route's operation
// under its path, the refusals every /api operation may answer, the Idempotency-Key of every /api
// POST, the tags, and the shared component schemas (envelope, errors, metadata) beside each
// entity's record schema in each API version.
import { isDeepStrictEqual } from 'node:util';
import { entitySchema, schemaTitle, type JsonSchema } from '../../registry/json-schema.ts';
import type { EntityDef, Model } from '../../registry/model.ts';
import { AUDIT_ENTITY } from '../../audit/audit-entity.ts';
import { MAX_KEY_LENGTH } from '../../idempotency/idempotency-entity.ts';
import { MAX_DUPLICATE_IDS } from '../../records/duplicates.ts';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from '../idempotency.ts';
import { CONSISTENCY_HEADER } from '../consistency.ts';
import { isRoute, type Parameter, type ResponseDoc, type Route } from '../route.ts';
import { routeTable } from '../route-table.ts';
import { API_REFUSALS, errorResponse, recordSchemaName, ref } from './components.ts';
import { schemaForVersion } from './older-shapes.ts';
import { UPLOADS_TAG, uploadSchemas } from './uploads.ts';

/** The tag text of an entity, ending with the least role each operation needs. */
function withPermissions(description: string | undefined, entity: EntityDef): string {
  const roles = Object.entries(entity.permissions)
    .map(([operation, role]) => `${operation} ${role}`)
    .join(', ');
  return `${description ? `${description} ` : ''}Roles needed: ${roles}.`;
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

const CONSISTENCY_PARAMETER = 'ConsistencyToken';
const consistencyToken = {
  name: CONSISTENCY_HEADER,
  in: 'header',
  required: false,
  description: `With read replicas (DATABASE_REPLICA_URLS): the ${CONSISTENCY_HEADER} a write answered. The read then goes only to a replica that has replayed that write, else to the primary, so it never misses it; without it, a replica up to REPLICA_MAX_LAG_MS behind may answer. Not a WAL position: 400 INVALID_HEADER. Without replicas it changes nothing.`,
  schema: { type: 'string', pattern: '^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$' },
};
const consistencyHeader = {
  description: `With read replicas (DATABASE_REPLICA_URLS): the primary's WAL position once this write committed; send it back as ${CONSISTENCY_HEADER} on reads that must see the write`,
  schema: { type: 'string' },
};

const replayedHeader = {
  description: 'true when this is the stored answer to an earlier request with the same Idempotency-Key',
  schema: { const: 'true' },
};

/**
 * The operation of a route. /api operations need a token (401) and a role (403), within a request
 * budget (429); the ops routes are open. Every /api POST takes an Idempotency-Key: the header, its
 * replay marker and its two refusals.
 */
function operationOf(route: Route): JsonSchema {
  const api = route.path.startsWith('/api/');
  const keyed = api && route.method === 'post';
  const read = route.method === 'get';
  const parameters: unknown[] = (route.parameters ?? []).filter((p) => p.in !== 'path');
  if (keyed) parameters.push({ $ref: `#/components/parameters/${IDEMPOTENCY_PARAMETER}` });
  if (api && read) parameters.push({ $ref: `#/components/parameters/${CONSISTENCY_PARAMETER}` });
  const headersOf = (status: string): Record<string, JsonSchema> => ({
    ...(keyed && status.startsWith('2') ? { [REPLAYED_HEADER]: replayedHeader } : {}),
    ...(api && !read && /^[23]/.test(status) ? { [CONSISTENCY_HEADER]: consistencyHeader } : {}),
  });
  const responses: Record<string, ResponseDoc> = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]: [string, ResponseDoc]) => {
      const added = headersOf(status);
      return [
        status,
        Object.keys(added).length > 0 ? { ...response, headers: { ...response.headers, ...added } } : response,
      ];
    }),
  );
  if (api) Object.assign(responses, API_REFUSALS);
  if (keyed) {
    responses[409] ??= errorResponse(
      'IDEMPOTENCY_KEY_IN_USE: a request with this Idempotency-Key is still running (Retry-After)',
    );
    responses[422] ??= errorResponse('IDEMPOTENCY_KEY_REUSED: this Idempotency-Key was sent with another request');
  }
  return {
    tags: route.tags,
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.requestBody ? { requestBody: route.requestBody } : {}),
    responses,
    ...(api ? {} : { security: [] }),
  };
}

/**
 * The paths of the routes, in table order. A path's parameters are documented once, on its path
 * item: every route of the path must name the same ones, one for each `:name` of the template.
 */
export function documentPaths(routes: readonly Route[]): Record<string, JsonSchema> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const template = route.path.replace(/:(\w+)/g, '{$1}');
    const inPath: readonly Parameter[] = (route.parameters ?? []).filter((p) => p.in === 'path');
    const names = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1]);
    if (!isDeepStrictEqual(inPath.map((p) => p.name).sort(), names.sort()))
      throw new Error(`${route.operationId}: path parameters ${inPath.map((p) => p.name)} do not match ${route.path}`);
    const item = paths[template];
    if (!item) paths[template] = inPath.length > 0 ? { parameters: inPath } : {};
    else if (!isDeepStrictEqual(item.parameters ?? [], inPath))
      throw new Error(`${route.operationId}: ${template} has other path parameters than its first route`);
    if (paths[template]![route.method]) throw new Error(`${route.method} ${template} is in the table twice`);
    paths[template]![route.method] = operationOf(route);
  }
  return paths;
}

/** Each entity's record schema, and its own schema in an API version whose shape is older. */
function recordSchemas(model: Model): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const entity of model.entities) {
    const { $schema: _s, $id: _i, ...schema } = entitySchema(entity, model);
    schemas[schemaTitle(entity)] = schema;
  }
  for (const version of model.apiVersions) {
    for (const entity of model.entities) {
      const name = recordSchemaName(entity, version);
      if (name === schemaTitle(entity)) continue;
      const schemaVersion = version.schemaVersions[entity.name] ?? entity.schemaVersion;
      schemas[name] = schemaForVersion(schemas[schemaTitle(entity)]!, entity, schemaVersion);
    }
  }
  return schemas;
}

export function buildOpenApi(model: Model): JsonSchema {
  const paths = documentPaths(routeTable(model).filter(isRoute));
  const schemas = { ...recordSchemas(model), ...uploadSchemas(model) };
  const { $schema: _as, $id: _ai, ...auditSchema } = entitySchema(AUDIT_ENTITY, model);
  schemas.AuditEntry = auditSchema;
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
      parameters: { [IDEMPOTENCY_PARAMETER]: idempotencyKey, [CONSISTENCY_PARAMETER]: consistencyToken },
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
                'On a create or update: possible duplicates, records reused, read-only fields not stored. Absent when there are none.',
            },
          },
        },
        Warning: {
          type: 'object',
          required: ['code', 'message', 'fields', 'ids', 'total'],
          properties: {
            code: {
              enum: ['POSSIBLE_DUPLICATE', 'REUSED', 'READ_ONLY_IGNORED'],
              description:
                'POSSIBLE_DUPLICATE: other live records share a duplicate_warnings set; REUSED: a server rule reused a record on file; READ_ONLY_IGNORED: the body set read-only fields, which were not stored.',
            },
            message: { type: 'string', examples: ['same source_file_hash as clip clip_20260101_k3x9q2m7za'] },
            fields: { type: 'array', items: { type: 'string' } },
            ids: {
              type: 'array',
              items: { type: 'string' },
              maxItems: MAX_DUPLICATE_IDS,
              description: 'The first matching or reused records, in id order (none for READ_ONLY_IGNORED).',
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
