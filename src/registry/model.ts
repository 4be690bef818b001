// The compiled registry: what every other part of the platform reads instead of the YAML.
import type { NormalizeMode } from './normalize.ts';
import type { MediaDef, ThumbnailsDef } from './media.ts';
import { SEARCH_COLUMN } from './names.ts';

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
  'refs',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

/** Roles from least to most (Cognito groups of these names): each may do all the ones before it may. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a request does to an entity's records, each granted to a least role by `permissions:`. */
export const OPERATIONS = [
  'read',
  'create',
  'update',
  'delete',
  'restore',
  'hard_delete',
  'include_deleted',
  'import',
] as const;
export type Operation = (typeof OPERATIONS)[number];
export type Permissions = Readonly<Record<Operation, Role>>;

/** Seed 8.1: viewers read, editors write, admins everything (hard deletes only they may do). */
export const DEFAULT_PERMISSIONS: Permissions = {
  read: 'viewer',
  create: 'editor',
  update: 'editor',
  delete: 'editor',
  restore: 'admin',
  hard_delete: 'admin',
  include_deleted: 'admin',
  import: 'admin',
};

/**
 * Where a top-level field's value lives: its own column, a key of the `doc` JSONB column, a
 * junction table (`refs`), or nowhere (a `count` or `link_roles`, computed when read).
 */
export type FieldStorage = 'column' | 'document' | 'links' | 'computed';

/** refs: the optional role (slot) each link carries, e.g. `main_closet` or a talent's name. */
export interface RoleDef {
  readonly required: boolean;
  /** The allowed roles; absent means any text up to maxLength. */
  readonly values?: readonly string[];
  readonly maxLength: number;
  readonly description?: string;
}

/** A read-only integer: how many live records of `entity` reach this one through `path`. */
export interface CountDef {
  readonly entity: string;
  /** ref/refs fields, starting at `entity`, whose last hop points at this entity. */
  readonly path: readonly string[];
}

/**
 * An object field whose S3 URIs are mirrored, on every write, onto links to a shared library
 * (seed 8.3): each URI is matched to a live library record by `match` (created when missing,
 * named by its slot) and linked through the refs field `refs` with the slot path as its role.
 */
export interface LibraryDef {
  readonly refs: string;
  readonly match: string;
  readonly name: string;
}

/**
 * `stamp: { when_set: user_id }`: a read-only datetime set to now by the first write that finds
 * `whenSet` set (not null, false or an empty list) while the stamp is empty, then left alone; with
 * `clearWhenUnset`, a write that finds `whenSet` unset empties it (consent withdrawn).
 */
export interface StampDef {
  readonly whenSet: string;
  readonly clearWhenUnset: boolean;
}

/**
 * `default_from_now: { days: 30, setting: guest_session_days }`: a create that leaves the field
 * empty stores now plus `days` days, or plus the named setting's days when the service has it.
 */
export interface DefaultFromNowDef {
  readonly days: number;
  readonly setting?: string;
}

/**
 * `rules: { outfit_from_wardrobe: { wardrobe: wardrobe, outfits: outfits } }`: a domain rule
 * (registry/rule-catalog.ts) and, for each of its parameters, the field of the entity it uses.
 */
