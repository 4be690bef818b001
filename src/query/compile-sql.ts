// Step 3 of the query compiler: the AST → parameterized SQL (slonik fragments).
// Identifiers and JSON paths come from the registry model through FieldTarget; every client value
// is a bound parameter; type names come from the field-type table (registry/types.ts). The expressions for values inside JSONB
// are exactly the ones codegen indexes (see src/codegen/table-spec.ts), so the planner can use them.
import { sql, type FragmentSqlToken } from 'slonik';
import type { FieldType } from '../registry/model.ts';
import { fieldType } from '../registry/types.ts';
import type { Condition, CursorPosition, FieldTarget, ListQuery, Relation, RelationHop, ScalarValue } from './ast.ts';
import { TEXT_SEARCH_CONFIG } from './full-text.ts';
import { SEARCH_COLUMN } from '../registry/names.ts';

export interface TypedExpression {
  readonly sql: FragmentSqlToken;
  readonly pgType: string;
}

const jsonPath = (path: readonly string[]) => sql.literalValue(`{${path.join(',')}}`);

/** The JSON value at `path` under `base` (the base itself for an empty path). */
function jsonAt(base: FragmentSqlToken, path: readonly string[]): FragmentSqlToken {
  return path.length === 0 ? base : sql.fragment`(${base} #> ${jsonPath(path)})`;
}

function scalarAt(base: FragmentSqlToken, path: readonly string[], type: FieldType): TypedExpression {
  const text = sql.fragment`(${base} #>> ${jsonPath(path)})`;
  const cast = fieldType(type).jsonbCast;
  return cast ? { sql: sql.fragment`${text}::${sql.identifier([cast])}`, pgType: cast } : { sql: text, pgType: 'text' };
}

/** An alias (r1, c) or a table name, as it qualifies a column. */
type Qualifier = string;
const column = (table: Qualifier, name: string) => sql.identifier([table, name]);

/**
 * Holds when a record reached from `owner` through `hops` is live and satisfies `inner`, which
 * is compiled inside the innermost subquery (its unqualified columns are the related table's).
 * Aliases r1, r2, … keep each level's table apart, even when a relation points back at its own
 * entity; the junction lookup sits in its own subquery so its columns never shadow the target's.
 */
function relatedExists(
  hops: readonly RelationHop[],
  owner: Qualifier,
  depth: number,
  inner: (alias: Qualifier) => FragmentSqlToken,
): FragmentSqlToken {
  const [hop, ...rest] = hops;
  const alias = `r${depth}`;
  const link =
    hop!.kind === 'ref'
      ? sql.fragment`${column(alias, 'id')} = ${column(owner, hop!.column!)}`
      : sql.fragment`${column(alias, 'id')} IN (SELECT ${sql.identifier(['target_id'])} FROM ${sql.identifier([hop!.junction!])} WHERE ${sql.identifier(['owner_id'])} = ${column(owner, 'id')})`;
  const live = hop!.softDelete ? sql.fragment` AND ${column(alias, 'deleted_at')} IS NULL` : sql.fragment``;
  const body = rest.length === 0 ? inner(alias) : relatedExists(rest, alias, depth + 1, inner);
  return sql.fragment`EXISTS (SELECT 1 FROM ${sql.identifier([hop!.table])} AS ${sql.identifier([alias])} WHERE ${link}${live} AND ${body})`;
}

/** A count field: the live records of `from` whose chain of hops reaches this record. */
function countExpression(relation: Relation, self: string): FragmentSqlToken {
  const source = 'c';
  const live = relation.fromSoftDelete ? sql.fragment`${column(source, 'deleted_at')} IS NULL AND ` : sql.fragment``;
  const reaches = relatedExists(
    relation.hops,
    source,
    1,
    (alias) => sql.fragment`${column(alias, 'id')} = ${column(self, 'id')}`,
  );
  return sql.fragment`(SELECT count(*) FROM ${sql.identifier([relation.from])} AS ${sql.identifier([source])} WHERE ${live}${reaches})`;
}

/**
 * A link roles field: the distinct roles, in order, of the links that live records of `from`
 * hold to this record through its one refs hop (a JSON array, `[]` when there are none): the
 * select-list expression for `self`'s rows, and what its filters compare.
 */
export function rolesColumn(relation: Relation, self: string): FragmentSqlToken {
  const hop = relation.hops[0]!;
  const [source, link] = ['c', 'j'];
  const live = relation.fromSoftDelete ? sql.fragment` AND ${column(source, 'deleted_at')} IS NULL` : sql.fragment``;
  return sql.fragment`(SELECT coalesce(jsonb_agg(DISTINCT ${column(link, 'role')} ORDER BY ${column(link, 'role')}) FILTER (WHERE ${column(link, 'role')} IS NOT NULL), '[]'::jsonb) FROM ${sql.identifier([hop.junction!])} AS ${sql.identifier([link])} JOIN ${sql.identifier([relation.from])} AS ${sql.identifier([source])} ON ${column(source, 'id')} = ${column(link, 'owner_id')} WHERE ${column(link, 'target_id')} = ${column(self, 'id')}${live})`;
}

