// Model → JSON Schema 2020-12. The same schema validates writes at run time (ajv), is written to
// generated/schemas/, feeds the TypeScript types and is embedded in the OpenAPI document.
import type { EntityDef, FieldDef, Model } from './model.ts';

export type JsonSchema = Record<string, unknown>;

export const S3_URI_PATTERN = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$';
export const HTTP_URL_PATTERN = '^https?://';

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

function valueSchema(field: FieldDef, prefixes: IdPrefixes): JsonSchema {
  const maxLength = field.maxLength === undefined ? {} : { maxLength: field.maxLength };
  switch (field.type) {
    case 'string':
      return { type: 'string', ...maxLength, ...(field.pattern ? { pattern: field.pattern } : {}) };
    case 'text':
      return { type: 'string', ...maxLength };
    case 'integer':
      // Stored as bigint and read as a JS number: keep within the safe-integer range.
      return {
        type: 'integer',
        minimum: field.minimum ?? -Number.MAX_SAFE_INTEGER,
        maximum: field.maximum ?? Number.MAX_SAFE_INTEGER,
      };
    case 'number':
      return {
        type: 'number',
        ...(field.minimum === undefined ? {} : { minimum: field.minimum }),
        ...(field.maximum === undefined ? {} : { maximum: field.maximum }),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'enum':
      // An open enum also takes text matching its pattern (a null, when allowed, passes `pattern`).
      return field.otherPattern
        ? { type: 'string', anyOf: [{ enum: [...(field.values ?? [])] }, { pattern: field.otherPattern }] }
        : { type: 'string', enum: [...(field.values ?? [])] };
    case 's3_uri':
      return { type: 'string', pattern: S3_URI_PATTERN, ...maxLength };
    case 'url':
      return { type: 'string', format: 'uri', pattern: HTTP_URL_PATTERN, ...maxLength };
    case 'ref': {
      const prefix = prefixes.get(field.to ?? '');
      return { type: 'string', ...(prefix ? { pattern: idPattern(prefix) } : {}) };
    }
    case 'refs': {
      const prefix = prefixes.get(field.to ?? '');
      const id = { type: 'string', ...(prefix ? { pattern: idPattern(prefix) } : {}) };
      const role = field.role && {
        type: 'string',
        maxLength: field.role.maxLength,
        ...(field.role.values ? { enum: [...field.role.values] } : {}),
        ...(field.role.description ? { description: field.role.description } : {}),
      };
      // Without a role a link is the target's id; with one, { id, role }. A link appears once.
      const link = role
        ? {
            type: 'object',
            additionalProperties: false,
            properties: { id, role },
            required: field.role!.required ? ['id', 'role'] : ['id'],
          }
        : id;
      return {
        type: 'array',
        uniqueItems: true,
        items: link,
        ...(field.maxItems === undefined ? {} : { maxItems: field.maxItems }),
      };
    }
    case 'object':
      return field.fields ? objectSchema(field.fields, prefixes) : { type: 'object' };
    case 'array':
      return {
        type: 'array',
        items: field.items ? fieldSchema(field.items, prefixes, false) : {},
        ...(field.maxItems === undefined ? {} : { maxItems: field.maxItems }),
      };
  }
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