export interface RuleUse {
  readonly name: string;
  /** Parameter → field name, as the YAML gives them. */
  readonly fields: ReadonlyMap<string, string>;
}

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
  /** How a string value is normalized before it is stored or compared (seed 8.16: tags). */
  readonly normalize?: NormalizeMode;
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
  /** enum: other values are accepted when they match this pattern (an open enum). */
  readonly otherPattern?: string;
  /** enum: the values an update may move to from each value; absent means any change is allowed. */
  readonly transitions?: Readonly<Record<string, readonly string[]>>;
  /** Set when the entity lists the field in `enforce_transitions`: changes outside `transitions` are refused. */
  readonly transitionsEnforced?: true;
  /** object: nested fields. */
  readonly fields?: readonly FieldDef[];
  /** array: the element definition. */
  readonly items?: FieldDef;
  /** ref, refs: target entity name. */
  readonly to?: string;
  /** refs: the role each link carries, when the relation has one. */
  readonly role?: RoleDef;
  /** refs: the junction table holding the links. */
  readonly junction?: string;
  /** integer: computed as a count of referring records. */
  readonly count?: CountDef;
  /** array of strings: computed as the roles of the links that live referring records hold to this one. */
  readonly linkRoles?: CountDef;
  /** object: the S3 URIs inside are mirrored onto links to a shared library. */
  readonly library?: LibraryDef;
  /**
   * ref: what deleting the target does to this record: refuse (default), delete it too, or clear
   * the ref. refs: refuse (default), or remove the link (`set_null`).
   */
  readonly onDelete?: 'restrict' | 'cascade' | 'set_null';
  /** The name of another top-level field of the same type this one may not be less than. */
  readonly atLeast?: string;
  /** integer: numbered 1, 2, 3… among live records sharing the values of `within`. */
  readonly sequence?: { readonly within: readonly string[]; readonly max?: number };
  /** s3_uri: uploadable media (registry/media.ts). */
  readonly media?: MediaDef;
  /** The boolean field whose `true` this field's value is stored under (personal data, seed 8.9). */
  readonly withConsent?: string;
  /** datetime, server-set: the time another field was set (see StampDef). */
  readonly stamp?: StampDef;
  /** datetime: on a create that leaves it empty, now plus some days (see DefaultFromNowDef). */
  readonly defaultFromNow?: DefaultFromNowDef;
  /** Where the field was declared, for error messages. */
  readonly source: { readonly file: string; readonly path: string };
}

export interface EntityDef {
  readonly name: string;
  readonly plural: string;
  /** The plural as a URL segment: `ui_elements` → `ui-elements`. */
  readonly route: string;
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
  /** Fields erased once a datetime has passed (seed 8.9: a guest's session), and the stamp saying so. */
  readonly expiry?: ExpiryDef;
  /** Read-only top-level fields a release had writable (their writes are answered with a warning). */
  readonly formerlyWritable?: readonly string[];
  /** A guest-to-registered conversion (seed 8.9): POST /{plural}/{id}/convert. */
  readonly conversion?: ConversionDef;
  /** A production calendar over its date fields (seed 8.15): GET /{plural}/schedule and …/schedule.ics. */
  readonly schedule?: ScheduleDef;
  /** Names a filter may use for one or more field paths (`talent=` for talent_source). */
  readonly queryAliases: readonly QueryAliasDef[];
  /** Sub-resources reading and writing part of a record (`/episodes/{id}/script`). */
  readonly views: readonly ViewDef[];
  /** Its records keep numbered versions in another entity (a script's versions, seed 8.10). */
  readonly versions?: VersionsDef;
  /** Records of another entity that belong to this one, served under it (`/episodes/{id}/script`). */
  readonly parts: readonly PartDef[];
  /** How its thumbnails are made (registry/media.ts), when it has them. */
  readonly thumbnails?: ThumbnailsDef;
  /** Names of removed fields, never to be used again (as protobuf's `reserved`). */
  readonly reserved: readonly string[];
  /** Steps that take a stored record from `version - 1` to `version`, oldest first. */
  readonly upgrades: readonly UpgradeDef[];
  /** The least role each operation needs: the defaults, then registry.yaml's, then the entity's. */
  readonly permissions: Permissions;
  /** Domain rules it uses, in the order they run (after the field options' rules). */
  readonly rules: readonly RuleUse[];
  readonly file: string;
}

/**
 * `versions: { entity, via, number, active, text }`: the records of `entity` whose ref `via` points
 * at this one are its versions, numbered by the sequence field `number`; the integer field `active`
 * holds the number of the version in use (chosen by hand), and `text` is the field diffs compare.
 */
export interface VersionsDef {
  readonly entity: string;
  readonly via: string;
  readonly number: string;
  readonly active: string;
  readonly text: string;
}

/**
 * `parts: { script: { entity: script, via: episode_id, where: { kind: episode } } }`: the one live
 * record of `entity` whose ref `via` points here and whose fields equal `where` (a unique set makes
 * it one). An entity with versions is served as such: /episodes/{id}/script/versions…
 */
