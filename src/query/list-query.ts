// Step 1 of the query compiler: a list request's query string → a typed AST.
// Every name is resolved through the registry model here; nothing the client wrote reaches SQL
// except as a bound value, and values are already coerced to the field's type.
import { isStorableDate, isYearZero } from '../registry/ajv.ts';
import { hasSoftDelete, type EntityDef, type FieldDef, type FieldType } from '../registry/model.ts';

export const LIST_LIMIT = { default: 50, max: 1000 } as const;
export const FILTER_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const RANGE_OPERATORS: readonly FilterOperator[] = ['gt', 'gte', 'lt', 'lte'];
const ORDERED_TYPES: readonly FieldType[] = ['integer', 'number', 'date', 'datetime', 'string', 'text'];
const CONTROL_PARAMS = ['_limit', '_offset', '_sort', 'include_deleted'] as const;

export type ScalarValue = string | number | boolean;

/** A field the compiler can address: a declared top-level field, or the system id. */
export interface FieldRef {
  readonly name: string;
  readonly type: FieldType;
  readonly storage: 'column' | 'document';
}

export interface FilterNode {
  readonly field: FieldRef;
  readonly op: FilterOperator;
  readonly value: ScalarValue | readonly ScalarValue[];
}

export interface SortNode {
  readonly field: FieldRef;
  readonly direction: 'asc' | 'desc';
}

export interface ListQuery {
  readonly filters: readonly FilterNode[];
  readonly sort: readonly SortNode[];
  readonly limit: number;
  readonly offset: number;
  readonly includeDeleted: boolean;
}

export interface QueryProblem {
  readonly field: string;
  readonly message: string;
}

export class QueryError extends Error {
  readonly problems: readonly QueryProblem[];
  constructor(problems: readonly QueryProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.name = 'QueryError';
    this.problems = problems;
  }
}

const ID_FIELD: FieldRef = { name: 'id', type: 'string', storage: 'column' };

/** Top-level scalar fields can be filtered and sorted on. */
export function isFilterable(field: FieldDef): boolean {
  return field.type !== 'object' && field.type !== 'array';
}

function addressableFields(entity: EntityDef): Map<string, FieldDef | undefined> {
  const fields = new Map<string, FieldDef | undefined>([['id', undefined]]);
  for (const field of entity.fields) if (isFilterable(field)) fields.set(field.name, field);
  return fields;
}

export function parseListQuery(entity: EntityDef, params: URLSearchParams): ListQuery {
  const problems: QueryProblem[] = [];
  const fields = addressableFields(entity);
  const known = () => [...fields.keys()].join(', ');
  const resolve = (name: string, param: string): { ref: FieldRef; def?: FieldDef } | undefined => {
    if (!fields.has(name)) {
      const nested = entity.fields.find((f) => f.name === name && !isFilterable(f));
      problems.push({
        field: param,
        message: nested
          ? `"${name}" is an ${nested.type} field and cannot be compared as a whole; filterable fields: ${known()}`
          : `unknown field "${name}"; filterable fields: ${known()}`,
      });
      return undefined;
    }
    const def = fields.get(name);
    return { ref: def ? { name: def.name, type: def.type, storage: def.storage } : ID_FIELD, def };
  };

  let limit: number = LIST_LIMIT.default;
  let offset = 0;
  let includeDeleted = false;
  const sort: SortNode[] = [];
  const filters: FilterNode[] = [];

  for (const [key, raw] of params) {
    if (key === '_limit') {
      const n = parseInteger(raw);
      if (n === undefined || n < 1 || n > LIST_LIMIT.max) problems.push({ field: key, message: `must be an integer from 1 to ${LIST_LIMIT.max}` });
      else limit = n;
    } else if (key === '_offset') {
      const n = parseInteger(raw);
      if (n === undefined || n < 0) problems.push({ field: key, message: 'must be a non-negative integer' });
      else offset = n;
    } else if (key === 'include_deleted') {
      if (raw !== 'true' && raw !== 'false') problems.push({ field: key, message: 'must be true or false' });
      else if (!hasSoftDelete(entity) && raw === 'true') problems.push({ field: key, message: `${entity.plural} are not soft-deleted` });
      else includeDeleted = raw === 'true';
    } else if (key === '_sort') {
      for (const term of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
        const descending = term.startsWith('-');
        const name = descending || term.startsWith('+') ? term.slice(1) : term;
        const resolved = resolve(name, key);
        if (resolved) sort.push({ field: resolved.ref, direction: descending ? 'desc' : 'asc' });
      }
    } else if (key.startsWith('_')) {
      problems.push({ field: key, message: `unknown parameter; known: ${CONTROL_PARAMS.join(', ')}` });
    } else {
      const match = /^([A-Za-z0-9_]+)(?:\[([A-Za-z]+)\])?$/.exec(key);
      if (!match) {
        problems.push({ field: key, message: 'expected field=value or field[op]=value' });
        continue;
      }
      const [, name, opText = 'eq'] = match;
      if (!(FILTER_OPERATORS as readonly string[]).includes(opText)) {
        problems.push({ field: key, message: `unknown operator "${opText}"; operators: ${FILTER_OPERATORS.join(', ')}` });
        continue;
      }
      const op = opText as FilterOperator;
      const resolved = resolve(name!, key);
      if (!resolved) continue;
      if (RANGE_OPERATORS.includes(op) && !ORDERED_TYPES.includes(resolved.ref.type)) {
        problems.push({ field: key, message: `${op} needs an ordered field; "${name}" is ${resolved.ref.type}` });
        continue;
      }
      const texts = op === 'in' ? raw.split(',') : [raw];
      const values: ScalarValue[] = [];
      for (const text of texts) {
        const coerced = coerceValue(resolved.ref.type, text, resolved.def);
        if (typeof coerced === 'object') problems.push({ field: key, message: coerced.error });
        else values.push(coerced);
      }
      if (values.length === texts.length) filters.push({ field: resolved.ref, op, value: op === 'in' ? values : values[0]! });
    }
  }

  if (problems.length > 0) throw new QueryError(problems);
  return { filters, sort, limit, offset, includeDeleted };
}

function parseInteger(text: string): number | undefined {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/** Coerces a query-string value to the field's type, or explains why it cannot. */
export function coerceValue(type: FieldType, text: string, def?: FieldDef): ScalarValue | { error: string } {
  if (text.includes('\u0000')) return { error: 'must not contain the NUL character' };
  switch (type) {
    case 'integer': {
      const n = parseInteger(text);
      return n === undefined ? { error: `"${text}" is not an integer` } : n;
    }
    case 'number': {
      const n = text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(n) ? n : { error: `"${text}" is not a number` };
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : { error: `"${text}" is not true or false` };
    case 'date':
      return isStorableDate(text) ? text : { error: `"${text}" is not a date (YYYY-MM-DD)` };
    case 'datetime': {
      const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
      const ms = Date.parse(isDateOnly ? `${text}T00:00:00Z` : text);
      const shaped = isDateOnly || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
      return shaped && Number.isFinite(ms) && !isYearZero(text)
        ? new Date(ms).toISOString()
        : { error: `"${text}" is not a date-time (ISO 8601, e.g. 2025-12-31T10:00:00Z, or a date)` };
    }
    case 'enum': {
      const canonical = def?.values?.includes(text) ? text : def?.aliases?.[text];
      return canonical ?? { error: `"${text}" is not one of: ${def?.values?.join(', ')}` };
    }
    default:
      return text;
  }
}
