// The contract of a registry: what clients and stored records rely on, normalized so two versions
// compare field by field and a released snapshot (registry/releases/<version>.json) reads well in a
// diff. Fields are keyed by dotted path (`wardrobe.shoes.color`); an array's element is `tags[]`,
// fields of list elements `backgrounds.additional[].location`. Mixins' fields are included.
import path from 'node:path';
import { parseStep } from '../registry/compile-evolution.ts';
import type { EntityDef, FieldDef, FieldPath, FieldStorage, FieldType, Model, UpgradeStep } from '../registry/model.ts';

export interface RoleContract {
  readonly required: boolean;
  readonly values?: readonly string[];
  readonly max_length: number;
  readonly description?: string;
}

export interface FieldContract {
  readonly type: FieldType;
  /** Absent: optional. */
  readonly required?: true;
  /** Absent: a column (a nested field lives in its top-level field's column). */
  readonly storage?: Exclude<FieldStorage, 'column'>;
  readonly description?: string;
  readonly default?: unknown;
  readonly values?: readonly string[];
  readonly aliases?: Readonly<Record<string, string>>;
  readonly other_pattern?: string;
  readonly transitions?: Readonly<Record<string, readonly string[]>>;
  readonly max_length?: number;
  readonly max_items?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  /** ref, refs: the target entity, and how many targets (`one` for ref, `many` for refs). */
  readonly to?: string;
  readonly cardinality?: 'one' | 'many';
  readonly on_delete?: string;
  readonly role?: RoleContract;
  readonly at_least?: string;
  readonly sequence?: { readonly within: readonly string[] };
  readonly count?: { readonly entity: string; readonly path: string };
  readonly link_roles?: { readonly entity: string; readonly path: string };
  readonly normalize?: string;
  readonly library?: { readonly refs: string; readonly match: string; readonly name: string };
  /** Flags appear only when true. */
  readonly indexed?: true;
  readonly searchable?: true;
  readonly deprecated?: true;
  readonly read_only?: true;
  /** The mixin that declares the field, when it is not the entity's own. */
  readonly mixin?: string;
}

/** An upgrade step as written in the YAML: `{ rename: { from: a, to: b } }`. */
export type StepContract = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface EntityContract {
  readonly file: string;
  readonly plural: string;
  readonly id_prefix: string;
  readonly schema_version: number;
  readonly description?: string;
  readonly mixins: readonly string[];
  readonly fields: Readonly<Record<string, FieldContract>>;
  readonly unique: readonly (readonly string[])[];
  readonly duplicate_warnings: readonly (readonly string[])[];
  readonly presets: Readonly<Record<string, { readonly description?: string; readonly filter: unknown }>>;
  readonly views: Readonly<
    Record<
      string,
      { readonly description?: string; readonly field?: string; readonly fields?: Readonly<Record<string, string>> }
    >
  >;
  /** Parts served under a record (`/episodes/{id}/script`); absent when there are none. */
  readonly parts?: Readonly<
    Record<string, { readonly entity: string; readonly via: string; readonly where: Readonly<Record<string, string>> }>
  >;
  /** Numbered versions kept in another entity; absent when none. */
  readonly versions?: Readonly<Record<string, string>>;
  readonly reserved: readonly string[];
  /** schema_version → the steps that produce it. */
  readonly upgrades: Readonly<Record<string, readonly StepContract[]>>;
  /** Filter names for paths; absent when none. */
  readonly query_aliases?: Readonly<
    Record<string, { readonly paths: readonly string[]; readonly values?: Readonly<Record<string, unknown>> }>
  >;
  /** The schedule's title and events (name → date field); absent when none. */
  readonly schedule?: { readonly title: string; readonly events: Readonly<Record<string, string>> };
  /** Fields erased once a datetime has passed; absent when none. */
  readonly expiry?: { readonly at: string; readonly erase: readonly string[]; readonly stamp: string };
  /** POST /{plural}/{id}/convert: the user field and the hand-overs; absent when none. */
  readonly conversion?: {
    readonly user: string;
    readonly hand_over: readonly {
      readonly entity: string;
      readonly where: Readonly<Record<string, string>>;
      readonly set: string;
    }[];
  };
}

