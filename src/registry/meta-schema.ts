// JSON Schemas for the registry's own YAML files: registry.yaml, entities/*.yaml, mixins/*.yaml.
// A field definition is a discriminated union on `type`, so an unknown type or an option that
// does not belong to that type is reported precisely.
import { FIELD_TYPES, OPERATIONS, ROLES, type FieldType } from './model.ts';
import { NAME_PATTERN } from './name-pattern.ts';
import { fieldType } from './types.ts';

export { NAME_PATTERN };

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

/** The options a field of this type accepts, for "allowed: …" hints. */
export function allowedOptions(type: FieldType): string[] {
  return [...Object.keys(COMMON_OPTIONS), ...Object.keys(fieldType(type).options.properties)];
}

const fieldSchema = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: FIELD_TYPES.map((type) => ({
    properties: { ...COMMON_OPTIONS, type: { const: type }, ...fieldType(type).options.properties },
    required: [...(fieldType(type).options.required ?? [])],
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
          // One truth for a value kept in both places (seed use case 5): the parent's field and
          // the active version's field `to` follow each other; `set` fills versions made from it.
          mirror: {
            type: 'object',
            required: ['field', 'to'],
            additionalProperties: false,
            properties: {
              field: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
              to: { type: 'string', pattern: NAME_PATTERN },
              set: {
                type: 'object',
                propertyNames: { pattern: NAME_PATTERN },
                additionalProperties: { type: 'string' },
              },
            },
          },
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
    // Enums whose declared transitions are enforced (409 outside them); others' are documentation (seed 8.11).
    enforce_transitions: { type: 'array', uniqueItems: true, items: { $ref: '#/$defs/name' } },
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
    // Personal data that lapses (seed 8.9: a guest's session): once `at` has passed, `erase` is
    // cleared and `stamp` set, by a sweep every hour and when the record is read.
    expiry: {
      type: 'object',
      required: ['at', 'erase', 'stamp'],
      additionalProperties: false,
      properties: {
        at: { type: 'string', pattern: NAME_PATTERN },
        erase: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: NAME_PATTERN } },
        stamp: { type: 'string', pattern: NAME_PATTERN },
      },
    },
    // Seed 8.9: POST /{plural}/{id}/convert {"<user>": "…"} links a registered user and hands the
    // matching records of other entities over to them (their `set` field takes the user id).
    conversion: {
      type: 'object',
      required: ['user', 'hand_over'],
      additionalProperties: false,
      properties: {
        user: { type: 'string', pattern: NAME_PATTERN },
        hand_over: {
          type: 'array',
          minItems: 1,
          maxItems: 10,
          items: {
            type: 'object',
            required: ['entity', 'where', 'set'],
            additionalProperties: false,
            properties: {
              entity: { type: 'string', pattern: NAME_PATTERN },
              where: {
                type: 'object',
                minProperties: 1,
                maxProperties: 5,
                propertyNames: { pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$', maxLength: 200 },
                additionalProperties: { type: 'string', maxLength: 200 },
              },
              set: { type: 'string', pattern: NAME_PATTERN },
            },
          },
        },
      },
    },
    // A production calendar (seed 8.15): each event name → a date field; GET /{plural}/schedule(.ics).
    schedule: {
      type: 'object',
      required: ['title', 'events'],
      additionalProperties: false,
      properties: {
        title: { type: 'string', pattern: NAME_PATTERN },
        events: {
          type: 'object',
          minProperties: 1,
          maxProperties: 20,
          propertyNames: { pattern: NAME_PATTERN },
          additionalProperties: { type: 'string', pattern: NAME_PATTERN },
        },
      },
    },
    // Names a filter may use for field paths (`talent=` for talent_source); checked by the query parser.
    query_aliases: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$', maxLength: 100 },
      additionalProperties: {
        type: 'object',
        required: ['paths'],
        additionalProperties: false,
        properties: {
          description: { type: 'string' },
          paths: {
            type: 'array',
            minItems: 1,
            maxItems: 10,
            uniqueItems: true,
            items: { type: 'string', maxLength: 200 },
          },
          values: {
            type: 'object',
            additionalProperties: { type: 'object', minProperties: 1 },
          },
        },
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
