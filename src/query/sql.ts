// Step 2 of the query compiler: the AST → slonik SQL fragments. Identifiers come from the
// registry model (via FieldRef), values are bound parameters, and type names come from a fixed map.
import { sql, type FragmentSqlToken } from 'slonik';
import type { FieldType } from '../registry/model.ts';
import type { FieldRef, FilterNode, ListQuery, SortNode } from './list-query.ts';

/** PostgreSQL type names (as in pg_type) for comparing a field's values. */
const PG_TYPES: Record<FieldType, string> = {
  string: 'text',
  text: 'text',
  enum: 'text',
  s3_uri: 'text',
  url: 'text',
  ref: 'text',
  integer: 'int8',
  number: 'float8',
  boolean: 'bool',
  date: 'date',
  datetime: 'timestamptz',
  object: 'jsonb',
  array: 'jsonb',
};

export function fieldExpression(field: FieldRef): FragmentSqlToken {
  if (field.storage === 'document') {
    return sql.fragment`(${sql.identifier(['doc'])} ->> ${field.name})::${sql.identifier([PG_TYPES[field.type]])}`;
  }
  return sql.fragment`${sql.identifier([field.name])}`;
}

function filterCondition(filter: FilterNode): FragmentSqlToken {
  const column = fieldExpression(filter.field);
  const type = sql.identifier([PG_TYPES[filter.field.type]]);
  if (filter.op === 'in') {
    const values = filter.value as readonly (string | number | boolean)[];
    return sql.fragment`${column} = ANY(${sql.array([...values], PG_TYPES[filter.field.type])})`;
  }
  const value = sql.fragment`${filter.value as string | number | boolean}::${type}`;
  switch (filter.op) {
    case 'eq':
      return sql.fragment`${column} = ${value}`;
    case 'ne':
      return sql.fragment`${column} IS DISTINCT FROM ${value}`;
    case 'gt':
      return sql.fragment`${column} > ${value}`;
    case 'gte':
      return sql.fragment`${column} >= ${value}`;
    case 'lt':
      return sql.fragment`${column} < ${value}`;
    case 'lte':
      return sql.fragment`${column} <= ${value}`;
  }
}

export function whereClause(query: Pick<ListQuery, 'filters' | 'includeDeleted'>, softDelete: boolean): FragmentSqlToken {
  const conditions = query.filters.map(filterCondition);
  if (softDelete && !query.includeDeleted) conditions.push(sql.fragment`${sql.identifier(['deleted_at'])} IS NULL`);
  return conditions.length > 0 ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
}

export function orderByClause(sort: readonly SortNode[]): FragmentSqlToken {
  const terms = sort.map((s) =>
    s.direction === 'desc'
      ? sql.fragment`${fieldExpression(s.field)} DESC NULLS LAST`
      : sql.fragment`${fieldExpression(s.field)} ASC NULLS LAST`,
  );
  // Ties break on id so pages never overlap or skip.
  if (!sort.some((s) => s.field.name === 'id')) terms.push(sql.fragment`${sql.identifier(['id'])} ASC`);
  return sql.fragment`ORDER BY ${sql.join(terms, sql.fragment`, `)}`;
}