export interface ApiVersionContract {
  readonly name: string;
  readonly release?: string;
  readonly deprecation?: string;
  readonly sunset?: string;
}

export interface RegistryContract {
  readonly registry_version: string;
  readonly api_versions: readonly ApiVersionContract[];
  readonly entities: Readonly<Record<string, EntityContract>>;
}

const dotted = (p: FieldPath) => p.join('.');

/** Drops undefined values so the JSON (and equality) only sees what is set. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function fieldContract(field: FieldDef, entity: EntityDef): FieldContract {
  const mixin =
    field.source.file === entity.file ? undefined : path.basename(field.source.file).replace(/\.ya?ml$/, '');
  return defined<FieldContract>({
    type: field.type,
    required: field.required || undefined,
    storage: field.storage === 'column' ? undefined : field.storage,
    description: field.description,
    default: field.default,
    values: field.values,
    aliases: field.aliases,
    other_pattern: field.otherPattern,
    // Only enforced transitions bind clients; declared ones are documentation.
    transitions: field.transitionsEnforced ? field.transitions : undefined,
    max_length: field.maxLength,
    max_items: field.maxItems,
    minimum: field.minimum,
    maximum: field.maximum,
    pattern: field.pattern,
    to: field.to,
    cardinality: field.type === 'ref' ? 'one' : field.type === 'refs' ? 'many' : undefined,
    on_delete: field.onDelete,
    role:
      field.role &&
      defined<RoleContract>({
        required: field.role.required,
        values: field.role.values,
        max_length: field.role.maxLength,
        description: field.role.description,
      }),
    at_least: field.atLeast,
    sequence: field.sequence,
    count: field.count && { entity: field.count.entity, path: dotted(field.count.path) },
    link_roles: field.linkRoles && { entity: field.linkRoles.entity, path: dotted(field.linkRoles.path) },
    normalize: field.normalize,
    library: field.library,
    indexed: field.indexed || undefined,
    searchable: field.searchable || undefined,
    deprecated: field.deprecated || undefined,
    read_only: field.readOnly || undefined,
    mixin,
  });
}

/** Every field of an entity by contract key, parents before their children. */
function collectFields(
  fields: readonly FieldDef[],
  entity: EntityDef,
  prefix: string,
  into: Record<string, FieldContract>,
): void {
  for (const field of fields) {
    const key = `${prefix}${field.name}`;
    into[key] = fieldContract(field, entity);
    collectChildren(field, entity, key, into);
  }
}

function collectChildren(field: FieldDef, entity: EntityDef, key: string, into: Record<string, FieldContract>): void {
  if (field.fields) collectFields(field.fields, entity, `${key}.`, into);
  if (field.items) {
    into[`${key}[]`] = fieldContract(field.items, entity);
    collectChildren(field.items, entity, `${key}[]`, into);
  }
}

export function stepContract(step: UpgradeStep): StepContract {
  switch (step.kind) {
    case 'rename':
    case 'move':
      return { [step.kind]: { from: dotted(step.from), to: dotted(step.to) } };
    case 'set_default':
      return { set_default: { field: dotted(step.field), value: step.value } };
    case 'split':
      return { split: { from: dotted(step.from), to: step.to.map(dotted), separator: step.separator } };
    case 'join':
      return { join: { from: step.from.map(dotted), to: dotted(step.to), separator: step.separator } };
    case 'map_values':
      return { map_values: { field: dotted(step.field), map: step.map } };
    case 'remove':
      return { remove: { field: dotted(step.field) } };
  }
}

/** The inverse of stepContract, for snapshots read back from disk: the YAML form, parsed as the compiler does. */
export const stepFromContract = (raw: StepContract): UpgradeStep => parseStep(raw);

