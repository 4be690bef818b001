// The field-type table: for each field type of the registry, everything a layer needs to know
// about it in one entry — its PostgreSQL column type, how a value inside JSONB is cast, the
// options its YAML definition takes, its JSON Schema, the filter operators it accepts, how a
// client's query text becomes a typed value, and its OpenAPI parameter form. Adding a field type
// is adding an entry here (and its name to FIELD_TYPES).
import { NORMALIZE_MODES, normalizeText } from './normalize.ts';
import { isStorableDate, isStorableDateTime } from './ajv.ts';
import { BYTES_PATTERN, MEDIA_KINDS } from './media.ts';
import type { FieldDef, FieldType } from './model.ts';
import { NAME_PATTERN } from './name-pattern.ts';
import { ownValue } from './own.ts';
import { unusableText } from './text.ts';

export type JsonSchema = Record<string, unknown>;
/** A typed query value: what a client's text becomes once coerced to its field's type. */
export type ScalarValue = string | number | boolean;
export type Coerced = ScalarValue | { readonly error: string };

export const S3_URI_PATTERN = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$';
export const HTTP_URL_PATTERN = '^https?://';

/** Every filter operator, in the documented order. */
export const FILTER_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'between',
  'contains',
  'icontains',
  'startswith',
  'endswith',
  'exists',
  'null',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const RANGE: readonly FilterOperator[] = ['gt', 'gte', 'lt', 'lte', 'between'];
export const SUBSTRING_OPERATORS: readonly FilterOperator[] = ['contains', 'icontains', 'startswith', 'endswith'];

/** The operators of a single value: all but ranges unless it is ordered, all but substrings unless it is text. */
function scalarOperators(ordered: boolean, textual: boolean): readonly FilterOperator[] {
  return FILTER_OPERATORS.filter(
    (op) => (ordered || !RANGE.includes(op)) && (textual || !SUBSTRING_OPERATORS.includes(op)),
  );
}

/** What a type's JSON Schema needs from the generator: nested schemas and reference id patterns. */
export interface SchemaContext {
  /** The id pattern of `entity`'s records, when it is known. */
  idPattern(entity: string | undefined): string | undefined;
  /** An object with these fields. */
  objectSchema(fields: readonly FieldDef[]): JsonSchema;
  /** A list's element. */
  itemSchema(field: FieldDef): JsonSchema;
}

export interface TypeOptions {
  readonly properties: Record<string, unknown>;
  readonly required?: readonly string[];
}

export interface FieldTypeInfo {
  /** The PostgreSQL type of a column of this type in the generated DDL. */
  readonly columnType: string;
  /** The type a bound value is cast to when compared with a column of this type (`$1::int8`). */
  readonly bindType: string;
  /**
   * The cast of a value read out of JSONB as text (`doc #>> '{a}'`); none: it compares as text.
   * Dates stay text: validated YYYY-MM-DD strings order correctly as text, and a text expression
   * can be indexed (a cast to date cannot, it is not immutable).
   */
  readonly jsonbCast?: string;
  /** The options its YAML definition accepts besides the common ones (the registry's meta-schema). */
  readonly options: TypeOptions;
  /** The JSON Schema of a value. */
  readonly jsonSchema: (field: FieldDef, context: SchemaContext) => JsonSchema;
  /** The filter operators a single value of this type accepts, in the documented order. */
  readonly operators: readonly FilterOperator[];
  /** A client's query text → a typed value, or why it cannot be one. */
  readonly coerce: (text: string, def?: FieldDef) => Coerced;
  /** Whether a value decoded from a cursor can stand for a value of this type. */
  readonly fits: (value: ScalarValue) => boolean;
  /** The OpenAPI schema of a filter query parameter on a field of this type. */
  readonly parameter: (field: FieldDef) => JsonSchema;
}

