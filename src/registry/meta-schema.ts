// JSON Schemas for the registry's own YAML files: registry.yaml, entities/*.yaml, mixins/*.yaml.
// A field definition is a discriminated union on `type`, so an unknown type or an option that
// does not belong to that type is reported precisely.
import { FIELD_TYPES, OPERATIONS, ROLES, type FieldType } from './model.ts';
import { BYTES_PATTERN, MEDIA_KINDS } from './media.ts';

export const NAME_PATTERN = '^[a-z][a-z0-9_]{0,62}$';

/** An ordered field may have to be at least another field of the record (timecode_out ≥ timecode_in). */
const AT_LEAST = { at_least: { type: 'string', pattern: NAME_PATTERN } } as const;

const COMMON_OPTIONS = {
  type: {},
  description: { type: 'string' },
  required: { type: 'boolean' },
  default: {},
  indexed: { type: 'boolean' },
  searchable: { type: 'boolean' },
  storage: { enum: ['column', 'document'] },
  deprecated: { type: 'boolean' },
  read_only: { type: 'boolean' },
  // Personal data: stored only while the named boolean field is true (see compile-behaviours.ts).
  with_consent: { type: 'string', pattern: NAME_PATTERN },
} as const;

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

const STRING_LIMITS = {
  max_length: { type: 'integer', minimum: 1 },
  pattern: { type: 'string', minLength: 1 },
} as const;

const NUMBER_LIMITS = {
  minimum: { type: 'number' },
  maximum: { type: 'number' },
} as const;

const TYPE_OPTIONS: Record<FieldType, { properties: Record<string, unknown>; required?: string[] }> = {
  string: { properties: { ...STRING_LIMITS, ...AT_LEAST } },
  text: { properties: { max_length: STRING_LIMITS.max_length } },
  integer: {
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
      count: {
        type: 'object',
        required: ['entity', 'path'],
        additionalProperties: false,
        properties: {
          entity: { type: 'string', pattern: NAME_PATTERN },
          path: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
        },
      },
    },
  },
  number: { properties: { ...NUMBER_LIMITS, ...AT_LEAST } },
  boolean: { properties: {} },
  date: { properties: AT_LEAST },
  datetime: { properties: { ...AT_LEAST, ...DATETIME_BEHAVIOURS } },
  enum: {
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
  s3_uri: {
    properties: {
      max_length: STRING_LIMITS.max_length,
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
  url: { properties: { max_length: STRING_LIMITS.max_length } },
  // Without `fields`, an object is an open document (any JSON object, e.g. a component's metadata).
  object: {
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
  // Every list declares how long it may be: a list's items may become records or links (a refs
  // field's junction rows, a library mirror's assets, a domain rule's wardrobe items), and one
  // request may not fan out without bound. The API answers 422 past it.
  array: {
    properties: { items: { $ref: '#/$defs/field' }, max_items: { type: 'integer', minimum: 1 } },
    required: ['items', 'max_items'],
  },
  ref: {
    properties: {
      to: { type: 'string', pattern: NAME_PATTERN },
      on_delete: { enum: ['restrict', 'cascade', 'set_null'] },
    },
    required: ['to'],
  },
  refs: {
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
};

/** The options a field of this type accepts, for "allowed: …" hints. */
export function allowedOptions(type: FieldType): string[] {
  return [...Object.keys(COMMON_OPTIONS), ...Object.keys(TYPE_OPTIONS[type].properties)];
}

const fieldSchema = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: FIELD_TYPES.map((type) => ({
    properties: { ...COMMON_OPTIONS, type: { const: type }, ...TYPE_OPTIONS[type].properties },
    required: TYPE_OPTIONS[type].required ?? [],
    additionalProperties: false,
  })),
};

const PATH = { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' } as const;
const PATHS = { type: 'array', minItems: 2, uniqueItems: true, items: PATH } as const;

/** One upgrade step: an object with exactly one key naming its kind. */
const upgradeStep = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: {
    rename: {
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: { from: PATH, to: PATH },
    },
    move: {
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: { from: PATH, to: PATH },
    },
    set_default: {
      type: 'object',
      required: ['field', 'value'],
      additionalProperties: false,
      properties: { field: PATH, value: {} },
    },
    split: {
      type: 'object',
      required: ['from', 'to', 'separator'],
      additionalProperties: false,
      properties: { from: PATH, to: PATHS, separator: { type: 'string', minLength: 1 } },
    },
    join: {
      type: 'object',
      required: ['from', 'to', 'separator'],
      additionalProperties: false,
      properties: { from: PATHS, to: PATH, separator: { type: 'string' } },
    },
    map_values: {
      type: 'object',
      required: ['field', 'map'],
      additionalProperties: false,
      properties: {
        field: PATH,
        map: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
      },
    },
    remove: { type: 'object', required: ['field'], additionalProperties: false, properties: { field: PATH } },
  },
} as const;

const defs = {
  name: { type: 'string', pattern: NAME_PATTERN },
  /** `permissions: { read: viewer, hard_delete: admin }`: the least role each operation needs. */
  permissions: {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(OPERATIONS.map((operation) => [operation, { enum: [...ROLES] }])),
  },
  semver: { type: 'string', pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)$' },
  apiVersionName: { type: 'string', pattern: '^v[1-9][0-9]*$' },
  /** Lists of top-level field names, e.g. `unique: [[show_id, season, episode_number]]`. */
  fieldSets: {
    type: 'array',
    items: { type: 'array', minItems: 1, uniqueItems: true, items: { $ref: '#/$defs/name' } },
  },
  field: fieldSchema,
  fields: {
    type: 'object',
    minProperties: 1,
    propertyNames: { pattern: NAME_PATTERN },
    additionalProperties: { $ref: '#/$defs/field' },
  },
};

export const registryFileSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'reelmeta:registry',
  type: 'object',
  required: ['registry_version', 'api_versions', 'entities'],
  additionalProperties: false,
  properties: {
    registry_version: { $ref: '#/$defs/semver' },
    // `v1`, or `{ name: v1, release: 1.7.0, deprecation: …, sunset: … }` for a version that keeps an
    // older release's record shapes; the last one listed is the current version.
    api_versions: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          { $ref: '#/$defs/apiVersionName' },
          {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: {
              name: { $ref: '#/$defs/apiVersionName' },
              release: { $ref: '#/$defs/semver' },
              deprecation: { type: 'string', format: 'date' },
              sunset: { type: 'string', format: 'date' },
              description: { type: 'string' },
            },
          },
        ],
      },
    },
    mixins: { type: 'array', uniqueItems: true, items: { $ref: '#/$defs/name' } },
    entities: { type: 'array', minItems: 1, uniqueItems: true, items: { $ref: '#/$defs/name' } },
    permissions: { $ref: '#/$defs/permissions' },
  },
  $defs: defs,
};

