// The compiled registry: what every other part of the platform reads instead of the YAML.
import type { Condition } from '../query/ast.ts';

export const FIELD_TYPES = [
  'string',
  'text',
  'integer',
  'number',
  'boolean',
  'date',
  'datetime',
  'enum',
  's3_uri',
  'url',
  'object',
  'array',
  'ref',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

export type FieldStorage = 'column' | 'document';

export interface FieldDef {
  /** Last path segment; `items` for an array's element definition. */
  readonly name: string;
  /** Path from the entity root, e.g. ['wardrobe', 'shoes', 'color']. */
  readonly path: readonly string[];
  readonly type: FieldType;
  readonly description?: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly indexed: boolean;
  readonly searchable: boolean;
  readonly storage: FieldStorage;
  readonly deprecated: boolean;
  /** Server-owned: ignored on write, always present on read. */
  readonly readOnly: boolean;
  /** enum: canonical values. */
  readonly values?: readonly string[];
  /** enum: accepted spelling → canonical value. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** enum: the values an update may move to from each value; absent means any change is allowed. */
  readonly transitions?: Readonly<Record<string, readonly string[]>>;
  /** object: nested fields. */
  readonly fields?: readonly FieldDef[];
  /** array: the element definition. */
  readonly items?: FieldDef;
  /** ref: target entity name. */
  readonly to?: string;
  /** ref: what deleting the target does to this record: refuse (default), delete it too, or clear the ref. */
  readonly onDelete?: 'restrict' | 'cascade' | 'set_null';
  /** The name of another top-level field of the same type this one may not be less than. */
  readonly atLeast?: string;
  /** integer: numbered 1, 2, 3… among live records sharing the values of `within`. */
  readonly sequence?: { readonly within: readonly string[] };
  /** Where the field was declared, for error messages. */
  readonly source: { readonly file: string; readonly path: string };
}

export interface EntityDef {
  readonly name: string;
  readonly plural: string;
  readonly idPrefix: string;
  readonly table: string;
  readonly schemaVersion: number;
  readonly description?: string;
  readonly mixins: readonly string[];
  /** Top-level fields: the entity's own, then each mixin's, in declaration order. */
  readonly fields: readonly FieldDef[];
  /** Sets of top-level fields whose values may appear together on one live record only. */
  readonly unique: readonly (readonly string[])[];
  /**
   * Sets of top-level fields that, when another live record has the same values for all of them,
   * make a create or update answer with a POSSIBLE_DUPLICATE warning (the write still happens).
   */
  readonly duplicateWarnings: readonly (readonly string[])[];
  /** Named filters a list takes as `?name=true` (the filter) or `?name=false` (its negation). */
  readonly presets: readonly PresetDef[];
  readonly file: string;
}

export interface PresetDef {
  readonly name: string;
  readonly description?: string;
  /** The filter as declared, in the JSON form `filter=` takes (for documentation). */
  readonly filter: Readonly<Record<string, unknown>>;
  /** The filter parsed against the entity when the registry was compiled. */
  readonly condition: Condition;
}

export interface Model {
  readonly registryVersion: string;
  readonly apiVersions: readonly string[];
  readonly entities: readonly EntityDef[];
}

/** Columns every entity table has, whatever the registry says. */
export const SYSTEM_COLUMNS = ['id', 'schema_version', 'doc'] as const;

/**
 * Names a field cannot take: the system columns, the generated full-text column, and the list
 * query's own parameters (a field named `q` could never be filtered on).
 */
export const RESERVED_FIELD_NAMES = [...SYSTEM_COLUMNS, 'search_vector', 'q', 'filter', 'include_deleted'] as const;

export function findEntity(model: Model, name: string): EntityDef | undefined {
  return model.entities.find((e) => e.name === name);
}

export function findField(entity: EntityDef, name: string): FieldDef | undefined {
  return entity.fields.find((f) => f.name === name);
}

/** "a show", "an episode": entity names in messages and docs. */
export const withArticle = (noun: string): string => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

/** Soft delete is on when the entity carries the soft_delete mixin's `deleted_at`. */
export function hasSoftDelete(entity: EntityDef): boolean {
  return findField(entity, 'deleted_at')?.type === 'datetime';
}

export function hasTimestamps(entity: EntityDef): boolean {
  return findField(entity, 'created_at') !== undefined && findField(entity, 'updated_at') !== undefined;
}

/** Fields a client may write (everything not server-owned). */
export function writableFields(entity: EntityDef): FieldDef[] {
  return entity.fields.filter((f) => !f.readOnly);
}

export interface SequenceRoute {
  /** e.g. `/api/v1/shows/:id/next-episode-number`. */
  readonly path: string;
  readonly field: FieldDef;
  readonly parent: EntityDef;
  /** The ref field naming the parent (the first of `within`). */
  readonly parentField: string;
  /** The other scope fields, given as query parameters. */
  readonly scope: readonly FieldDef[];
}

/** Sequences whose scope starts with a ref get a "next number" route under the referenced entity. */
export function sequenceRoutes(model: Model, entity: EntityDef, version: string): SequenceRoute[] {
  const routes: SequenceRoute[] = [];
  for (const field of entity.fields) {
    const [first, ...rest] = field.sequence?.within ?? [];
    const ref = first === undefined ? undefined : findField(entity, first);
    const parent = ref?.type === 'ref' ? findEntity(model, ref.to!) : undefined;
    if (!parent) continue;
    routes.push({
      path: `/api/${version}/${parent.plural}/:id/next-${field.name.replace(/_/g, '-')}`,
      field,
      parent,
      parentField: first!,
      scope: rest.map((name) => findField(entity, name)!),
    });
  }
  return routes;
}

export interface ChildRoute {
  /** e.g. `/api/v1/shows/:id/episodes`. */
  readonly path: string;
  readonly parent: EntityDef;
  /** The child's ref field that names the parent. */
  readonly field: FieldDef;
}

/**
 * A ref gives the referenced entity a sub-resource listing the referring records. When an entity
 * refers to the same parent through two fields, the path would be ambiguous, so neither gets one.
 */
export function childRoutes(model: Model, entity: EntityDef, version: string): ChildRoute[] {
  const refs = entity.fields.filter((f) => f.type === 'ref' && f.storage === 'column');
  return refs
    .filter((f) => refs.filter((other) => other.to === f.to).length === 1)
    .map((field) => {
      const parent = findEntity(model, field.to!)!;
      return { path: `/api/${version}/${parent.plural}/:id/${entity.plural}`, parent, field };
    });
}

/** Looks a dotted path up through nested objects, e.g. `wardrobe.shoes.color`. */
export function resolvePath(entity: EntityDef, path: readonly string[]): FieldDef | undefined {
  let fields: readonly FieldDef[] | undefined = entity.fields;
  let found: FieldDef | undefined;
  for (const segment of path) {
    found = fields?.find((f) => f.name === segment);
    if (!found) return undefined;
    fields = found.fields;
  }
  return found;
}