export interface PartDef {
  readonly name: string;
  readonly entity: string;
  readonly via: string;
  readonly where: Readonly<Record<string, string>>;
  /**
   * A value kept on the parent and on the part's active version, one truth (seed use case 5):
   * writing the parent's `field` adds a version holding it in `to` (with `set`) and makes it
   * active; choosing or adding an active version writes its `to` back to the parent's `field`.
   */
  readonly mirror?: PartMirror;
}

export interface PartMirror {
  readonly field: FieldPath;
  readonly to: string;
  readonly set: Readonly<Record<string, string>>;
}

/** A path from the record root: `['publish_date']`, `['timing', 'duration_seconds']`. */
export type FieldPath = readonly string[];

/**
 * One declarative change of a record's shape. Applied forwards to upgrade a stored record (or a
 * request in an older API version's shape), backwards to answer in an older shape.
 */
export type UpgradeStep =
  /** rename: within the same object; move: anywhere, e.g. into or out of a nested group. */
  | { readonly kind: 'rename' | 'move'; readonly from: FieldPath; readonly to: FieldPath }
  /** An absent or null value takes `value`. */
  | { readonly kind: 'set_default'; readonly field: FieldPath; readonly value: unknown }
  /** A string split on `separator` into the `to` fields; the last takes the remainder. */
  | { readonly kind: 'split'; readonly from: FieldPath; readonly to: readonly FieldPath[]; readonly separator: string }
  /** The non-empty `from` strings joined with `separator`. */
  | { readonly kind: 'join'; readonly from: readonly FieldPath[]; readonly to: FieldPath; readonly separator: string }
  /** Enum values (or an array's elements) renamed: old → new. */
  | { readonly kind: 'map_values'; readonly field: FieldPath; readonly map: Readonly<Record<string, string>> }
  /** The field is gone; its name should be in `reserved`. */
  | { readonly kind: 'remove'; readonly field: FieldPath };

export interface UpgradeDef {
  /** The schema_version these steps produce. */
  readonly version: number;
  readonly steps: readonly UpgradeStep[];
}

/**
 * An API version served side by side with the others (`/api/v1`, `/api/v2`). The current one
 * speaks the current model; an older one names the release whose record shapes it keeps.
 */
export interface ApiVersionDef {
  readonly name: string;
  /** The released registry version (registry/releases/<release>.json) this API version speaks. */
  readonly release?: string;
  /** When the version was deprecated and when it goes away (ISO dates), for the response headers. */
  readonly deprecation?: string;
  readonly sunset?: string;
  /** entity name → the schema_version its records have in this API version. */
  readonly schemaVersions: Readonly<Record<string, number>>;
}

/**
 * A named filter as YAML declares it. The registry does not parse filters: src/query/presets.ts
 * does, with the parser `filter=` uses, when the model is loaded.
 */
export interface PresetDef {
  readonly name: string;
  readonly description?: string;
  /** The filter as declared, in the JSON form `filter=` takes. */
  readonly filter: Readonly<Record<string, unknown>>;
  /** `presets.<name>` of its entity's file, for the problems a later pass finds in it. */
  readonly source: DeclaredAt;
}

/** `expiry:`: once `at` has passed, the `erase` fields are cleared and `stamp` set (read-only). */
export interface ExpiryDef {
  readonly at: string;
  readonly erase: readonly string[];
  readonly stamp: string;
}

/**
 * `conversion:` (seed 8.9, a guest who registers): POST /{plural}/{id}/convert sets `user` and
 * hands the records matching each `where` over to the user (their `set` field takes the user id).
 * A `where` value is a template over the converted record's fields: `{id}`, `Guest - {name}`.
 */
export interface ConversionDef {
  readonly user: string;
  readonly handOver: readonly {
    readonly entity: string;
    readonly where: Readonly<Record<string, string>>;
    readonly set: string;
  }[];
  /** `conversion` of its entity's file. */
  readonly source: DeclaredAt;
}

/** A template's `{field}` placeholder (global: matchAll and replace both start from the beginning). */
const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

/** The fields a `where` template names: `name` in `Guest - {name}`. */
export const templateFields = (template: string): string[] => [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);

/** The template with each `{field}` replaced by the record's value (own properties only; missing: empty). */
export const fillTemplate = (template: string, record: Readonly<Record<string, unknown>>): string =>
  template.replace(PLACEHOLDER, (_, name: string) =>
    Object.hasOwn(record, name) && record[name] !== null ? String(record[name]) : '',
  );

