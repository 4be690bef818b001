// The resolved query AST: what a list request asks for, with every name already resolved through
// the registry model and every value already coerced to its field's type. resolve.ts builds it
// from the unresolved AST (unresolved-ast.ts); compile-sql.ts turns it into SQL.
import type { FieldDef, FieldType } from '../registry/model.ts';
import type { ScalarValue } from '../registry/types.ts';

export type { ScalarValue };

/**
 * What a filter, sort key or projection path addresses.
 * `hops[0]` is the JSON path from the table column to the value, or to the first array of
 * objects on the way; each later hop is the path inside one element of that array. A top-level
 * column has `hops = [[]]`.
 */
export interface FieldTarget {
  /** As the client wrote it, e.g. `wardrobe.shoes.brand`. */
  readonly path: string;
  readonly column: string;
  readonly hops: readonly (readonly string[])[];
  /** scalar: one value; list: an array of scalars; group: an object or an array of objects. */
  readonly kind: 'scalar' | 'list' | 'group';
  /** The value's type; for a list, its elements' type. */
  readonly type: FieldType;
  /** Whether the value is a typed table column rather than a value inside JSONB. */
  readonly isColumn: boolean;
  /** The registry field, for enum values and aliases (absent for the system id). */
  readonly def?: FieldDef;
  /**
   * A path through ref/refs fields: the rest of the target (column, hops, …) addresses a field of
   * the last related entity, and the comparison holds when any related record satisfies it.
   */
  readonly via?: Relation;
  /** A count field: computed from the records that refer to this one. */
  readonly count?: Relation;
  /** A link roles field: the roles of the links live records hold to this one (one refs hop). */
  readonly roles?: Relation;
}

/** One step from a record to the records a ref or refs field points at. */
export interface RelationHop {
  readonly kind: 'ref' | 'refs';
  /** ref: the owner's column holding the target id. */
  readonly column?: string;
  /** refs: the junction table. */
  readonly junction?: string;
  /** The target entity's name (for the read permission a path through it needs), its table, and whether only its live records count. */
  readonly entity: string;
  readonly table: string;
  readonly softDelete: boolean;
}

/**
 * A chain of hops starting at `from`. For `via`, `from` is the queried table itself; for a count,
 * it is the referring entity's table, and the chain ends at the queried record.
 */
export interface Relation {
  /** The starting entity's name and table. */
  readonly fromEntity: string;
  readonly from: string;
  readonly fromSoftDelete: boolean;
  readonly hops: readonly RelationHop[];
}

/** Operators a leaf can hold after parsing; negative operators become `not` of a positive one. */
export type PositiveOperator =
  | 'eq'
  | 'in'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'between'
  | 'contains'
  | 'icontains'
  | 'startswith'
  | 'endswith'
  | 'exists';

export type Condition =
  | { readonly kind: 'and'; readonly items: readonly Condition[] }
  | { readonly kind: 'or'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition }
  | {
      readonly kind: 'compare';
      readonly target: FieldTarget;
      readonly op: PositiveOperator;
      readonly values: readonly ScalarValue[];
    };

/** Every kind of Condition, for walkers and the contract tests that must cover each. */
export const CONDITION_KINDS = ['and', 'or', 'not', 'compare'] as const satisfies readonly Condition['kind'][];
type Unlisted = Exclude<Condition['kind'], (typeof CONDITION_KINDS)[number]>;
export const EVERY_CONDITION_LISTED: [Unlisted] extends [never] ? true : false = true;

export interface SortKey {
  /** A field, or the full-text rank when `q` is given and no other order is asked for. */
  readonly target: FieldTarget | 'rank';
  readonly direction: 'asc' | 'desc';
}

export type CountMode = 'exact' | 'estimated' | 'none' | 'auto';

export interface ListQuery {
  readonly where?: Condition;
  /** Full-text search text (websearch syntax). */
  readonly search?: string;
  readonly sort: readonly SortKey[];
  /** Paths to return; undefined means every field. */
  readonly fields?: readonly FieldTarget[];
  readonly limit: number;
  readonly offset: number;
  /** Keyset position: the sort-key values and id of the last row already seen. */
  readonly after?: CursorPosition;
  readonly count: CountMode;
  readonly includeDeleted: boolean;
}

export interface CursorPosition {
  readonly values: readonly (ScalarValue | null)[];
  readonly id: string;
}

/** `query` limited to the records whose `target` equals `value` (a route's scope: a parent's id). */
export function scopedTo(query: ListQuery, target: FieldTarget, value: ScalarValue): ListQuery {
  const scope: Condition = { kind: 'compare', target, op: 'eq', values: [value] };
  return { ...query, where: query.where ? { kind: 'and', items: [scope, query.where] } : scope };
}
