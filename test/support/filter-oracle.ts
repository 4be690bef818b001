// An in-memory evaluator of the documented filter semantics, written from the contract
// (docs/query-language.md) and not from src/query, so that the property test in
// test/query-properties.test.ts can hold the API's SQL against an independent reading.
//
// Records are the JSON bodies as sent (plus defaults the server applies); filter values are
// already typed (numbers for integer fields, strings for dates and text, booleans for
// exists/null). Strings compare with JS `<`, so callers only use range operators on lowercase
// ASCII values, where that agrees with the database collation.

import { normalizeText, type NormalizeMode } from '../../src/registry/normalize.ts';

export type Scalar = string | number;

/** scalar: one value; list: an array of scalars; object: an object or a list of objects (presence only). */
export type FieldKind = 'scalar' | 'list' | 'object';
export type FieldType = 'string' | 'integer' | 'date' | 'enum';

export interface FieldSpec {
  /** Dotted path from the record, e.g. `backgrounds.additional.location`. */
  readonly path: string;
  readonly kind: FieldKind;
  /** The value's type; for a list, its elements' type; unused for objects. */
  readonly type: FieldType;
  /** Enum spellings accepted for canonical values, e.g. `in-production` → `in_production`. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** How the field normalizes text (`normalize:`): stored and compared in that spelling. */
  readonly normalize?: NormalizeMode;
}

export const OPERATORS = [
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
export type Operator = (typeof OPERATORS)[number];

export type LeafValue = Scalar | readonly Scalar[] | boolean;

export interface Leaf {
  readonly kind: 'leaf';
  readonly path: string;
  readonly op: Operator;
  readonly value: LeafValue;
}

export type FilterNode<L extends Leaf = Leaf> =
  | L
  | { readonly kind: 'and'; readonly items: readonly FilterNode<L>[] }
  | { readonly kind: 'or'; readonly items: readonly FilterNode<L>[] }
  | { readonly kind: 'not'; readonly item: FilterNode<L> };

export type Fields = ReadonlyMap<string, FieldSpec>;

export const fieldMap = (specs: readonly FieldSpec[]): Fields => new Map(specs.map((s) => [s.path, s]));

/** Absent and JSON null are the same thing: missing. */
const isMissing = (value: unknown): value is null | undefined => value === undefined || value === null;

/**
 * Whether `test` holds for the value at `segments` under `value`. A missing object on the way
 * makes it false; an array met with segments still to go is a list of objects, and then it
 * holds when any element's value satisfies `test`.
 */
function reaches(value: unknown, segments: readonly string[], test: (v: unknown) => boolean): boolean {
  if (isMissing(value)) return false;
  if (segments.length === 0) return test(value);
  if (Array.isArray(value)) return value.some((element) => reaches(element, segments, test));
  if (typeof value !== 'object') return false;
  const [head, ...rest] = segments;
  return reaches((value as Record<string, unknown>)[head!], rest, test);
}

function asList(value: LeafValue, op: Operator): readonly Scalar[] {
  if (!Array.isArray(value)) throw new Error(`oracle: ${op} takes a list of values`);
  return value as readonly Scalar[];
}

function asScalar(value: LeafValue, op: Operator): Scalar {
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`oracle: ${op} takes one value`);
  return value;
}

function asText(value: LeafValue, op: Operator): string {
  if (typeof value !== 'string') throw new Error(`oracle: ${op} takes a string`);
  return value;
}

