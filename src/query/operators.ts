// The filter operators, which field kinds and types accept each, and how a client's text becomes
// a typed comparison (the field-type table, registry/types.ts, says which operators and values a
// type takes). Negative operators are stored as `not` of their positive twin, so the SQL
// and the documented semantics agree on missing values: `ne` is exactly "not eq".
import { unusableText } from '../registry/text.ts';
import {
  coerceValue,
  fieldType,
  FILTER_OPERATORS,
  parseBoolean,
  SUBSTRING_OPERATORS,
  type FilterOperator,
} from '../registry/types.ts';
import type { Condition, FieldTarget, PositiveOperator, ScalarValue } from './ast.ts';

export { coerceValue, FILTER_OPERATORS, parseBoolean, type FilterOperator } from '../registry/types.ts';

const PRESENCE: readonly FilterOperator[] = ['exists', 'null'];
const LIST_OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'in', 'nin', 'contains', 'exists', 'null'];
/** Operators whose value is a comma-separated list in a query string. */
export const MULTI_VALUE: readonly FilterOperator[] = ['in', 'nin', 'between'];

export function isFilterOperator(op: string): op is FilterOperator {
  return (FILTER_OPERATORS as readonly string[]).includes(op);
}

/** The operators a target accepts, in the documented order: a single value's come from its type. */
export function operatorsFor(target: FieldTarget): FilterOperator[] {
  if (target.kind === 'group') return [...PRESENCE];
  if (target.kind === 'list') return [...LIST_OPERATORS];
  return [...fieldType(target.type).operators];
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
      SUBSTRING_OPERATORS.includes(op) && target.kind === 'scalar'
        ? checkText(text)
        : coerceValue(target.type, text, target.def);
    if (typeof coerced === 'object') return { error: `${target.path}: ${coerced.error}` };
    typed.push(coerced);
  }
  const positive: PositiveOperator = op === 'ne' ? 'eq' : op === 'nin' ? 'in' : (op as PositiveOperator);
  const condition: Condition = { kind: 'compare', target, op: positive, values: typed };
  return { condition: op === 'ne' || op === 'nin' ? { kind: 'not', item: condition } : condition };
}

function checkText(text: string): string | { error: string } {
  const problem = unusableText(text);
  return problem ? { error: problem } : text;
}
