// `filter=` in Directus's JSON form → unresolved conditions. Logical groups `_and`, `_or`, `_not`;
// fields by name, dot path or nested objects; operators prefixed with `_` (Directus's `_neq`,
// `_nnull`, `_starts_with` and `_ends_with` spellings are accepted too). Only the grammar is
// checked here; resolve.ts checks the names (its `parseFilterTree` does both, for a preset).
import { ownValue } from '../registry/own.ts';
import { FILTER_OPERATORS, isFilterOperator, type FilterOperator } from './operators.ts';
import type { Json, UnresolvedCondition } from './unresolved-ast.ts';

const DIRECTUS_SPELLINGS: Record<string, FilterOperator> = {
  neq: 'ne',
  starts_with: 'startswith',
  ends_with: 'endswith',
};
export const MAX_DEPTH = 5;
const PARAM = 'filter';

const isObject = (value: Json): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (at: string, message: string): UnresolvedCondition => ({ kind: 'invalid', at, param: PARAM, message });

/** The text of a `filter=` parameter. */
export function parseFilterJson(text: string): UnresolvedCondition {
  let tree: Json;
  try {
    tree = JSON.parse(text) as Json;
  } catch (error) {
    return invalid(PARAM, `is not valid JSON (${(error as Error).message}); e.g. {"status":{"_eq":"published"}}`);
  }
  return parseFilterNode(tree);
}

/** An already-parsed filter tree. */
export function parseFilterNode(tree: unknown): UnresolvedCondition {
  if (!isObject(tree as Json))
    return invalid(PARAM, 'must be a JSON object, e.g. {"_and":[{"status":{"_eq":"published"}}]}');
  return group(tree as { [key: string]: Json }, [], PARAM, 0);
}

/** An object: every key is a logical operator, a field (or dot path), or, under a field, an operator. */
function group(
  node: { [key: string]: Json },
  prefix: readonly string[],
  at: string,
  depth: number,
): UnresolvedCondition {
  const entries = Object.entries(node);
  if (entries.length === 0) return invalid(at, 'is an empty condition');
  const items = entries.map(([key, value]) => {
    const here = `${at}.${key}`;
    return key.startsWith('_')
      ? operator(key.slice(1), value, prefix, here, depth)
      : field(key, value, prefix, here, depth);
  });
  return items.length === 1 ? items[0]! : { kind: 'and', items, at, param: PARAM };
}

function field(key: string, value: Json, prefix: readonly string[], at: string, depth: number): UnresolvedCondition {
  const path = [...prefix, ...key.split('.')];
  // A bare value is shorthand for _eq.
  const item = isObject(value) ? group(value, path, at, depth) : operator('eq', value, path, at, depth);
  return { kind: 'field', path: path.join('.'), item, at, param: PARAM };
}

function operator(
  name: string,
  value: Json,
  prefix: readonly string[],
  at: string,
  depth: number,
): UnresolvedCondition {
  if (name === 'and' || name === 'or') {
    if (prefix.length > 0)
      return invalid(at, `_${name} goes at the top level or inside another _and/_or/_not, not under a field`);
    if (depth + 1 > MAX_DEPTH) return invalid(at, `nesting is deeper than ${MAX_DEPTH} levels of _and/_or/_not`);
    if (!Array.isArray(value) || value.length === 0)
      return invalid(at, `_${name} takes a non-empty array of conditions`);
    const items = value.map((child, index) => {
      const childAt = `${at}[${index}]`;
      return isObject(child) ? group(child, [], childAt, depth + 1) : invalid(childAt, 'must be an object');
    });
    return { kind: name, items, at, param: PARAM };
  }
  if (name === 'not') {
    if (prefix.length > 0) return invalid(at, '_not goes at the top level or inside _and/_or, not under a field');
    if (depth + 1 > MAX_DEPTH) return invalid(at, `nesting is deeper than ${MAX_DEPTH} levels of _and/_or/_not`);
    if (!isObject(value)) return invalid(at, '_not takes one condition object');
    return { kind: 'not', item: group(value, [], at, depth + 1), at, param: PARAM };
  }
  const op = name === 'nnull' ? 'null' : (ownValue(DIRECTUS_SPELLINGS, name) ?? name);
  if (!isFilterOperator(op)) {
    return invalid(
      at,
      `unknown operator "_${name}"; operators: _and, _or, _not, ${FILTER_OPERATORS.map((o) => `_${o}`).join(', ')}`,
    );
  }
  if (prefix.length === 0) return invalid(at, `_${name} needs a field, e.g. {"status":{"_${name}":…}}`);
  return {
    kind: 'compare',
    path: prefix.join('.'),
    op,
    operand: { kind: 'json', value },
    at,
    param: PARAM,
    ...(name === 'nnull' ? { negated: true } : {}),
  };
}