/** `schedule:`: events named by the date field they fall on, each listed with the record's `title`. */
export interface ScheduleDef {
  readonly title: string;
  readonly events: readonly { readonly name: string; readonly field: string }[];
}

/**
 * A query alias (`query_aliases:`): a name a client filters by that stands for one or more field
 * paths (the seed's `talent=` for talent_source, `background=` for every background slot). A
 * condition on the alias holds when it holds on any of the paths (none, for `ne` and `nin`); a
 * path whose type cannot take the value is left out. `values` replaces an equality with one value
 * by its own filter (`talent=Guest`: every guest source).
 */
export interface QueryAliasDef {
  readonly name: string;
  readonly description?: string;
  readonly paths: readonly string[];
  readonly values: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** `query_aliases.<name>` of its entity's file. */
  readonly source: DeclaredAt;
}

/** Where something was declared: its file and dotted YAML path, and the line of any path in that file. */
export interface DeclaredAt {
  readonly file: string;
  readonly path: string;
  readonly lineOf: (dottedPath: string) => number | undefined;
}

/**
 * GET/PUT `/{plural}/{id}/{name}`: one field's value (`field`), or an object whose keys map to
 * fields (`fields`), e.g. script → { file_reference: content.script, text: content.script_text }.
 */
export interface ViewDef {
  readonly name: string;
  readonly description?: string;
  readonly field?: readonly string[];
  readonly fields?: Readonly<Record<string, readonly string[]>>;
}

export interface Model {
  readonly registryVersion: string;
  readonly apiVersions: readonly ApiVersionDef[];
  readonly entities: readonly EntityDef[];
}

/** Columns every entity table has, whatever the registry says. */
export const SYSTEM_COLUMNS = ['id', 'schema_version', 'doc'] as const;

/**
 * Names a field cannot take: the system columns, the generated full-text column, and the list
 * query's own parameters (a field named `q` could never be filtered on).
 */
export const RESERVED_FIELD_NAMES = [...SYSTEM_COLUMNS, SEARCH_COLUMN, 'q', 'filter', 'include_deleted'] as const;

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

export interface SequenceRelation {
  readonly field: FieldDef;
  readonly parent: EntityDef;
  /** The ref field naming the parent (the first of `within`). */
  readonly parentField: string;
  /** The other scope fields (the API takes them as query parameters). */
  readonly scope: readonly FieldDef[];
}

/** Sequences whose scope starts with a ref: the next number is asked of the referenced record. */
export function sequenceRelations(model: Model, entity: EntityDef): SequenceRelation[] {
  const relations: SequenceRelation[] = [];
  for (const field of entity.fields) {
    const [first, ...rest] = field.sequence?.within ?? [];
    const ref = first === undefined ? undefined : findField(entity, first);
    const parent = ref?.type === 'ref' ? findEntity(model, ref.to!) : undefined;
    if (!parent) continue;
    relations.push({ field, parent, parentField: first!, scope: rest.map((name) => findField(entity, name)!) });
  }
  return relations;
}

export interface ChildRelation {
  readonly parent: EntityDef;
  /** The child's filter path that reaches the parent: `show_id`, `outfits`, `outfits.items`. */
  readonly via: string;
}

/**
 * Records that refer to another are listed under it: a ref or refs field makes its target a
 * parent (shows of episodes, outfits of episodes), and so does a count's longer path (wardrobe
 * items of episodes, through outfits.items). When two fields of an entity lead to the same
 * parent, which one is meant would be ambiguous, so neither makes it one.
 */
export function childRelations(model: Model, entity: EntityDef): ChildRelation[] {
  const relations = entity.fields.filter((f) => (f.type === 'ref' && f.storage === 'column') || f.type === 'refs');
  const children: ChildRelation[] = relations
    .filter((f) => relations.filter((other) => other.to === f.to).length === 1)
    .map((field) => ({ parent: findEntity(model, field.to!)!, via: field.name }));
  for (const parent of model.entities) {
    for (const field of parent.fields) {
      if (field.count?.entity !== entity.name || field.count.path.length < 2) continue;
      if (!children.some((r) => r.parent === parent)) children.push({ parent, via: field.count.path.join('.') });
    }
  }
  return children;
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