export function parseBoolean(text: string): boolean | undefined {
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

function parseInteger(text: string): number | undefined {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : undefined;
}

const asText = (text: string): Coerced => text;
const isUsableText = (value: ScalarValue) => typeof value === 'string' && unusableText(value) === undefined;
const textParameter = (): JsonSchema => ({ type: 'string' });
const maxLength = (field: FieldDef) => (field.maxLength === undefined ? {} : { maxLength: field.maxLength });

const AT_LEAST = { at_least: { type: 'string', pattern: NAME_PATTERN } } as const;
/** `count:` and `link_roles:`: the referring entity and the path of ref/refs fields from it (`pathPattern`). */
const referringFrom = (pathPattern: string) =>
  ({
    type: 'object',
    required: ['entity', 'path'],
    additionalProperties: false,
    properties: { entity: { type: 'string', pattern: NAME_PATTERN }, path: { type: 'string', pattern: pathPattern } },
  }) as const;

/** A datetime's server behaviours (see compile-behaviours.ts): a stamp, or a default some days ahead. */
const DATETIME_BEHAVIOURS = {
  stamp: {
    type: 'object',
    required: ['when_set'],
    additionalProperties: false,
    properties: { when_set: { type: 'string', pattern: NAME_PATTERN }, clear_when_unset: { type: 'boolean' } },
  },
  default_from_now: {
    type: 'object',
    required: ['days'],
    additionalProperties: false,
    properties: {
      days: { type: 'integer', minimum: 1, maximum: 3650 },
      setting: { type: 'string', pattern: NAME_PATTERN },
    },
  },
} as const;
const MAX_LENGTH = { type: 'integer', minimum: 1 } as const;
const NUMBER_LIMITS = { minimum: { type: 'number' }, maximum: { type: 'number' } } as const;

/** What every text-like type shares: stored as text, compared as text, any usable text as a value. */
const TEXT = {
  columnType: 'text',
  bindType: 'text',
  operators: scalarOperators(false, true),
  coerce: asText,
  fits: isUsableText,
  parameter: textParameter,
} as const;

/** Types with no single value to filter by; their entries say how they are stored and described. */
const JSON_VALUE = {
  columnType: 'jsonb',
  bindType: 'jsonb',
  operators: scalarOperators(false, false),
  coerce: asText,
  fits: isUsableText,
  parameter: textParameter,
} as const;

const refSchema = (field: FieldDef, context: SchemaContext): JsonSchema => {
  const pattern = context.idPattern(field.to);
  return { type: 'string', ...(pattern ? { pattern } : {}) };
};

const TABLE: Readonly<Record<FieldType, FieldTypeInfo>> = {
  string: {
    ...TEXT,
    operators: scalarOperators(true, true),
    options: {
      properties: {
        max_length: MAX_LENGTH,
        pattern: { type: 'string', minLength: 1 },
        normalize: { enum: [...NORMALIZE_MODES] },
        ...AT_LEAST,
      },
    },
    jsonSchema: (field) => ({
      type: 'string',
      ...maxLength(field),
      ...(field.pattern ? { pattern: field.pattern } : {}),
    }),
  },
  text: {
    ...TEXT,
    operators: scalarOperators(true, true),
    options: { properties: { max_length: MAX_LENGTH } },
    jsonSchema: (field) => ({ type: 'string', ...maxLength(field) }),
  },
  integer: {
    columnType: 'bigint',
    bindType: 'int8',
    jsonbCast: 'int8',
    options: {
      properties: {
        ...NUMBER_LIMITS,
        ...AT_LEAST,
        sequence: {
          type: 'object',
          required: ['within'],
          additionalProperties: false,
          properties: {
            within: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: NAME_PATTERN } },
            // At most this many numbers in one scope: the next create → 409 (a script's 100 versions).
            max: { type: 'integer', minimum: 1 },
          },
        },
        count: referringFrom('^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$'),
      },
    },
    // Stored as bigint and read as a JS number: keep within the safe-integer range.
    jsonSchema: (field) => ({
      type: 'integer',
      minimum: field.minimum ?? -Number.MAX_SAFE_INTEGER,
      maximum: field.maximum ?? Number.MAX_SAFE_INTEGER,
    }),
    operators: scalarOperators(true, false),
    coerce: (text) => parseInteger(text) ?? { error: `"${text}" is not an integer` },
    fits: (value) => Number.isSafeInteger(value),
    parameter: () => ({ type: 'integer' }),
  },
  number: {
    columnType: 'double precision',
    bindType: 'float8',
    jsonbCast: 'float8',
    options: { properties: { ...NUMBER_LIMITS, ...AT_LEAST } },
    jsonSchema: (field) => ({
      type: 'number',
      ...(field.minimum === undefined ? {} : { minimum: field.minimum }),
      ...(field.maximum === undefined ? {} : { maximum: field.maximum }),
    }),
    operators: scalarOperators(true, false),
    coerce: (text) => {
      const n = text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(n) ? n : { error: `"${text}" is not a number` };
    },
    fits: (value) => typeof value === 'number' && Number.isFinite(value),
    parameter: () => ({ type: 'number' }),
  },
  boolean: {
    columnType: 'boolean',
    bindType: 'bool',
    jsonbCast: 'bool',
    options: { properties: {} },
    jsonSchema: () => ({ type: 'boolean' }),
    operators: scalarOperators(false, false),
    coerce: (text) => parseBoolean(text) ?? { error: `"${text}" is not true or false` },
    fits: (value) => typeof value === 'boolean',
    parameter: () => ({ type: 'boolean' }),
  },
  date: {
    columnType: 'date',
    bindType: 'date',
    options: { properties: AT_LEAST },
    jsonSchema: () => ({ type: 'string', format: 'date' }),
    operators: scalarOperators(true, false),
    coerce: (text) => (isStorableDate(text) ? text : { error: `"${text}" is not a date (YYYY-MM-DD)` }),
    fits: (value) => typeof value === 'string' && isStorableDate(value),
    parameter: () => ({ type: 'string', format: 'date' }),
  },
  datetime: {
    columnType: 'timestamptz(3)',
    bindType: 'timestamptz',
    jsonbCast: 'timestamptz',
    options: { properties: { ...AT_LEAST, ...DATETIME_BEHAVIOURS } },
    jsonSchema: () => ({ type: 'string', format: 'date-time' }),
    operators: scalarOperators(true, false),
    coerce: (text) => {
      // A bare date means its midnight UTC.
      if (isStorableDate(text)) return `${text}T00:00:00.000Z`;
      return isStorableDateTime(text) && Number.isFinite(Date.parse(text))
        ? new Date(text).toISOString()
        : { error: `"${text}" is not a date-time (RFC 3339, e.g. 2025-12-31T10:00:00Z, or a date)` };
    },
    fits: (value) => typeof value === 'string' && isStorableDateTime(value) && Number.isFinite(Date.parse(value)),
    parameter: () => ({ type: 'string', format: 'date-time' }),
  },
  enum: {
    ...TEXT,
    options: {
      properties: {
        values: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
        aliases: { type: 'object', additionalProperties: { type: 'string' } },
        transitions: {
          type: 'object',
          additionalProperties: { type: 'array', uniqueItems: true, items: { type: 'string' } },
        },
        // An open enum: values outside the list are accepted when they match (talent "Guest - Name").
        other_pattern: { type: 'string', minLength: 1 },
      },
      required: ['values'],
    },
    // An open enum also takes text matching its pattern (a null, when allowed, passes `pattern`).
    jsonSchema: (field) =>
      field.otherPattern
        ? { type: 'string', anyOf: [{ enum: [...(field.values ?? [])] }, { pattern: field.otherPattern }] }
        : { type: 'string', enum: [...(field.values ?? [])] },
    coerce: (text, def) => {
      const canonical = def?.values?.includes(text) ? text : ownValue(def?.aliases, text);
      if (canonical === undefined && def?.otherPattern && new RegExp(def.otherPattern, 'u').test(text)) return text;
      const other = def?.otherPattern ? `, or text matching ${def.otherPattern}` : '';
      return canonical ?? { error: `"${text}" is not one of: ${def?.values?.join(', ')}${other}` };
    },
    parameter: (field) => {
      const accepted = [...(field.values ?? []), ...Object.keys(field.aliases ?? {})];
      return field.otherPattern
        ? { type: 'string', description: `${accepted.join(', ')}, or text matching ${field.otherPattern}` }
        : { type: 'string', enum: accepted };
    },
  },
  s3_uri: {
    ...TEXT,
    options: {
      properties: {
        max_length: MAX_LENGTH,
        // Uploadable media (see registry/media.ts): what may be uploaded, how large, and where it lands.
        media: {
          type: 'object',
          required: ['kinds', 'max_bytes', 'key'],
          additionalProperties: false,
          properties: {
            kinds: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...MEDIA_KINDS] } },
            content_types: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', pattern: '^[a-z]+/[a-z0-9][a-z0-9.+-]*$' },
            },
            max_bytes: {
              oneOf: [
                { type: 'integer', minimum: 1 },
                { type: 'string', pattern: BYTES_PATTERN },
              ],
            },
            key: { type: 'string', minLength: 1, maxLength: 500 },
            verify: { type: 'boolean' },
            // Top-level fields the server fills with the object's size and ETag whenever it sees the object.
            size_field: { type: 'string', pattern: NAME_PATTERN },
            etag_field: { type: 'string', pattern: NAME_PATTERN },
          },
        },
      },
    },
    jsonSchema: (field) => ({ type: 'string', pattern: S3_URI_PATTERN, ...maxLength(field) }),
  },
  url: {
    ...TEXT,
    options: { properties: { max_length: MAX_LENGTH } },
    jsonSchema: (field) => ({ type: 'string', format: 'uri', pattern: HTTP_URL_PATTERN, ...maxLength(field) }),
  },
  ref: {
    ...TEXT,
    options: {
      properties: {
        to: { type: 'string', pattern: NAME_PATTERN },
        on_delete: { enum: ['restrict', 'cascade', 'set_null'] },
      },
      required: ['to'],
    },
    jsonSchema: refSchema,
  },
  refs: {
    // Stored as junction rows; a filter on it compares the linked ids (text).
    ...TEXT,
    operators: scalarOperators(false, false),
    options: {
      properties: {
        to: { type: 'string', pattern: NAME_PATTERN },
        // set_null removes the link when the target is deleted; cascading to the owner is not offered.
        on_delete: { enum: ['restrict', 'set_null'] },
        // Required, like an array's: each link is a junction row.
        max_items: { type: 'integer', minimum: 1 },
        role: {
          type: 'object',
          additionalProperties: false,
          properties: {
            required: { type: 'boolean' },
            values: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', minLength: 1, maxLength: 200 },
            },
            max_length: { type: 'integer', minimum: 1, maximum: 200 },
            description: { type: 'string' },
          },
        },
      },
      required: ['to', 'max_items'],
    },
    jsonSchema: (field, context) => {
      const id = refSchema(field, context);
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
    },
  },
  // Without `fields`, an object is an open document (any JSON object, e.g. a component's metadata).
  object: {
    ...JSON_VALUE,
    options: {
      properties: {
        fields: { $ref: '#/$defs/fields' },
        library: {
          type: 'object',
          required: ['refs', 'match', 'name'],
          additionalProperties: false,
          properties: {
            refs: { type: 'string', pattern: NAME_PATTERN },
            match: { type: 'string', pattern: NAME_PATTERN },
            name: { type: 'string', pattern: NAME_PATTERN },
          },
        },
      },
    },
    jsonSchema: (field, context) => (field.fields ? context.objectSchema(field.fields) : { type: 'object' }),
  },
  // Every list declares how long it may be: a list's items may become records or links (a refs
  // field's junction rows, a library mirror's assets, a domain rule's wardrobe items), and one
  // request may not fan out without bound. The API answers 422 past it.
  array: {
    ...JSON_VALUE,
    options: {
      properties: {
        items: { $ref: '#/$defs/field' },
        max_items: { type: 'integer', minimum: 1 },
        // The roles of the links live records of `entity` hold to this one through `path` (who wore an outfit).
        link_roles: referringFrom('^[a-z][a-z0-9_]*$'),
      },
      required: ['items', 'max_items'],
    },
    jsonSchema: (field, context) => ({
      type: 'array',
      items: field.items ? context.itemSchema(field.items) : {},
      ...(field.maxItems === undefined ? {} : { maxItems: field.maxItems }),
    }),
  },
};

/**
 * The entry of a field type. Types come from YAML (checked against FIELD_TYPES by the
 * meta-schema), so the lookup still reads own keys only: `__proto__` is not a type.
 */
export function fieldType(type: FieldType): FieldTypeInfo {
  if (!Object.hasOwn(TABLE, type)) throw new Error(`unknown field type ${JSON.stringify(type)}`);
  return TABLE[type];
}

/** A client's text as a value of `type`: unusable text (control characters, …) is refused first. */
export function coerceValue(type: FieldType, text: string, def?: FieldDef): Coerced {
  const problem = unusableText(text);
  if (problem) return { error: problem };
  // A normalized field is compared in its stored spelling.
  return fieldType(type).coerce(def?.normalize ? normalizeText(text, def.normalize) : text, def);
}
