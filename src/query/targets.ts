// Resolves a dotted field path (`wardrobe.shoes.brand`) through the registry model into a
// FieldTarget. This is the only way a client's name can reach SQL: as a registry name.
import { hasSoftDelete, type CountDef, type EntityDef, type FieldDef } from '../registry/model.ts';
import type { FieldTarget, Relation, RelationHop } from './ast.ts';

const ID_TARGET: FieldTarget = { path: 'id', column: 'id', hops: [[]], kind: 'scalar', type: 'string', isColumn: true };
/** The version of the schema a row was written in (server-owned, on every record): selectable, filterable, sortable. */
const SCHEMA_VERSION_TARGET: FieldTarget = {
  path: 'schema_version',
  column: 'schema_version',
  hops: [[]],
  kind: 'scalar',
  type: 'integer',
  isColumn: true,
};

/** Longest path a client may write; the registry's nesting is far shallower. */
const MAX_SEGMENTS = 16;

export type Resolved = { readonly target: FieldTarget } | { readonly error: string };

const isGroup = (def: FieldDef) => def.type === 'object' || (def.type === 'array' && def.items?.type === 'object');

function fieldList(fields: readonly FieldDef[]): string {
  return fields.map((f) => f.name).join(', ');
}

export function topLevelNames(entity: EntityDef): string {
  return `id, schema_version, ${fieldList(entity.fields)}`;
}

/** A path may cross at most this many ref/refs fields (each is a nested EXISTS). */
export const MAX_HOPS = 3;

export interface ResolveOptions {
  /** Every entity, so that a path can cross ref and refs fields into the records they point at. */
  readonly entities?: readonly EntityDef[];
  /**
   * `filter` (the default) follows a refs field to its targets' ids (`outfits=out_…` means "links
   * that outfit"); `value` addresses the field's own value (the list of links), for _fields.
   */
  readonly mode?: 'filter' | 'value';
}

function hopTo(field: FieldDef, target: EntityDef): RelationHop {
  return field.type === 'ref'
    ? { kind: 'ref', column: field.name, entity: target.name, table: target.table, softDelete: hasSoftDelete(target) }
    : {
        kind: 'refs',
        junction: field.junction!,
        entity: target.name,
        table: target.table,
        softDelete: hasSoftDelete(target),
      };
}

/** The hops of a count field's path, from the referring entity to this one. */
export const countRelation = (field: FieldDef, entities: readonly EntityDef[]): Relation | undefined =>
  referringRelation(field.count, entities);

/** The hop of a link roles field, from the referring entity to this one. */
export const rolesRelation = (field: FieldDef, entities: readonly EntityDef[]): Relation | undefined =>
  referringRelation(field.linkRoles, entities);

function referringRelation(def: CountDef | undefined, entities: readonly EntityDef[]): Relation | undefined {
  let current = entities.find((e) => e.name === def?.entity);
  if (!current || !def) return undefined;
  const from = current;
  const hops: RelationHop[] = [];
  for (const name of def.path) {
    const hop: FieldDef | undefined = current?.fields.find((f) => f.name === name);
    const next: EntityDef | undefined = entities.find((e) => e.name === hop?.to);
    if (!hop || !next) return undefined;
    hops.push(hopTo(hop, next));
    current = next;
  }
  return { fromEntity: from.name, from: from.table, fromSoftDelete: hasSoftDelete(from), hops };
}

