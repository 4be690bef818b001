// Step 3 of the query compiler: the unresolved AST → the resolved AST (ast.ts). Every path is
// looked up in the registry model (targets.ts), every operator checked against its field's type
// and every value coerced (operators.ts); problems name the parameter the client wrote, in the
// order of the request.
import { presetCondition } from './presets.ts';
import { aliasNamed, aliasValueCondition } from './aliases.ts';
import { hasSoftDelete, type EntityDef, type QueryAliasDef } from '../registry/model.ts';
import type { Condition, CursorPosition, FieldTarget, ListQuery, SortKey } from './ast.ts';
import { decodeCursor } from './cursor.ts';
import { searchableFields } from './full-text.ts';
import { parseFilterNode } from './parse-filter.ts';
import { buildComparison, MULTI_VALUE, type FilterOperator } from './operators.ts';
import { QueryBudget, QueryError, type QueryProblem } from './problems.ts';
import { crossesArray, resolveTarget, type ResolveOptions } from './targets.ts';
import type { CompareNode, Json, SortKeyNode, UnresolvedCondition, UnresolvedQuery } from './unresolved-ast.ts';

/** The list query over `entity`; with `entities`, paths may follow ref and refs fields into related records. */
export function resolveQuery(entity: EntityDef, query: UnresolvedQuery, entities?: readonly EntityDef[]): ListQuery {
  const options: ResolveOptions = { entities };
  const problems: QueryProblem[] = [];
  const budget = new QueryBudget();
  const conditions: Condition[] = [];
  const presetsSeen = new Set<string>();
  const resolver = new ConditionResolver(entity, budget, problems, options);
  let includeDeleted = false;
  let search: string | undefined;
  let sort: SortKey[] = [];
  let fields: FieldTarget[] | undefined;

  for (const item of query.items) {
    switch (item.kind) {
      case 'invalid':
        problems.push({ field: item.at, message: item.message });
        break;
      case 'include-deleted':
        if (item.include && !hasSoftDelete(entity))
          problems.push({ field: 'include_deleted', message: `${entity.plural} are not soft-deleted` });
        else includeDeleted = item.include;
        break;
      case 'search':
        if (searchableFields(entity).length === 0)
          problems.push({ field: 'q', message: `${entity.plural} have no searchable fields` });
        else if (item.problem) problems.push({ field: 'q', message: item.problem });
        else search = item.text;
        break;
      case 'sort':
        sort = resolveSort(entity, item.keys, problems, options);
        break;
      case 'projection':
        fields = resolveFields(entity, item.paths, problems, options);
        break;
      case 'where': {
        const { condition } = item;
        const preset = condition.kind === 'bare' ? entity.presets.find((p) => p.name === condition.name) : undefined;
        if (preset && condition.kind === 'bare') {
          if (presetsSeen.has(preset.name)) problems.push({ field: condition.at, message: 'is given more than once' });
          presetsSeen.add(preset.name);
          // Declared in the registry, so not counted against the client's condition budget.
          if (condition.text === 'true') conditions.push(presetCondition(entity, preset));
          else if (condition.text === 'false') conditions.push({ kind: 'not', item: presetCondition(entity, preset) });
          else
            problems.push({
              field: condition.at,
              message: `must be true or false (a preset${preset.description ? `: ${preset.description}` : ''})`,
            });
          break;
        }
        const resolved = resolver.condition(condition);
        if (item.counted) budget.count();
        if (resolved) conditions.push(resolved);
      }
    }
  }

  if (budget.problem) problems.push(budget.problem);
  if (search !== undefined && sort.length === 0) sort = [{ target: 'rank', direction: 'desc' }];
  let after: CursorPosition | undefined;
  if (query.cursor !== undefined) {
    if (query.offsetGiven)
      problems.push({
        field: '_cursor',
        message: 'cannot be combined with _offset; a cursor already says where the page starts',
      });
    const decoded = decodeCursor(query.cursor, sort);
    if ('error' in decoded) problems.push({ field: '_cursor', message: decoded.error });
    else after = decoded;
  }
  if (problems.length > 0) throw new QueryError(problems);

  const where: Condition | undefined =
    conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : { kind: 'and', items: conditions };
  const { limit, offset, count } = query;
  return { where, search, sort, fields, limit, offset, after, count, includeDeleted };
}

/** One unresolved condition (e.g. a registry preset's filter tree); problems are added to `problems`. */
export function resolveCondition(
  entity: EntityDef,
  node: UnresolvedCondition,
  budget: QueryBudget,
  problems: QueryProblem[],
  options: ResolveOptions = {},
): Condition | undefined {
  return new ConditionResolver(entity, budget, problems, options).condition(node);
}

/** An already-parsed filter tree, e.g. a registry preset's, parsed and resolved; problems are reported under `filter`. */
export function parseFilterTree(
  entity: EntityDef,
  tree: unknown,
  budget: QueryBudget,
  problems: QueryProblem[],
  options: ResolveOptions = {},
): Condition | undefined {
  return resolveCondition(entity, parseFilterNode(tree), budget, problems, options);
}

class ConditionResolver {
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

  /** Every item is resolved (so every problem is reported); the condition holds only if all did. */
  condition(node: UnresolvedCondition): Condition | undefined {
    switch (node.kind) {
      case 'invalid':
        return this.fail(node.at, node.message);
      case 'and':
      case 'or': {
        const items = node.items.map((item) => this.condition(item));
        if (items.some((item) => item === undefined)) return undefined;
        return { kind: node.kind, items: items as Condition[] };
      }
      case 'not': {
        const item = this.condition(node.item);
        return item && { kind: 'not', item };
      }
      case 'field': {
        const resolved = resolveTarget(this.entity, node.path, this.options);
        if ('error' in resolved) return this.fail(node.at, resolved.error);
        return this.condition(node.item);
      }
      case 'bare':
        return this.queryStringCompare(node.name, 'eq', node.text, node.at);
      case 'compare':
        return node.operand.kind === 'text'
          ? this.queryStringCompare(node.path, node.op, node.operand.text, node.at)
          : this.jsonCompare(node, node.operand.value);
    }
  }

