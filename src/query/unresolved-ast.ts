// The unresolved query AST: a list request's parameters as the client wrote them, before any name
// is looked up in the registry model. Field paths are the client's text, operators are known
// operator names, values are the raw text or JSON; every node says where it came from (`at`,
// the error location, and `param`, the URL parameter), so that a later step reports problems in
// the client's own words. Parse (parse.ts) builds it, transformers (transform.ts) rewrite it,
// resolve (resolve.ts) turns it into the resolved AST (ast.ts) that compile-sql consumes.
import type { CountMode } from './ast.ts';
import type { FilterOperator } from '../registry/types.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where a node came from: the error location (`filter._or[1].title._eq`) and its URL parameter. */
interface Located {
  readonly at: string;
  readonly param: string;
}

/** A comparison's operand as written: a query-string text (comma lists split when resolving) or a `filter=` JSON value. */
export type Operand =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'json'; readonly value: Json };

export interface AndNode extends Located {
  readonly kind: 'and';
  readonly items: readonly UnresolvedCondition[];
}
export interface OrNode extends Located {
  readonly kind: 'or';
  readonly items: readonly UnresolvedCondition[];
}
export interface NotNode extends Located {
  readonly kind: 'not';
  readonly item: UnresolvedCondition;
}
/** `{"wardrobe": {…}}` in `filter=`: the conditions inside are about this field (its full path). */
export interface FieldNode extends Located {
  readonly kind: 'field';
  readonly path: string;
  readonly item: UnresolvedCondition;
}
/** `path[op]=text` or `{"path": {"_op": value}}`. */
export interface CompareNode extends Located {
  readonly kind: 'compare';
  readonly path: string;
  readonly op: FilterOperator;
  readonly operand: Operand;
  /** `_nnull`: a `null` whose true/false operand is read the other way round. */
  readonly negated?: boolean;
}
/** `name=text` with no operator: a preset's switch when the entity has a preset of that name, else `name[eq]`. */
export interface BareNode extends Located {
  readonly kind: 'bare';
  readonly name: string;
  readonly text: string;
}
/** Input parse could not read; resolve reports it in its place, so problems keep the request's order. */
export interface InvalidNode extends Located {
  readonly kind: 'invalid';
  readonly message: string;
}

export type UnresolvedCondition = AndNode | OrNode | NotNode | FieldNode | CompareNode | BareNode | InvalidNode;

/** A filter parameter, a `filter=` tree, or a preset switch. */
export interface WhereNode {
  readonly kind: 'where';
  readonly condition: UnresolvedCondition;
  /** A query-string filter parameter counts against the condition budget as one (filter= counts its comparisons). */
  readonly counted: boolean;
}
export interface SortKeyNode {
  readonly kind: 'sort-key';
  readonly path: string;
  readonly direction: 'asc' | 'desc';
}
export interface SortNode {
  readonly kind: 'sort';
  readonly keys: readonly SortKeyNode[];
}
export interface ProjectionNode {
  readonly kind: 'projection';
  readonly paths: readonly string[];
}
export interface SearchNode {
  readonly kind: 'search';
  readonly text: string;
  /** Why the text cannot be searched for; reported only if the entity has searchable fields at all. */
  readonly problem?: string;
}
export interface IncludeDeletedNode {
  readonly kind: 'include-deleted';
  readonly include: boolean;
}

export type QueryItem = WhereNode | SortNode | ProjectionNode | SearchNode | IncludeDeletedNode | InvalidNode;

/** The whole request. Items keep the parameters' order; a later `_sort` or `_fields` replaces an earlier one. */
export interface UnresolvedQuery {
  readonly kind: 'query';
  readonly items: readonly QueryItem[];
  readonly limit: number;
  readonly offset: number;
  readonly count: CountMode;
  readonly cursor?: string;
  /** Whether `_offset` was given at all (a cursor cannot be combined with it). */
  readonly offsetGiven: boolean;
}

export type UnresolvedNode = UnresolvedQuery | QueryItem | UnresolvedCondition | SortKeyNode;

/** Every node kind, for walkers and the contract tests that must cover each. */
export const UNRESOLVED_KINDS = [
  'query',
  'where',
  'sort',
  'sort-key',
  'projection',
  'search',
  'include-deleted',
  'and',
  'or',
  'not',
  'field',
  'compare',
  'bare',
  'invalid',
] as const satisfies readonly UnresolvedNode['kind'][];
export type UnresolvedKind = (typeof UNRESOLVED_KINDS)[number];
/** Compile-time proof that the list names every kind of the union (the other direction is `satisfies`). */
type Unlisted = Exclude<UnresolvedNode['kind'], UnresolvedKind>;
export const EVERY_KIND_LISTED: [Unlisted] extends [never] ? true : false = true;