export function resolveTarget(entity: EntityDef, path: string, options: ResolveOptions = {}): Resolved {
  const segments = path.split('.');
  if (segments.length > MAX_SEGMENTS) return { error: `field path "${path}" is longer than ${MAX_SEGMENTS} segments` };
  // A query alias of one path is that path (`wardrobe.outfit_type`); of several, a filter only.
  const alias = entity.queryAliases.find((a) => a.name === path);
  if (alias?.paths.length === 1) return resolveTarget(entity, alias.paths[0]!, options);
  if (alias)
    return {
      error: `"${path}" stands for several fields (${alias.paths.join(', ')}) and only filters; name one of them here`,
    };
  const [first, ...rest] = segments;
  if (first === 'id' && rest.length === 0) return { target: ID_TARGET };
  if (first === 'schema_version' && rest.length === 0) return { target: SCHEMA_VERSION_TARGET };
  if (first === 'id' || first === 'schema_version') return { error: `"${first}" has no field "${rest[0]}"` };

  const top = entity.fields.find((f) => f.name === first);
  if (!top) {
    return {
      error: `unknown field "${first}"; fields: ${topLevelNames(entity)} (fields inside objects by dot path, e.g. wardrobe.shoes.brand)`,
    };
  }
  if (top.type === 'refs' && rest.length === 0 && options.mode === 'value') {
    return { target: { path, column: top.name, hops: [[]], kind: 'group', type: 'refs', isColumn: false, def: top } };
  }
  if ((top.type === 'ref' && rest.length > 0) || top.type === 'refs')
    return resolveThrough(entity, top, rest, path, options);
  if (top.count) {
    const count = options.entities && countRelation(top, options.entities);
    if (!count) return { error: `"${path}" is a count and cannot be queried here` };
    if (rest.length > 0) return { error: `"${first}" is a number and has no field "${rest[0]}"` };
    return {
      target: { path, column: top.name, hops: [[]], kind: 'scalar', type: 'integer', isColumn: false, def: top, count },
    };
  }
  if (top.linkRoles) {
    const roles = options.entities && rolesRelation(top, options.entities);
    if (!roles) return { error: `"${path}" is computed from other records and cannot be queried here` };
    if (rest.length > 0) return { error: `"${first}" is a list of values and has no field "${rest[0]}"` };
    return {
      target: {
        path,
        column: top.name,
        hops: [[]],
        kind: 'list',
        type: 'string',
        isColumn: false,
        def: top.items!,
        roles,
      },
    };
  }
  let def: FieldDef = top;
  const documentField = def.storage === 'document';
  const column = documentField ? 'doc' : def.name;
  const hops: string[][] = [documentField ? [def.name] : []];
  let walked = first!;

  for (const [index, segment] of rest.entries()) {
    // Inside an open document any key may be asked for; its values compare as text.
    if (def.type === 'object' && !def.fields) {
      const inside = rest.slice(index);
      if (inside.some((s) => !/^[A-Za-z0-9_]+$/.test(s)))
        return { error: `"${path}": keys inside ${walked} are letters, digits and _` };
      hops[hops.length - 1]!.push(...inside);
      return { target: { path, column, hops, kind: 'scalar', type: 'string', isColumn: false } };
    }
    let children: readonly FieldDef[] | undefined;
    if (def.type === 'object') {
      children = def.fields;
    } else if (def.type === 'array' && def.items?.type === 'object') {
      children = def.items.fields;
      hops.push([]);
    }
    if (!children)
      return {
        error: `"${walked}" is ${def.type === 'array' ? 'a list of values' : `a ${def.type}`} and has no field "${segment}"`,
      };
    const child: FieldDef | undefined = children.find((f) => f.name === segment);
    if (!child) return { error: `unknown field "${walked}.${segment}"; ${walked} has: ${fieldList(children)}` };
    hops[hops.length - 1]!.push(segment);
    def = child;
    walked = `${walked}.${segment}`;
  }

  const list = def.type === 'array' && !isGroup(def);
  const valueDef = list ? def.items! : def;
  return {
    target: {
      path,
      column,
      hops,
      kind: isGroup(def) ? 'group' : list ? 'list' : 'scalar',
      type: valueDef.type,
      isColumn: !documentField && rest.length === 0 && !isGroup(def) && !list,
      def: valueDef,
    },
  };
}

/** `show_id.title`, `outfits.items.brand`: the rest of the path, resolved on the related entity. */
function resolveThrough(
  entity: EntityDef,
  field: FieldDef,
  rest: readonly string[],
  path: string,
  options: ResolveOptions,
): Resolved {
  const target = options.entities?.find((e) => e.name === field.to);
  if (!target) return { error: `"${field.name}" points at ${field.to} records, which cannot be queried here` };
  const inner = resolveTarget(target, rest.length === 0 ? 'id' : rest.join('.'), { ...options, mode: 'filter' });
  if ('error' in inner) return { error: `${field.name}: ${inner.error}` };
  const hops = [hopTo(field, target), ...(inner.target.via?.hops ?? [])];
  if (hops.length > MAX_HOPS) return { error: `"${path}" crosses ${hops.length} relations; at most ${MAX_HOPS}` };
  if (inner.target.count || inner.target.roles)
    return { error: `"${path}": values computed from other records cannot be compared through a relation` };
  return {
    target: {
      ...inner.target,
      path,
      via: { fromEntity: entity.name, from: entity.table, fromSoftDelete: hasSoftDelete(entity), hops },
    },
  };
}

/** Whether the target crosses an array of objects (then it matches when any element does). */
export const crossesArray = (target: FieldTarget): boolean => target.hops.length > 1;
