// The pieces every resource's OpenAPI descriptions are made of: schema references, the envelope
// of an answer, error responses, the record id parameter, and the name of an entity's record
// schema in an API version. The shared component schemas themselves are in document.ts.
import { schemaTitle, type JsonSchema } from '../../registry/json-schema.ts';
import type { ApiVersionDef, EntityDef } from '../../registry/model.ts';
import type { Parameter, ResponseDoc } from '../route.ts';

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

export const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

export const errorResponse = (description: string): ResponseDoc => ({
  description,
  content: json(ref('ErrorEnvelope')),
});

/** `{ data, metadata, errors: [] }` around `data` (a list of it when `list`); `metadata` a component name or a schema. */
export function envelope(
  data: JsonSchema,
  list = false,
  metadata: string | JsonSchema = list ? 'ListMetadata' : 'Metadata',
): JsonSchema {
  return {
    type: 'object',
    required: ['data', 'metadata', 'errors'],
    properties: {
      data: list ? { type: 'array', items: data } : data,
      metadata: typeof metadata === 'string' ? ref(metadata) : metadata,
      errors: { type: 'array', items: ref('Error'), maxItems: 0 },
    },
  };
}

/** `:id` of a record route. */
export const idParam: Parameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The component schema of the entity's records in this API version: its own when older, else the current one. */
export function recordSchemaName(entity: EntityDef, version: ApiVersionDef): string {
  const schemaVersion = version.schemaVersions[entity.name] ?? entity.schemaVersion;
  return schemaVersion === entity.schemaVersion ? schemaTitle(entity) : `${schemaTitle(entity)}_${version.name}`;
}

/** The 401/403/429 every /api operation may answer (the ops routes are open). */
export const API_REFUSALS: Readonly<Record<number, ResponseDoc>> = {
  401: errorResponse('No token, or a token that does not verify (see the WWW-Authenticate header)'),
  403: errorResponse(
    "The caller's role is below the one the registry's permissions give this operation (the message names it)",
  ),
  429: errorResponse(
    "The caller's request budget is spent (RATE_LIMITED); Retry-After says when to try again, RateLimit-* headers where it stands",
  ),
};