export function entityContract(entity: EntityDef): EntityContract {
  const fields: Record<string, FieldContract> = {};
  collectFields(entity.fields, entity, '', fields);
  return defined<EntityContract>({
    file: entity.file,
    plural: entity.plural,
    id_prefix: entity.idPrefix,
    schema_version: entity.schemaVersion,
    description: entity.description,
    mixins: [...entity.mixins].sort(),
    fields,
    unique: entity.unique,
    duplicate_warnings: entity.duplicateWarnings,
    presets: Object.fromEntries(
      entity.presets.map((p) => [p.name, defined({ description: p.description, filter: p.filter })]),
    ),
    views: Object.fromEntries(
      entity.views.map((v) => [
        v.name,
        defined({
          description: v.description,
          field: v.field && dotted(v.field),
          fields: v.fields && Object.fromEntries(Object.entries(v.fields).map(([k, p]) => [k, dotted(p)])),
        }),
      ]),
    ),
    parts:
      entity.parts.length > 0
        ? Object.fromEntries(entity.parts.map(({ name, entity: e, via, where }) => [name, { entity: e, via, where }]))
        : undefined,
    versions: entity.versions ? { ...entity.versions } : undefined,
    reserved: [...entity.reserved].sort(),
    upgrades: Object.fromEntries(entity.upgrades.map((u) => [String(u.version), u.steps.map(stepContract)])),
    query_aliases:
      entity.queryAliases.length > 0
        ? Object.fromEntries(
            entity.queryAliases.map((a) => [
              a.name,
              defined({ paths: a.paths, values: Object.keys(a.values).length > 0 ? a.values : undefined }),
            ]),
          )
        : undefined,
    schedule: entity.schedule && {
      title: entity.schedule.title,
      events: Object.fromEntries(entity.schedule.events.map((e) => [e.name, e.field])),
    },
    expiry: entity.expiry && { at: entity.expiry.at, erase: entity.expiry.erase, stamp: entity.expiry.stamp },
    conversion: entity.conversion && {
      user: entity.conversion.user,
      hand_over: entity.conversion.handOver.map((h) => ({ entity: h.entity, where: h.where, set: h.set })),
    },
  });
}

/** The model's contract, with every object's keys sorted as the snapshot files have them. */
export function registryContract(model: Model): RegistryContract {
  return sortKeys({
    registry_version: model.registryVersion,
    api_versions: model.apiVersions.map((v) =>
      defined({ name: v.name, release: v.release, deprecation: v.deprecation, sunset: v.sunset }),
    ),
    entities: Object.fromEntries(model.entities.map((e) => [e.name, entityContract(e)])),
  }) as RegistryContract;
}

/** A value with every object's keys sorted (arrays keep their order). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Pretty JSON with sorted keys and a trailing newline: the snapshot's file format. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

export const sameJson = (a: unknown, b: unknown): boolean =>
  JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));

/** `a[].b` → `['a[]', 'b']`. */
export const keySegments = (key: string): string[] => key.split('.');

/** The path an upgrade step uses for a contract key: list markers dropped (`tags[]` → `tags`). */
export const stepPath = (key: string): string => key.replace(/\[\]/g, '');

/** The contract key of the field (or element) that holds `key`; undefined for a top-level field. */
export function parentKey(key: string): string | undefined {
  if (key.endsWith('[]')) return key.slice(0, -2);
  const at = key.lastIndexOf('.');
  return at < 0 ? undefined : key.slice(0, at);
}

/** Where a field is declared in its YAML file: `wardrobe.shoes` → `fields.wardrobe.fields.shoes`, `tags[]` → `fields.tags.items`. */
export function yamlPath(key: string): string {
  const parts: string[] = [];
  for (const segment of keySegments(key)) {
    const [name, ...lists] = segment.split('[]');
    parts.push(`fields.${name}`, ...lists.map(() => 'items'));
  }
  return parts.join('.');
}
