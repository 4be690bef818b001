// Resolves a dotted field path (`wardrobe.shoes.brand`) through the registry model into a
// FieldTarget. This is the only way a client's name can reach SQL: as a registry name.
import type { EntityDef, FieldDef } from '../registry/model.ts';
import type { FieldTarget } from './ast.ts';

const ID_TARGET: FieldTarget = { path: 'id', column: 'id', hops: [[]], kind: 'scalar', type: 'string', isColumn: true };

/** Longest path a client may write; the registry's nesting is far shallower. */
const MAX_SEGMENTS = 16;

export type Resolved = { readonly target: FieldTarget } | { readonly error: string };

const isGroup = (def: FieldDef) => def.type === 'object' || (def.type === 'array' && def.items?.type === 'object');

function fieldList(fields: readonly FieldDef[]): string {
  return fields.map((f) => f.name).join(', ');
}

export function topLevelNames(entity: EntityDef): string {
  return `id, ${fieldList(entity.fields)}`;
}

export function resolveTarget(entity: EntityDef, path: string): Resolved {
  const segments = path.split('.');
  if (segments.length > MAX_SEGMENTS) return { error: `field path "${path}" is longer than ${MAX_SEGMENTS} segments` };
  const [first, ...rest] = segments;
  if (first === 'id' && rest.length === 0) return { target: ID_TARGET };

  const top = entity.fields.find((f) => f.name === first);
  if (!top) {
    return { error: `unknown field "${first}"; fields: ${topLevelNames(entity)} (fields inside objects by dot path, e.g. wardrobe.shoes.brand)` };
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
      if (inside.some((s) => !/^[A-Za-z0-9_]+$/.test(s))) return { error: `"${path}": keys inside ${walked} are letters, digits and _` };
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
    if (!children) return { error: `"${walked}" is ${def.type === 'array' ? 'a list of values' : `a ${def.type}`} and has no field "${segment}"` };
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

/** Whether the target crosses an array of objects (then it matches when any element does). */
export const crossesArray = (target: FieldTarget): boolean => target.hops.length > 1;
