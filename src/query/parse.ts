// Step 1 of the query compiler: a list request's URL parameters → the unresolved AST
// (unresolved-ast.ts). Only the grammar is checked here, without the registry model: paths stay
// as written, values stay text; resolve.ts looks names up and coerces values.
import { unusableText } from '../registry/text.ts';
import type { CountMode } from './ast.ts';
import { FILTER_OPERATORS, isFilterOperator } from './operators.ts';
import { parseFilterJson } from './parse-filter.ts';
import { QueryError } from './problems.ts';
import type { QueryItem, SortKeyNode, UnresolvedCondition, UnresolvedQuery } from './unresolved-ast.ts';

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

const invalid = (at: string, message: string): QueryItem & UnresolvedCondition => ({
  kind: 'invalid',
  at,
  param: at,
  message,
});

/** `query` is the raw query string (without the leading `?`) or its parameters. */
export function parseQuery(query: string | URLSearchParams): UnresolvedQuery {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  const text = typeof query === 'string' ? query : query.toString();
  const size = Buffer.byteLength(text);
  if (size > MAX_QUERY_BYTES) {
    throw new QueryError([
      {
        field: 'query',
        message: `the query string is ${size} bytes, over the ${MAX_QUERY_BYTES}-byte limit; use filter= with _in lists or fewer conditions`,
      },
    ]);
  }
  const items: QueryItem[] = [];
  const seen = new Set<string>();
  let limit: number = LIST_LIMIT.default;
  let offset = 0;
  let count: CountMode = 'auto';
  let cursor: string | undefined;

  for (const [key, raw] of params) {
    if ((CONTROL_PARAMS as readonly string[]).includes(key)) {
      if (seen.has(key)) items.push(invalid(key, 'is given more than once'));
      seen.add(key);
    }
    switch (key) {
      case '_limit': {
        const n = parseCount(raw);
        if (n === undefined || n < 1 || n > LIST_LIMIT.max)
          items.push(invalid(key, `must be an integer from 1 to ${LIST_LIMIT.max}`));
        else limit = n;
        break;
      }
      case '_offset': {
        const n = parseCount(raw);
        if (n === undefined) items.push(invalid(key, 'must be a non-negative integer'));
        else offset = n;
        break;
      }
      case '_count':
        if ((COUNT_MODES as readonly string[]).includes(raw)) count = raw as CountMode;
        else items.push(invalid(key, `must be one of: ${COUNT_MODES.join(', ')}`));
        break;
      case 'include_deleted':
        if (raw !== 'true' && raw !== 'false') items.push(invalid(key, 'must be true or false'));
        else items.push({ kind: 'include-deleted', include: raw === 'true' });
        break;
      case '_cursor':
        cursor = raw;
        break;
      case 'q':
        items.push({ kind: 'search', text: raw, ...searchProblem(raw) });
        break;
      case 'filter':
        items.push({ kind: 'where', condition: parseFilterJson(raw), counted: false });
        break;
      case '_sort':
        items.push({ kind: 'sort', keys: parseSort(raw) });
        break;
      case '_fields':
        items.push({ kind: 'projection', paths: parseFields(raw) });
        break;
      default:
        if (key.startsWith('_'))
          items.push(invalid(key, `unknown parameter; control parameters: ${CONTROL_PARAMS.join(', ')}`));
        else items.push({ kind: 'where', condition: parseFilterParam(key, raw), counted: true });
    }
  }
  return { kind: 'query', items, limit, offset, count, cursor, offsetGiven: seen.has('_offset') };
}

function parseCount(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

function searchProblem(text: string): { problem?: string } {
  if (text.trim() === '') return { problem: 'must not be empty' };
  if (text.length > MAX_SEARCH_LENGTH) return { problem: `must be at most ${MAX_SEARCH_LENGTH} characters` };
  const unusable = unusableText(text);
  return unusable ? { problem: unusable } : {};
}

/** `path=text`, `path[op]=text`. */
function parseFilterParam(key: string, text: string): UnresolvedCondition {
  const match = FILTER_KEY.exec(key);
  if (!match)
    return invalid(
      key,
      'expected field=value or field[op]=value, with a field name or dot path (e.g. wardrobe.shoes.brand)',
    );
  const [, path, op] = match;
  if (op === undefined) return { kind: 'bare', name: path!, text, at: key, param: key };
  if (!isFilterOperator(op)) return invalid(key, `unknown operator "${op}"; operators: ${FILTER_OPERATORS.join(', ')}`);
  return { kind: 'compare', path: path!, op, operand: { kind: 'text', text }, at: key, param: key };
}

/** `-updated_at,title`: descending with `-`, ascending bare or with `+`. */
function parseSort(raw: string): SortKeyNode[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((term) => term !== '')
    .map((term) => {
      const descending = term.startsWith('-');
      const path = descending || term.startsWith('+') ? term.slice(1) : term;
      return { kind: 'sort-key', path, direction: descending ? 'desc' : 'asc' };
    });
}

/** `title,wardrobe.shoes` (a path given twice is used once, which resolve sees to). */
function parseFields(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((path) => path !== '');
}
