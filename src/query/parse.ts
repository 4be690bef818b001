// Step 1 of the query compiler: a list request's query string → the ListQuery AST.
// Names resolve through the registry model; values are coerced to their field's type here.
import { hasSoftDelete, type EntityDef } from '../registry/model.ts';
import { unusableText } from '../registry/text.ts';
import type { Condition, CountMode, CursorPosition, FieldTarget, ListQuery, SortKey } from './ast.ts';
import { decodeCursor } from './cursor.ts';
import { searchableFields } from './full-text.ts';
import { buildComparison, FILTER_OPERATORS, isFilterOperator, MULTI_VALUE } from './operators.ts';
import { parseFilterJson } from './parse-filter.ts';
import { presetCondition } from './presets.ts';
import { QueryBudget, QueryError, type QueryProblem } from './problems.ts';
import { crossesArray, resolveTarget, type ResolveOptions } from './targets.ts';

export const LIST_LIMIT = { default: 50, max: 1000 } as const;
export const MAX_QUERY_BYTES = 8192;
export const MAX_SEARCH_LENGTH = 500;
export const CONTROL_PARAMS = [
  '_fields',
  '_sort',
  '_limit',
  '_offset',
  '_cursor',
  '_count',
  'q',
  'filter',
  'include_deleted',
] as const;
const COUNT_MODES: readonly CountMode[] = ['exact', 'estimated', 'none'];