/** The select-list expression of a count field, for `table`'s rows. */
export function computedColumn(relation: Relation, table: string): FragmentSqlToken {
  return countExpression(relation, table);
}

/** The typed value of a scalar target that does not cross an array (sort keys, comparisons). */
export function valueExpression(target: FieldTarget): TypedExpression {
  if (target.count) return { sql: countExpression(target.count, target.count.hops.at(-1)!.table), pgType: 'int8' };
  if (target.isColumn)
    return { sql: sql.fragment`${sql.identifier([target.column])}`, pgType: fieldType(target.type).bindType };
  return scalarAt(sql.fragment`${sql.identifier([target.column])}`, target.hops[0]!, target.type);
}

const bound = (value: ScalarValue, pgType: string) => sql.fragment`${value}::${sql.identifier([pgType])}`;

function leaf(
  target: FieldTarget,
  op: string,
  values: readonly ScalarValue[],
  base: FragmentSqlToken,
  path: readonly string[],
  atColumn: boolean,
): FragmentSqlToken {
  if (target.kind !== 'scalar') {
    const json = jsonAt(base, path);
    if (op === 'exists') return sql.fragment`jsonb_typeof(${json}) <> 'null'`;
    const contains = (items: readonly ScalarValue[]) => sql.fragment`${json} @> ${sql.jsonb([...items])}`;
    if (op === 'in')
      return sql.fragment`(${sql.join(
        values.map((v) => contains([v])),
        sql.fragment` OR `,
      )})`;
    return contains(values); // eq: one value; contains: all of them
  }
  const expression = atColumn || target.count ? valueExpression(target) : scalarAt(base, path, target.type);
  const x = expression.sql;
  const [first, second] = values;
  switch (op) {
    case 'exists':
      return sql.fragment`${x} IS NOT NULL`;
    case 'eq':
      return sql.fragment`${x} = ${bound(first!, expression.pgType)}`;
    case 'in':
      return sql.fragment`${x} = ANY(${sql.array([...values] as string[], expression.pgType)})`;
    case 'gt':
      return sql.fragment`${x} > ${bound(first!, expression.pgType)}`;
    case 'gte':
      return sql.fragment`${x} >= ${bound(first!, expression.pgType)}`;
    case 'lt':
      return sql.fragment`${x} < ${bound(first!, expression.pgType)}`;
    case 'lte':
      return sql.fragment`${x} <= ${bound(first!, expression.pgType)}`;
    case 'between':
      return sql.fragment`${x} BETWEEN ${bound(first!, expression.pgType)} AND ${bound(second!, expression.pgType)}`;
    case 'contains':
      return sql.fragment`strpos(${x}, ${String(first)}::text) > 0`;
    case 'icontains':
      return sql.fragment`strpos(lower(${x}), lower(${String(first)}::text)) > 0`;
    case 'startswith':
      return sql.fragment`starts_with(${x}, ${String(first)}::text)`;
    case 'endswith':
      return sql.fragment`right(${x}, char_length(${String(first)}::text)) = ${String(first)}::text`;
    default:
      throw new Error(`no SQL for operator ${op}`);
  }
}

/** A comparison; through arrays of objects it holds when any element satisfies it. */
function comparison(target: FieldTarget, op: string, values: readonly ScalarValue[]): FragmentSqlToken {
  const column = target.roles
    ? rolesColumn(target.roles, target.roles.hops.at(-1)!.table)
    : sql.fragment`${sql.identifier([target.column])}`;
  const step = (base: FragmentSqlToken, hop: number): FragmentSqlToken => {
    const path = target.hops[hop]!;
    if (hop === target.hops.length - 1) return leaf(target, op, values, base, path, hop === 0 && target.isColumn);
    const array = jsonAt(base, path);
    const alias = `e${hop}`;
    const element = sql.fragment`${sql.identifier([alias, 'v'])}`;
    return sql.fragment`EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${array}) = 'array' THEN ${array} END) AS ${sql.identifier([alias])}(v) WHERE ${step(element, hop + 1)})`;
  };
  return step(column, 0);
}

export function conditionSql(condition: Condition): FragmentSqlToken {
  switch (condition.kind) {
    case 'and':
      return sql.fragment`(${sql.join(condition.items.map(conditionSql), sql.fragment` AND `)})`;
    case 'or':
      return sql.fragment`(${sql.join(condition.items.map(conditionSql), sql.fragment` OR `)})`;
    case 'not':
      // A missing value makes a comparison unknown (NULL); "not" of it is true, as documented.
      return sql.fragment`(${conditionSql(condition.item)}) IS NOT TRUE`;
    case 'compare': {
      const { target } = condition;
      if (!target.via) return comparison(target, condition.op, condition.values);
      return relatedExists(target.via.hops, target.via.from, 1, () =>
        comparison(target, condition.op, condition.values),
      );
    }
  }
}

