// The filter operators, which field kinds and types accept each, and how a client's text becomes
// a typed comparison. Negative operators are stored as `not` of their positive twin, so the SQL
// and the documented semantics agree on missing values: `ne` is exactly "not eq".
import { isStorableDate, isStorableDateTime } from '../registry/ajv.ts';
import type { FieldDef, FieldType } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import { unusableText } from '../registry/text.ts';
import type { Condition, FieldTarget, PositiveOperator, ScalarValue } from './ast.ts';

export const FILTER_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'between',
  'contains',
  'icontains',
  'startswith',
  'endswith',
  'exists',
  'null',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const ORDERED_TYPES: readonly FieldType[] = ['integer', 'number', 'date', 'datetime', 'string', 'text'];
const TEXT_TYPES: readonly FieldType[] = ['string', 'text', 'enum', 's3_uri', 'url', 'ref'];
const RANGE: readonly FilterOperator[] = ['gt', 'gte', 'lt', 'lte', 'between'];
const SUBSTRING: readonly FilterOperator[] = ['contains', 'icontains', 'startswith', 'endswith'];
const PRESENCE: readonly FilterOperator[] = ['exists', 'null'];
const LIST_OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'in', 'nin', 'contains', 'exists', 'null'];
/** Operators whose value is a comma-separated list in a query string. */
export const MULTI_VALUE: readonly FilterOperator[] = ['in', 'nin', 'between'];

export function isFilterOperator(op: string): op is FilterOperator {
  return (FILTER_OPERATORS as readonly string[]).includes(op);
}

/** The operators a target accepts, in the documented order. */
export function operatorsFor(target: FieldTarget): FilterOperator[] {
  if (target.kind === 'group') return [...PRESENCE];
  if (target.kind === 'list') return [...LIST_OPERATORS];
  return FILTER_OPERATORS.filter((op) => {
    if (RANGE.includes(op)) return ORDERED_TYPES.includes(target.type);
    if (SUBSTRING.includes(op)) return TEXT_TYPES.includes(target.type);
    return true;
  });
}

function describe(target: FieldTarget): string {
  if (target.kind === 'group') return 'an object or a list of objects';
  if (target.kind === 'list') return `a list of ${target.type} values`;
  return target.type;
}

export type Built = { readonly condition: Condition } | { readonly error: string };

/**
 * Builds the condition for `path[op]=values`. `values` are the client's texts: one for most
 * operators, the comma-separated items for in/nin/between and a list's contains.
 */
export function buildComparison(target: FieldTarget, op: FilterOperator, values: readonly string[]): Built {
  const allowed = operatorsFor(target);
  if (!allowed.includes(op)) {
    return {
      error: `operator "${op}" does not apply to "${target.path}" (${describe(target)}); operators here: ${allowed.join(', ')}`,
    };
  }
  if (op === 'exists' || op === 'null') {
    const flag = values.length === 1 ? parseBoolean(values[0]!) : undefined;
    if (flag === undefined) return { error: `${op} takes true or false` };
    const present = op === 'exists' ? flag : !flag;
    const exists: Condition = { kind: 'compare', target, op: 'exists', values: [] };
    return { condition: present ? exists : { kind: 'not', item: exists } };
  }
  if (values.length === 0) return { error: `"${target.path}" needs a value for ${op}` };
  if (op === 'between' && values.length !== 2)
    return { error: 'between takes two values, low and high: field[between]=a,b' };
  if (!MULTI_VALUE.includes(op) && !(op === 'contains' && target.kind === 'list') && values.length !== 1) {
    return { error: `${op} takes one value` };
  }

  const typed: ScalarValue[] = [];
  for (const text of values) {
    const coerced =
      SUBSTRING.includes(op) && target.kind === 'scalar' ? checkText(text) : coerceValue(target.type, text, target.def);
    if (typeof coerced === 'object') return { error: `${target.path}: ${coerced.error}` };
    typed.push(coerced);
  }
  const positive: PositiveOperator = op === 'ne' ? 'eq' : op === 'nin' ? 'in' : (op as PositiveOperator);
  const condition: Condition = { kind: 'compare', target, op: positive, values: typed };
  return { condition: op === 'ne' || op === 'nin' ? { kind: 'not', item: condition } : condition };
}

export function parseBoolean(text: string): boolean | undefined {
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

function checkText(text: string): string | { error: string } {
  const problem = unusableText(text);
  return problem ? { error: problem } : text;
}

function parseInteger(text: string): number | undefined {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/** Coerces a client's text to the field's type, or explains why it cannot. */
export function coerceValue(type: FieldType, text: string, def?: FieldDef): ScalarValue | { error: string } {
  const problem = unusableText(text);
  if (problem) return { error: problem };
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
      return parseBoolean(text) ?? { error: `"${text}" is not true or false` };
    case 'date':
      return isStorableDate(text) ? text : { error: `"${text}" is not a date (YYYY-MM-DD)` };
    case 'datetime':
      // A bare date means its midnight UTC.
      if (isStorableDate(text)) return `${text}T00:00:00.000Z`;
      return isStorableDateTime(text) && Number.isFinite(Date.parse(text))
        ? new Date(text).toISOString()
        : { error: `"${text}" is not a date-time (RFC 3339, e.g. 2025-12-31T10:00:00Z, or a date)` };
    case 'enum': {
      const canonical = def?.values?.includes(text) ? text : ownValue(def?.aliases, text);
      if (canonical === undefined && def?.otherPattern && new RegExp(def.otherPattern, 'u').test(text)) return text;
      const other = def?.otherPattern ? `, or text matching ${def.otherPattern}` : '';
      return canonical ?? { error: `"${text}" is not one of: ${def?.values?.join(', ')}${other}` };
    }
    default:
      return text;
  }
}