  /** `path[op]=text`: comma lists for the operators that take several values. */
  private queryStringCompare(path: string, op: FilterOperator, text: string, at: string): Condition | undefined {
    const alias = aliasNamed(this.entity, path);
    if (alias) {
      const split = (target: FieldTarget) =>
        MULTI_VALUE.includes(op) || (op === 'contains' && target.kind === 'list') ? text.split(',') : [text];
      return this.aliasCompare(alias, op, split, at);
    }
    const resolved = resolveTarget(this.entity, path, this.options);
    if ('error' in resolved) {
      const presets =
        this.entity.presets.length > 0 && !path.includes('.')
          ? `; presets: ${this.entity.presets.map((p) => p.name).join(', ')}`
          : '';
      return this.fail(at, `${resolved.error}${presets}`);
    }
    const split = MULTI_VALUE.includes(op) || (op === 'contains' && resolved.target.kind === 'list');
    const built = buildComparison(resolved.target, op, split ? text.split(',') : [text]);
    return 'error' in built ? this.fail(at, built.error) : built.condition;
  }

  private jsonCompare(node: CompareNode, value: Json): Condition | undefined {
    const alias = aliasNamed(this.entity, node.path);
    if (alias) {
      this.budget.count();
      const values = (target: FieldTarget) => {
        const texts = this.texts(node.op, value, node.at, target.kind === 'list');
        return texts && node.negated ? texts.map((t) => (t === 'true' ? 'false' : t === 'false' ? 'true' : t)) : texts;
      };
      return this.aliasCompare(alias, node.op, values, node.at);
    }
    const resolved = resolveTarget(this.entity, node.path, this.options);
    if ('error' in resolved) return this.fail(node.at, resolved.error);
    this.budget.count();
    let texts = this.texts(node.op, value, node.at, resolved.target.kind === 'list');
    if (!texts) return undefined;
    if (node.negated) texts = texts.map((t) => (t === 'true' ? 'false' : t === 'false' ? 'true' : t));
    const built = buildComparison(resolved.target, node.op, texts);
    return 'error' in built ? this.fail(node.at, built.error) : built.condition;
  }

  /**
   * A condition on a query alias: the value filter `values` declares for an equality, else the
   * condition on each of its paths that can take the value, any of them (none of them for ne, nin).
   */
  private aliasCompare(
    alias: QueryAliasDef,
    op: FilterOperator,
    valuesFor: (target: FieldTarget) => string[] | undefined,
    at: string,
  ): Condition | undefined {
    const negated = op === 'ne' || op === 'nin';
    const positive: FilterOperator = op === 'ne' ? 'eq' : op === 'nin' ? 'in' : op;
    const branches: Condition[] = [];
    let firstError: string | undefined;
    for (const path of alias.paths) {
      const resolved = resolveTarget(this.entity, path, this.options);
      if ('error' in resolved) {
        firstError ??= resolved.error;
        continue;
      }
      const values = valuesFor(resolved.target);
      if (!values) return undefined; // the value itself is malformed; reported
      const declared =
        positive === 'eq' && values.length === 1
          ? aliasValueCondition(this.entity, alias, values[0]!, this.options.entities)
          : undefined;
      if (declared) return negated ? { kind: 'not', item: declared } : declared;
      const built = buildComparison(resolved.target, positive, values);
      if ('error' in built) firstError ??= built.error;
      else branches.push(built.condition);
    }
    if (branches.length === 0)
      return this.fail(at, `${firstError} (${alias.name} stands for ${alias.paths.join(', ')})`);
    const any: Condition = branches.length === 1 ? branches[0]! : { kind: 'or', items: branches };
    return negated ? { kind: 'not', item: any } : any;
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

function resolveSort(
  entity: EntityDef,
  terms: readonly SortKeyNode[],
  problems: QueryProblem[],
  options: ResolveOptions,
): SortKey[] {
  const keys: SortKey[] = [];
  for (const { path, direction } of terms) {
    const resolved = resolveTarget(entity, path, { ...options, mode: 'value' });
    if ('error' in resolved) problems.push({ field: '_sort', message: resolved.error });
    else if (resolved.target.via)
      problems.push({ field: '_sort', message: `cannot sort by "${path}": it is a field of related records` });
    else if (resolved.target.kind !== 'scalar' || crossesArray(resolved.target)) {
      problems.push({
        field: '_sort',
        message: `cannot sort by "${path}": sort by a single value, not an object or a list`,
      });
    } else if (keys.some((k) => k.target !== 'rank' && k.target.path === path)) {
      problems.push({ field: '_sort', message: `"${path}" is listed twice` });
    } else keys.push({ target: resolved.target, direction });
  }
  return keys;
}

function resolveFields(
  entity: EntityDef,
  paths: readonly string[],
  problems: QueryProblem[],
  options: ResolveOptions,
): FieldTarget[] {
  const targets: FieldTarget[] = [];
  for (const path of paths) {
    if (targets.some((t) => t.path === path)) continue;
    const resolved = resolveTarget(entity, path, { ...options, mode: 'value' });
    if ('error' in resolved) problems.push({ field: '_fields', message: resolved.error });
    else if (resolved.target.via)
      problems.push({
        field: '_fields',
        message: `"${path}" is a field of related records; ask for the ref itself (${path.split('.')[0]})`,
      });
    else targets.push(resolved.target);
  }
  return targets;
}
