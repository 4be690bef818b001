// The PostgreSQL names of what the registry declares: junction tables, indexes, constraints, the
// generated full-text column and a promotion's functions and triggers. Codegen creates these
// objects and the API reads them back from database errors (a violated key names its fields), so
// each name is computed here, once.
import { createHash } from 'node:crypto';
import type { EntityDef } from './model.ts';

const MAX_IDENTIFIER = 63;

/** PostgreSQL truncates names past 63 bytes; keep long ones unique with a short hash. */
export function objectName(...parts: string[]): string {
  const name = parts.join('_');
  if (name.length <= MAX_IDENTIFIER) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${hash}`;
}

/** The generated tsvector column an entity with `searchable` fields has. */
export const SEARCH_COLUMN = 'search_vector';

/** The table holding a `refs` field's links: `episodes_backgrounds`. */
export const junctionTableName = (plural: string, field: string): string => objectName(plural, field);

/** A B-tree or GIN index on columns or a JSON path: `episodes_wardrobe_shoes_brand_idx`. */
export const indexName = (table: string, ...columns: string[]): string => objectName(table, ...columns, 'idx');

/** A unique index over columns (none: the junction table's one key). */
export const keyName = (table: string, ...columns: string[]): string => objectName(table, ...columns, 'key');

/** The unique index of one of an entity's `unique` sets. */
export const uniqueIndexName = (entity: EntityDef, set: readonly string[]): string => keyName(entity.table, ...set);

export const foreignKeyName = (table: string, column: string): string => objectName(table, column, 'fkey');

/** A column's CHECK constraint (enum values, bounds, lengths, JSON kind). */
export const checkName = (table: string, column: string): string => objectName(table, column, 'check');

/** The NOT VALID `CHECK (column IS NOT NULL)` of a required column that older rows may still lack. */
export const requiredCheckName = (table: string, column: string): string => objectName(table, column, 'required');

/** The temporary `CHECK (column IS NOT NULL)` that lets SET NOT NULL skip its table scan. */
export const notNullCheckName = (table: string, column: string): string => objectName(table, column, 'not_null');

/** PostgreSQL's own default name for a primary key, kept as it has always been written. */
export const primaryKeyName = (table: string): string => `${table}_pkey`;

/** The database objects of the promotion of `fields` of `table` from `doc` to columns, by name. */
export function promotionObjects(table: string, fields: readonly string[]) {
  return {
    fromDoc: (field: string) => objectName('promote', table, field, 'from_doc'),
    sync: objectName('promote', table, ...fields, 'sync'),
    // Triggers on a table fire in name order: the mirror of the columns into doc runs first.
    columnTrigger: objectName('promote_1', table, ...fields),
    docTrigger: objectName('promote_2', table, ...fields),
  };
}