export const entityFileSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'reelmeta:entity',
  type: 'object',
  required: ['name', 'plural', 'id_prefix', 'schema_version', 'fields'],
  additionalProperties: false,
  // `x-…` keys hold YAML anchors and notes; they are ignored.
  patternProperties: { '^x-': {} },
  properties: {
    name: { $ref: '#/$defs/name' },
    plural: { $ref: '#/$defs/name' },
    id_prefix: { type: 'string', pattern: '^[a-z]{2,8}$' },
    schema_version: { type: 'integer', minimum: 1 },
    description: { type: 'string' },
    mixins: { type: 'array', uniqueItems: true, items: { $ref: '#/$defs/name' } },
    fields: { $ref: '#/$defs/fields' },
    permissions: { $ref: '#/$defs/permissions' },
    // How the entity's thumbnails are made (seed 8.12): the first source that yields an image wins.
    thumbnails: {
      type: 'object',
      required: ['field', 'status', 'sources'],
      additionalProperties: false,
      properties: {
        field: { type: 'string', pattern: NAME_PATTERN },
        status: { type: 'string', pattern: NAME_PATTERN },
        sources: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            minProperties: 1,
            maxProperties: 2,
            additionalProperties: false,
            properties: {
              image: PATH,
              frame: PATH,
              at_seconds: { type: 'number', minimum: 0 },
              compose: {
                type: 'object',
                required: ['over'],
                additionalProperties: false,
                properties: { over: PATH, under: PATH },
              },
            },
          },
        },
      },
    },
    versions: {
      type: 'object',
      required: ['entity', 'via', 'number', 'active', 'text'],
      additionalProperties: false,
      properties: Object.fromEntries(
        ['entity', 'via', 'number', 'active', 'text'].map((k) => [k, { type: 'string', pattern: NAME_PATTERN }]),
      ),
    },
    parts: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9-]{0,62}$' },
      additionalProperties: {
        type: 'object',
        required: ['entity', 'via'],
        additionalProperties: false,
        properties: {
          entity: { type: 'string', pattern: NAME_PATTERN },
          via: { type: 'string', pattern: NAME_PATTERN },
          where: { type: 'object', propertyNames: { pattern: NAME_PATTERN }, additionalProperties: { type: 'string' } },
        },
      },
    },
    // Domain rules (registry/rule-catalog.ts) by name, each naming the fields it uses.
    rules: {
      type: 'object',
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { type: 'string', pattern: NAME_PATTERN },
      },
    },
    // Names of removed fields, which no field may take again.
    reserved: { type: 'array', uniqueItems: true, items: { $ref: '#/$defs/name' } },
    // schema_version → the steps that take a record from the version before to it.
    upgrades: {
      type: 'object',
      propertyNames: { pattern: '^[1-9][0-9]*$' },
      additionalProperties: { type: 'array', minItems: 1, items: upgradeStep },
    },
    unique: { $ref: '#/$defs/fieldSets' },
    duplicate_warnings: { $ref: '#/$defs/fieldSets' },
    // Named filters (`?unassigned=true`); the filter itself is checked by the query parser.
    presets: {
      type: 'object',
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        required: ['filter'],
        additionalProperties: false,
        properties: { description: { type: 'string' }, filter: { type: 'object', minProperties: 1 } },
      },
    },
    // Sub-resources that read and write part of a record: GET/PUT /episodes/{id}/script.
    views: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9-]{0,62}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          description: { type: 'string' },
          field: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
          fields: {
            type: 'object',
            minProperties: 1,
            propertyNames: { pattern: NAME_PATTERN },
            additionalProperties: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
          },
        },
        oneOf: [{ required: ['field'] }, { required: ['fields'] }],
      },
    },
  },
  $defs: defs,
};

export const mixinFileSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'reelmeta:mixin',
  type: 'object',
  required: ['name', 'fields'],
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  properties: {
    name: { $ref: '#/$defs/name' },
    description: { type: 'string' },
    fields: { $ref: '#/$defs/fields' },
  },
  $defs: defs,
};
