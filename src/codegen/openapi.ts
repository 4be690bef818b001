// Model → OpenAPI 3.1 for every route the service serves (generic entity routes plus ops routes).
import type { EntityDef, FieldDef, Model } from '../registry/model.ts';
import { hasSoftDelete } from '../registry/model.ts';
import { entitySchema, schemaTitle, type JsonSchema } from './json-schema.ts';
import { FILTER_OPERATORS, isFilterable, LIST_LIMIT } from '../query/list-query.ts';

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

function listParameters(entity: EntityDef): JsonSchema[] {
  const params: JsonSchema[] = [
    { name: '_limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default } },
    { name: '_offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
    {
      name: '_sort',
      in: 'query',
      description: 'Comma-separated fields; prefix with - for descending, e.g. `-updated_at,title`. Ties break on id.',
      schema: { type: 'string' },
    },
  ];
  if (hasSoftDelete(entity)) {
    params.push({ name: 'include_deleted', in: 'query', description: 'Also list soft-deleted records.', schema: { type: 'boolean', default: false } });
  }
  for (const field of entity.fields.filter(isFilterable)) {
    params.push({
      name: field.name,
      in: 'query',
      description: `Equality filter on ${field.name}. Operators: \`${field.name}[op]=value\` with op one of ${FILTER_OPERATORS.join(', ')} (in takes a comma-separated list).`,
      schema: filterSchema(field),
    });
  }
  return params;
}

function filterSchema(field: FieldDef): JsonSchema {
  switch (field.type) {
    case 'integer':
      return { type: 'integer' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'string', enum: [...(field.values ?? []), ...Object.keys(field.aliases ?? {})] };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    default:
      return { type: 'string' };
  }
}

/** "a show", "an episode". */
const withArticle = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

function entityPaths(entity: EntityDef, version: string): Record<string, JsonSchema> {
  const name = schemaTitle(entity);
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
  return {
    [`/api/${version}/${entity.plural}`]: {
      get: {
        tags: [tag],
        operationId: `${version}_list_${entity.plural}`,
        summary: `List ${entity.plural}`,
        parameters: listParameters(entity),
        responses: {
          200: { description: 'A page of records; metadata.total counts all matches', content: json(envelope(ref(name), true)) },
          400: errorResponse('Unknown field, operator or bad value'),
        },
      },
      post: {
        tags: [tag],
        operationId: `${version}_create_${entity.name}`,
        summary: `Create ${one}`,
        description: 'Server-owned fields (id, timestamps, schema_version, soft-delete fields) are ignored if sent.',
        requestBody: writeBody,
        responses: { 201: { description: 'Created', content: json(envelope(ref(name))) }, ...common, 409: errorResponse('Conflict') },
      },
    },
    [`/api/${version}/${entity.plural}/{id}`]: {
      parameters: [idParam],
      get: {
        tags: [tag],
        operationId: `${version}_get_${entity.name}`,
        summary: `Get ${one}`,
        parameters: softDelete ? [{ name: 'include_deleted', in: 'query', schema: { type: 'boolean', default: false } }] : [],
        responses: { 200: item, 404: errorResponse('No such record') },
      },
      put: {
        tags: [tag],
        operationId: `${version}_replace_${entity.name}`,
        summary: `Replace ${one}`,
        description: 'Full replace: fields left out are cleared (or reset to their default).',
        requestBody: writeBody,
        responses: { 200: item, 404: errorResponse('No such record'), ...common, 409: errorResponse('Conflict') },
      },
      patch: {
        tags: [tag],
        operationId: `${version}_patch_${entity.name}`,
        summary: `Patch ${one} (JSON merge patch, RFC 7396)`,
        description: 'Objects merge deeply; null removes a field; arrays are replaced whole.',
        requestBody: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: { type: 'object' } },
            'application/json': { schema: { type: 'object' } },
          },
        },
        responses: { 200: item, 404: errorResponse('No such record'), ...common, 409: errorResponse('Conflict') },
      },
      delete: {
        tags: [tag],
        operationId: `${version}_delete_${entity.name}`,
        summary: softDelete ? `Delete ${one} (soft by default)` : `Delete ${one}`,
        parameters: softDelete
          ? [
              { name: 'hard', in: 'query', description: 'Remove the row instead of marking it deleted.', schema: { type: 'boolean', default: false } },
              { name: 'reason', in: 'query', description: 'Stored as deleted_reason.', schema: { type: 'string' } },
            ]
          : [],
        responses: {
          200: { description: 'Deleted', content: json(envelope(ref('DeleteResult'))) },
          404: errorResponse('No such record'),
          409: errorResponse('Still referenced by other records'),
        },
      },
    },
  };
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
        summary: 'Liveness and database check',
        responses: {
          200: { description: 'Healthy', content: json(ref('Health')) },
          503: { description: 'The database is unreachable', content: json(ref('Health')) },
        },
      },
    },
    '/openapi.json': {
      get: { tags: ['ops'], operationId: 'openapi', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } } },
    },
    '/docs': {
      get: { tags: ['ops'], operationId: 'docs', summary: 'Human API reference (Swagger UI)', responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } } },
    },
  };
  for (const version of model.apiVersions) {
    for (const entity of model.entities) Object.assign(paths, entityPaths(entity, version));
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Reelmeta API',
      version: model.registryVersion,
      description: 'Metadata for fashion and lifestyle video production. Every entity route is generated from the schema registry.',
    },
    tags: [...model.entities.map((e) => ({ name: e.plural, description: e.description })), { name: 'ops' }],
    paths,
    components: {
      schemas: {
        ...schemas,
        Error: {
          type: 'object',
          required: ['code', 'message', 'field'],
          properties: {
            code: { type: 'string', examples: ['VALIDATION_ERROR'] },
            message: { type: 'string' },
            field: { type: ['string', 'null'], description: 'Dotted path of the offending field, e.g. wardrobe.shoes.color' },
          },
        },
        Metadata: {
          type: 'object',
          properties: {
            schema_version: { type: 'integer' },
            registry_version: { type: 'string' },
            timestamp: { type: 'string', format: 'date-time' },
          },
        },
        ListMetadata: {
          allOf: [
            ref('Metadata'),
            { type: 'object', properties: { total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } },
          ],
        },
        ErrorEnvelope: {
          type: 'object',
          required: ['data', 'metadata', 'errors'],
          properties: { data: { type: 'null' }, metadata: ref('Metadata'), errors: { type: 'array', items: ref('Error'), minItems: 1 } },
        },
        DeleteResult: {
          type: 'object',
          properties: { id: { type: 'string' }, deleted: { type: 'boolean' }, hard: { type: 'boolean' }, deleted_at: { type: ['string', 'null'], format: 'date-time' } },
        },
        Health: {
          type: 'object',
          properties: { status: { enum: ['ok', 'unavailable'] }, database: { enum: ['ok', 'unreachable'] }, registry_version: { type: 'string' } },
        },
      },
    },
  };
}