const FILTER_KEY = /^([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)(?:\[([A-Za-z_]+)\])?$/;

/**
 * `queryString` is the raw query string, without the leading `?`. With `entities`, filters may
 * follow ref and refs fields into related records (`outfits.items.brand=Zara`).
 */
export function parseListQuery(entity: EntityDef, queryString: string, entities?: readonly EntityDef[]): ListQuery {
  const options = { entities };
  const size = Buffer.byteLength(queryString);
  if (size > MAX_QUERY_BYTES) {
    throw new QueryError([
      {
        field: 'query',
        message: `the query string is ${size} bytes, over the ${MAX_QUERY_BYTES}-byte limit; use filter= with _in lists or fewer conditions`,
      },
    ]);
  }
  const params = new URLSearchParams(queryString);
  const problems: QueryProblem[] = [];
  const budget = new QueryBudget();
  const conditions: Condition[] = [];
  const seen = new Set<string>();
  const once = (key: string) => {
    if (seen.has(key)) problems.push({ field: key, message: 'is given more than once' });
    seen.add(key);
  };

  let limit: number = LIST_LIMIT.default;
  let offset = 0;
  let count: CountMode = 'auto';
  let includeDeleted = false;
  let search: string | undefined;
  let sort: SortKey[] = [];
  let fields: FieldTarget[] | undefined;
  let cursorText: string | undefined;

  for (const [key, raw] of params) {
    if ((CONTROL_PARAMS as readonly string[]).includes(key)) once(key);
    switch (key) {
      case '_limit': {
        const n = parseCount(raw);
        if (n === undefined || n < 1 || n > LIST_LIMIT.max)
          problems.push({ field: key, message: `must be an integer from 1 to ${LIST_LIMIT.max}` });
        else limit = n;
        break;
      }
      case '_offset': {
        const n = parseCount(raw);
        if (n === undefined) problems.push({ field: key, message: 'must be a non-negative integer' });
        else offset = n;
        break;
      }
      case '_count':
        if ((COUNT_MODES as readonly string[]).includes(raw)) count = raw as CountMode;
        else problems.push({ field: key, message: `must be one of: ${COUNT_MODES.join(', ')}` });
        break;
      case 'include_deleted':
        if (raw !== 'true' && raw !== 'false') problems.push({ field: key, message: 'must be true or false' });
        else if (raw === 'true' && !hasSoftDelete(entity))
          problems.push({ field: key, message: `${entity.plural} are not soft-deleted` });
        else includeDeleted = raw === 'true';
        break;
      case '_cursor':
        cursorText = raw;
        break;
      case 'q':
        if (searchableFields(entity).length === 0)
          problems.push({ field: key, message: `${entity.plural} have no searchable fields` });
        else if (raw.trim() === '') problems.push({ field: key, message: 'must not be empty' });
        else if (raw.length > MAX_SEARCH_LENGTH)
          problems.push({ field: key, message: `must be at most ${MAX_SEARCH_LENGTH} characters` });
        else {
          const unusable = unusableText(raw);
          if (unusable) problems.push({ field: key, message: unusable });
          else search = raw;
        }
        break;
      case 'filter': {
        const condition = parseFilterJson(entity, raw, budget, problems, options);
        if (condition) conditions.push(condition);
        break;
      }
      case '_sort':
        sort = parseSort(entity, raw, problems, options);
        break;
      case '_fields':
        fields = parseFields(entity, raw, problems, options);
        break;
      default: {
        const preset = entity.presets.find((p) => p.name === key);
        if (preset) {
          once(key);
          // Declared in the registry, so not counted against the client's condition budget.
          if (raw === 'true') conditions.push(presetCondition(entity, preset));
          else if (raw === 'false') conditions.push({ kind: 'not', item: presetCondition(entity, preset) });
          else
            problems.push({
              field: key,
              message: `must be true or false (a preset${preset.description ? `: ${preset.description}` : ''})`,
            });
          break;
        }
        if (key.startsWith('_')) {
          problems.push({ field: key, message: `unknown parameter; control parameters: ${CONTROL_PARAMS.join(', ')}` });
          break;
        }
        const condition = parseFilterParam(entity, key, raw, problems, options);
        budget.count();
        if (condition) conditions.push(condition);
      }
    }
  }

  if (budget.problem) problems.push(budget.problem);
  if (search !== undefined && sort.length === 0) sort = [{ target: 'rank', direction: 'desc' }];
  let after: CursorPosition | undefined;
  if (cursorText !== undefined) {
    if (seen.has('_offset'))
      problems.push({
        field: '_cursor',
        message: 'cannot be combined with _offset; a cursor already says where the page starts',
      });
    const decoded = decodeCursor(cursorText, sort);
    if ('error' in decoded) problems.push({ field: '_cursor', message: decoded.error });
    else after = decoded;
  }
  if (problems.length > 0) throw new QueryError(problems);

  const where: Condition | undefined =
    conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : { kind: 'and', items: conditions };
  return { where, search, sort, fields, limit, offset, after, count, includeDeleted };
}

function parseCount(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

function parseFilterParam(
  entity: EntityDef,
  key: string,
  raw: string,
  problems: QueryProblem[],
  options: ResolveOptions,
): Condition | undefined {
  const match = FILTER_KEY.exec(key);
  if (!match) {
    problems.push({
      field: key,
      message: 'expected field=value or field[op]=value, with a field name or dot path (e.g. wardrobe.shoes.brand)',
    });
    return undefined;
  }
  const [, path, op = 'eq'] = match;
  if (!isFilterOperator(op)) {
    problems.push({ field: key, message: `unknown operator "${op}"; operators: ${FILTER_OPERATORS.join(', ')}` });
    return undefined;
  }
  const resolved = resolveTarget(entity, path!, options);
  if ('error' in resolved) {
    const presets =
      entity.presets.length > 0 && !path!.includes('.')
        ? `; presets: ${entity.presets.map((p) => p.name).join(', ')}`
        : '';
    problems.push({ field: key, message: `${resolved.error}${presets}` });
    return undefined;
  }
  const split = MULTI_VALUE.includes(op) || (op === 'contains' && resolved.target.kind === 'list');
  const built = buildComparison(resolved.target, op, split ? raw.split(',') : [raw]);
  if ('error' in built) {
    problems.push({ field: key, message: built.error });
    return undefined;
  }
  return built.condition;
}

function parseSort(entity: EntityDef, raw: string, problems: QueryProblem[], options: ResolveOptions): SortKey[] {
  const keys: SortKey[] = [];
  for (const term of raw.split(',').map((s) => s.trim())) {
    if (term === '') continue;
    const descending = term.startsWith('-');
    const path = descending || term.startsWith('+') ? term.slice(1) : term;
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
    } else keys.push({ target: resolved.target, direction: descending ? 'desc' : 'asc' });
  }
  return keys;
}

function parseFields(entity: EntityDef, raw: string, problems: QueryProblem[], options: ResolveOptions): FieldTarget[] {
  const targets: FieldTarget[] = [];
  for (const path of raw.split(',').map((s) => s.trim())) {
    if (path === '' || targets.some((t) => t.path === path)) continue;
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