function searchQuery(text: string): FragmentSqlToken {
  return sql.fragment`websearch_to_tsquery(${sql.literalValue(TEXT_SEARCH_CONFIG)}, ${text}::text)`;
}

export interface SortExpression extends TypedExpression {
  readonly direction: 'asc' | 'desc';
  /** Never NULL (the primary key): the cursor condition can be a plain range an index answers. */
  readonly notNull?: boolean;
}

/** The ORDER BY keys: the requested ones, then id so that pages never overlap or skip. */
export function sortExpressions(query: Pick<ListQuery, 'sort' | 'search'>): SortExpression[] {
  const keys: SortExpression[] = query.sort.map((key) =>
    key.target === 'rank'
      ? {
          sql: sql.fragment`ts_rank_cd(${sql.identifier([SEARCH_COLUMN])}, ${searchQuery(query.search ?? '')})`,
          pgType: 'float4',
          direction: key.direction,
        }
      : { ...valueExpression(key.target), direction: key.direction, notNull: key.target.path === 'id' },
  );
  if (!query.sort.some((k) => k.target !== 'rank' && k.target.path === 'id')) {
    keys.push({ sql: sql.fragment`${sql.identifier(['id'])}`, pgType: 'text', direction: 'asc', notNull: true });
  }
  return keys;
}

/**
 * Missing values sort as the largest (PostgreSQL's default): last ascending, first descending.
 * That keeps every order readable from a B-tree index, forwards or backwards.
 */
export function orderBySql(keys: readonly SortExpression[]): FragmentSqlToken {
  const terms = keys.map((k) =>
    k.direction === 'desc' ? sql.fragment`${k.sql} DESC NULLS FIRST` : sql.fragment`${k.sql} ASC NULLS LAST`,
  );
  return sql.fragment`ORDER BY ${sql.join(terms, sql.fragment`, `)}`;
}

/**
 * Rows after a cursor position under the ORDER BY keys: for each key in turn, either it is
 * beyond the cursor's value, or equal and the next key decides. The last key is id.
 */
function keysetSql(keys: readonly SortExpression[], after: CursorPosition): FragmentSqlToken {
  const values = keys.length > after.values.length ? [...after.values, after.id] : after.values;
  const build = (index: number): FragmentSqlToken => {
    const key = keys[index]!;
    const value = values[index] ?? null;
    let beyond: FragmentSqlToken;
    if (key.direction === 'asc') {
      // Missing values sort last ascending, so they are beyond any value; but not the id's, and
      // "OR id IS NULL" would make the cursor's page a scan from the first row (export is all cursor pages).
      beyond =
        value === null
          ? sql.fragment`FALSE`
          : key.notNull
            ? sql.fragment`${key.sql} > ${bound(value, key.pgType)}`
            : sql.fragment`(${key.sql} > ${bound(value, key.pgType)} OR ${key.sql} IS NULL)`;
    } else {
      beyond =
        value === null ? sql.fragment`${key.sql} IS NOT NULL` : sql.fragment`${key.sql} < ${bound(value, key.pgType)}`;
    }
    if (index === keys.length - 1) return beyond;
    const equal =
      value === null ? sql.fragment`${key.sql} IS NULL` : sql.fragment`${key.sql} = ${bound(value, key.pgType)}`;
    return sql.fragment`(${beyond} OR (${equal} AND ${build(index + 1)}))`;
  };
  return build(0);
}

export interface CompiledFilter {
  /** The WHERE clause of the matching rows (for the page and for the count). */
  readonly where: FragmentSqlToken;
  /** The WHERE clause of the page: the filter plus the cursor position. */
  readonly pageWhere: FragmentSqlToken;
  /** The cursor position alone (`WHERE …`, or empty). */
  readonly keysetWhere: FragmentSqlToken;
  readonly sortKeys: readonly SortExpression[];
}

export function compileFilter(query: ListQuery, softDelete: boolean): CompiledFilter {
  const conditions: FragmentSqlToken[] = [];
  if (query.where) conditions.push(conditionSql(query.where));
  if (query.search !== undefined)
    conditions.push(sql.fragment`${sql.identifier([SEARCH_COLUMN])} @@ ${searchQuery(query.search)}`);
  if (softDelete && !query.includeDeleted) conditions.push(sql.fragment`${sql.identifier(['deleted_at'])} IS NULL`);
  const sortKeys = sortExpressions(query);
  const whereOf = (parts: readonly FragmentSqlToken[]) =>
    parts.length > 0 ? sql.fragment`WHERE ${sql.join(parts, sql.fragment` AND `)}` : sql.fragment``;
  const keyset = query.after ? [keysetSql(sortKeys, query.after)] : [];
  return {
    where: whereOf(conditions),
    pageWhere: whereOf([...conditions, ...keyset]),
    keysetWhere: whereOf(keyset),
    sortKeys,
  };
}
