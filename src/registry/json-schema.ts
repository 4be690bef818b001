// Model → JSON Schema 2020-12. The same schema validates writes at run time (ajv), is written to
// generated/schemas/, feeds the TypeScript types and is embedded in the OpenAPI document.
import type { EntityDef, FieldDef, Model } from './model.ts';
import { fieldType, type JsonSchema } from './types.ts';

export { HTTP_URL_PATTERN, S3_URI_PATTERN } from './types.ts';
export type { JsonSchema };

/** Entity name → id prefix, so refs can check the id's shape. */
export type IdPrefixes = ReadonlyMap<string, string>;

export function idPattern(prefix: string): string {
  return `^${prefix}_[A-Za-z0-9_]+$`;
}

/** The schema of one field's value. Optional fields also accept null (null means "not set"). */
export function fieldSchema(field: FieldDef, prefixes: IdPrefixes, nullable = !field.required): JsonSchema {
  const schema: JsonSchema = {};
  if (field.description) schema.description = field.description;
  Object.assign(schema, valueSchema(field, prefixes));
  if (field.default !== undefined) schema.default = field.default;
  if (field.deprecated) schema.deprecated = true;
  if (field.readOnly) schema.readOnly = true;
  if (nullable) makeNullable(schema);
  return schema;
}

function makeNullable(schema: JsonSchema): void {
  if (Array.isArray(schema.enum)) schema.enum = [...(schema.enum as unknown[]), null];
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
}

/** The field type's own schema (registry/types.ts), with nested fields and ids resolved here. */
function valueSchema(field: FieldDef, prefixes: IdPrefixes): JsonSchema {
  return fieldType(field.type).jsonSchema(field, {
    idPattern: (entity) => {
      const prefix = prefixes.get(entity ?? '');
      return prefix ? idPattern(prefix) : undefined;
    },
    objectSchema: (fields) => objectSchema(fields, prefixes),
    itemSchema: (item) => fieldSchema(item, prefixes, false),
  });
}

function objectSchema(fields: readonly FieldDef[], prefixes: IdPrefixes): JsonSchema {
  const required = fields.filter((f) => f.required).map((f) => f.name);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f, prefixes)])),
    ...(required.length > 0 ? { required } : {}),
  };
}

export function idPrefixes(model: Model): IdPrefixes {
  return new Map(model.entities.map((e) => [e.name, e.idPrefix]));
}

export function schemaTitle(entity: EntityDef): string {
  return entity.name
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The record as the API reads and writes it: system fields, declared fields, schema_version. */
export function entitySchema(entity: EntityDef, model: Model): JsonSchema {
  const prefixes = idPrefixes(model);
  const body = objectSchema(entity.fields, prefixes);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:reelmeta:schema:${entity.name}`,
    title: schemaTitle(entity),
    ...(entity.description ? { description: entity.description } : {}),
    'x-registry-version': model.registryVersion,
    'x-schema-version': entity.schemaVersion,
    type: 'object',
    additionalProperties: false,
    properties: {
      id: { type: 'string', readOnly: true, pattern: idPattern(entity.idPrefix), description: 'Server-assigned id.' },
      ...(body.properties as JsonSchema),
      schema_version: { type: 'integer', readOnly: true, description: 'Schema version the record was written with.' },
    },
    ...(body.required ? { required: body.required } : {}),
  };
}