/** Orders two values of the same type (numbers numerically; dates and lowercase text as strings). */
function compare(a: Scalar, b: Scalar): number | undefined {
  if (typeof a !== typeof b) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The test a positive operator puts on a present value. */
function positiveTest(spec: FieldSpec, op: Operator, value: LeafValue): (v: unknown) => boolean {
  const canonical = (x: unknown): unknown =>
    spec.type === 'enum' && typeof x === 'string'
      ? (spec.aliases?.[x] ?? x)
      : spec.normalize && typeof x === 'string'
        ? normalizeText(x, spec.normalize)
        : x;
  if (op === 'exists') return () => true;
  if (spec.kind === 'object') throw new Error(`oracle: ${op} does not apply to object ${spec.path}`);

  if (spec.kind === 'list') {
    const has = (list: unknown, x: Scalar) =>
      Array.isArray(list) && list.some((item) => canonical(item) === canonical(x));
    switch (op) {
      case 'eq':
        return (list) => has(list, asScalar(value, op));
      case 'in':
        return (list) => asList(value, op).some((x) => has(list, x));
      case 'contains':
        return (list) => asList(value, op).every((x) => has(list, x));
      default:
        throw new Error(`oracle: ${op} does not apply to list ${spec.path}`);
    }
  }

  const ordered = (accept: (order: number) => boolean) => (v: unknown) => {
    const order = typeof v === 'string' || typeof v === 'number' ? compare(v, asScalar(value, op)) : undefined;
    return order !== undefined && accept(order);
  };
  const text = (accept: (v: string, s: string) => boolean) => (v: unknown) => {
    const s = asText(value, op);
    const stored = canonical(v);
    return typeof stored === 'string' && accept(stored, s);
  };
  switch (op) {
    case 'eq':
      return (v) => canonical(v) === canonical(asScalar(value, op));
    case 'in':
      return (v) => asList(value, op).some((x) => canonical(v) === canonical(x));
    case 'gt':
      return ordered((o) => o > 0);
    case 'gte':
      return ordered((o) => o >= 0);
    case 'lt':
      return ordered((o) => o < 0);
    case 'lte':
      return ordered((o) => o <= 0);
    case 'between': {
      const [low, high] = asList(value, op);
      return (v) => {
        if (typeof v !== 'string' && typeof v !== 'number') return false;
        const fromLow = compare(v, low!);
        const toHigh = compare(v, high!);
        return fromLow !== undefined && toHigh !== undefined && fromLow >= 0 && toHigh <= 0;
      };
    }
    case 'contains':
      return text((v, s) => v.includes(s));
    case 'icontains':
      return text((v, s) => v.toLowerCase().includes(s.toLowerCase()));
    case 'startswith':
      return text((v, s) => v.startsWith(s));
    case 'endswith':
      return text((v, s) => v.endsWith(s));
    default:
      throw new Error(`oracle: no positive operator ${op}`);
  }
}

/** One leaf: positive operators as documented, negative ones as the NOT of their positive twin. */
export function leafHolds(leaf: Leaf, record: Readonly<Record<string, unknown>>, fields: Fields): boolean {
  const spec = fields.get(leaf.path);
  if (!spec) throw new Error(`oracle: unknown field ${leaf.path}`);
  const segments = leaf.path.split('.');
  const holds = (op: Operator) => reaches(record, segments, positiveTest(spec, op, leaf.value));
  switch (leaf.op) {
    case 'ne':
      return !holds('eq');
    case 'nin':
      return !holds('in');
    case 'exists':
    case 'null': {
      if (typeof leaf.value !== 'boolean') throw new Error(`oracle: ${leaf.op} takes true or false`);
      const wantPresent = leaf.op === 'exists' ? leaf.value : !leaf.value;
      return wantPresent ? holds('exists') : !holds('exists');
    }
    default:
      return holds(leaf.op);
  }
}

/** Plain two-valued boolean logic over the leaves. */
export function evaluate<L extends Leaf>(
  node: FilterNode<L>,
  record: Readonly<Record<string, unknown>>,
  fields: Fields,
): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((item) => evaluate(item, record, fields));
    case 'or':
      return node.items.some((item) => evaluate(item, record, fields));
    case 'not':
      return !evaluate(node.item, record, fields);
    default:
      return leafHolds(node, record, fields);
  }
}
