// `filter=` in Directus's JSON form → Condition. Logical groups `_and`, `_or`, `_not`; fields by
// name, dot path or nested objects; operators prefixed with `_` (Directus's `_neq`, `_nnull`,
// `_starts_with` and `_ends_with` spellings are accepted too).
import type { EntityDef } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import type { Condition } from './ast.ts';
import { buildComparison, FILTER_OPERATORS, isFilterOperator, MULTI_VALUE, type FilterOperator } from './operators.ts';
import { resolveTarget, type ResolveOptions } from './targets.ts';
import type { QueryBudget, QueryProblem } from './problems.ts';

const DIRECTUS_SPELLINGS: Record<string, FilterOperator> = {
  neq: 'ne',
  starts_with: 'startswith',
  ends_with: 'endswith',
};
export const MAX_DEPTH = 5;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: Json): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseFilterJson(
  entity: EntityDef,
  text: string,
  budget: QueryBudget,
  problems: QueryProblem[],
  options: ResolveOptions = {},
): Condition | undefined {
  let tree: Json;
  try {
    tree = JSON.parse(text) as Json;
  } catch (error) {
    problems.push({
      field: 'filter',
      message: `is not valid JSON (${(error as Error).message}); e.g. {"status":{"_eq":"published"}}`,
    });
    return undefined;
  }
  return parseFilterTree(entity, tree, budget, problems, options);
}

/** An already-parsed filter tree, e.g. a registry preset's; problems are reported under `filter`. */
export function parseFilterTree(
  entity: EntityDef,
  tree: unknown,
  budget: QueryBudget,
  problems: QueryProblem[],
  options: ResolveOptions = {},
): Condition | undefined {
  if (!isObject(tree as Json)) {
    problems.push({
      field: 'filter',
      message: 'must be a JSON object, e.g. {"_and":[{"status":{"_eq":"published"}}]}',
    });
    return undefined;
  }
  const parser = new FilterParser(entity, budget, problems, options);
  return parser.group(tree as { [key: string]: Json }, [], 'filter', 0);
}

class FilterParser {
  constructor(
    private readonly entity: EntityDef,
    private readonly budget: QueryBudget,
    private readonly problems: QueryProblem[],
    private readonly options: ResolveOptions,
  ) {}

  private fail(at: string, message: string): undefined {
    this.problems.push({ field: at, message });
    return undefined;
  }

  /** An object: every key is a logical operator, a field (or dot path), or, under a field, an operator. */
  group(node: { [key: string]: Json }, prefix: readonly string[], at: string, depth: number): Condition | undefined {
    const entries = Object.entries(node);
    if (entries.length === 0) return this.fail(at, 'is an empty condition');
    const items: Condition[] = [];
    for (const [key, value] of entries) {
      const here = `${at}.${key}`;
      const item = key.startsWith('_')
        ? this.operator(key.slice(1), value, prefix, here, depth)
        : this.field(key, value, prefix, here, depth);
      if (item) items.push(item);
    }
    if (items.length !== entries.length) return undefined;
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }

  private field(key: string, value: Json, prefix: readonly string[], at: string, depth: number): Condition | undefined {
    const path = [...prefix, ...key.split('.')];
    const resolved = resolveTarget(this.entity, path.join('.'), this.options);
    if ('error' in resolved) return this.fail(at, resolved.error);
    // A bare value is shorthand for _eq.
    if (!isObject(value)) return this.operator('eq', value, path, at, depth);
    return this.group(value, path, at, depth);
  }

  private operator(
    name: string,
    value: Json,
    prefix: readonly string[],
    at: string,
    depth: number,
  ): Condition | undefined {
    if (name === 'and' || name === 'or') {
      if (prefix.length > 0)
        return this.fail(at, `_${name} goes at the top level or inside another _and/_or/_not, not under a field`);
      if (depth + 1 > MAX_DEPTH) return this.fail(at, `nesting is deeper than ${MAX_DEPTH} levels of _and/_or/_not`);
      if (!Array.isArray(value) || value.length === 0)
        return this.fail(at, `_${name} takes a non-empty array of conditions`);
      const items: Condition[] = [];
      value.forEach((child, index) => {
        const childAt = `${at}[${index}]`;
        if (!isObject(child)) return this.fail(childAt, 'must be an object');
        const item = this.group(child, [], childAt, depth + 1);
        if (item) items.push(item);
      });
      if (items.length !== value.length) return undefined;
      return { kind: name, items };
    }
    if (name === 'not') {
      if (prefix.length > 0) return this.fail(at, '_not goes at the top level or inside _and/_or, not under a field');
      if (depth + 1 > MAX_DEPTH) return this.fail(at, `nesting is deeper than ${MAX_DEPTH} levels of _and/_or/_not`);
      if (!isObject(value)) return this.fail(at, '_not takes one condition object');
      const item = this.group(value, [], at, depth + 1);
      return item && { kind: 'not', item };
    }

    const op = name === 'nnull' ? 'null' : (ownValue(DIRECTUS_SPELLINGS, name) ?? name);
    if (!isFilterOperator(op)) {
      return this.fail(
        at,
        `unknown operator "_${name}"; operators: _and, _or, _not, ${FILTER_OPERATORS.map((o) => `_${o}`).join(', ')}`,
      );
    }
    if (prefix.length === 0) return this.fail(at, `_${name} needs a field, e.g. {"status":{"_${name}":…}}`);
    const resolved = resolveTarget(this.entity, prefix.join('.'), this.options);
    if ('error' in resolved) return this.fail(at, resolved.error);
    this.budget.count();

    let texts = this.texts(op, value, at, resolved.target.kind === 'list');
    if (!texts) return undefined;
    if (name === 'nnull') texts = texts.map((t) => (t === 'true' ? 'false' : t === 'false' ? 'true' : t));
    const built = buildComparison(resolved.target, op, texts);
    return 'error' in built ? this.fail(at, built.error) : built.condition;
  }

  /** The JSON value as the texts buildComparison expects. */
  private texts(op: FilterOperator, value: Json, at: string, list: boolean): string[] | undefined {
    const scalar = (v: Json): string | undefined =>
      typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    if (MULTI_VALUE.includes(op) || (op === 'contains' && list)) {
      if (Array.isArray(value)) {
        const texts = value.map(scalar);
        if (texts.some((t) => t === undefined))
          return this.fail(at, `_${op} takes an array of strings, numbers or booleans`);
        return texts as string[];
      }
      const one = scalar(value);
      return one === undefined ? this.fail(at, `_${op} takes an array of values`) : one.split(',');
    }
    if (value === null) return this.fail(at, `_${op} cannot compare with null; use {"_null": true}`);
    const one = scalar(value);
    return one === undefined ? this.fail(at, `_${op} takes a single string, number or boolean`) : [one];
  }
}
