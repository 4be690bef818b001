// Model → the physical layout of each entity's table. The layout is what migrations diff:
// the last one is kept in migrations/snapshot.json.
import { walkFields } from '../registry/compile.ts';
import {
  findEntity,
  hasSoftDelete,
  hasTimestamps,
  type EntityDef,
  type FieldDef,
  type Model,
} from '../registry/model.ts';
import { fieldType } from '../registry/types.ts';
import { AUDIT_ENTITY } from '../audit/audit-entity.ts';
import { IDEMPOTENCY_ENTITY } from '../idempotency/idempotency-entity.ts';
import { UPLOAD_ENTITY } from '../media/upload-entity.ts';
import { searchVectorExpression } from '../query/full-text.ts';
import { checkName, foreignKeyName, indexName, keyName, SEARCH_COLUMN, uniqueIndexName } from '../registry/names.ts';

export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  /** SQL expression, already quoted. */
  readonly default?: string;
  /** For a generated (stored) column: its expression. */
  readonly generated?: string;
  /**
   * `normalize:` of a string column (`lower`), or of a list's items (`items:lower`): the spelling
   * its values are stored in, so a migration rewrites the stored ones when it is declared.
   */
  readonly normalized?: string;
}

export interface NamedSql {
  readonly name: string;
  /** The definition after the name, e.g. `CHECK (...)` or `USING btree ("status")`. */
  readonly definition: string;
  /** Indexes only: a UNIQUE index. */
  readonly unique?: boolean;
}

export interface TableSpec {
  readonly name: string;
  readonly entity: string;
  readonly columns: readonly ColumnSpec[];
  readonly checks: readonly NamedSql[];
  readonly foreignKeys: readonly NamedSql[];
  readonly indexes: readonly NamedSql[];
  /** Absent means `id` (entity tables); junction tables name theirs. */
  readonly primaryKey?: readonly string[];
  /**
   * The `storage: document` fields, kept in the `doc` JSONB column under their name, with the
   * column type each would have. A migration needs them to see a field move from `doc` to its own
   * column (a promotion). Absent when there are none (snapshots from before they were recorded
   * have none either).
   */
  readonly documentFields?: readonly DocumentFieldSpec[];
}

export interface DocumentFieldSpec {
  readonly name: string;
  /** The SQL type the field's column would have, e.g. `bigint`. */
  readonly type: string;
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;

export function sqlType(field: FieldDef): string {
  return fieldType(field.type).columnType;
}

export function sqlLiteral(value: unknown, field: FieldDef): string {
  if (field.type === 'object' || field.type === 'array') return `${quoteLiteral(JSON.stringify(value))}::jsonb`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return quoteLiteral(String(value));
}

export function tableSpecs(model: Model): TableSpec[] {
  return [
    ...model.entities.flatMap((entity) => [
      tableSpec(entity, model),
      ...entity.fields.filter((f) => f.type === 'refs').map((field) => junctionSpec(entity, field, model)),
    ]),
    auditSpec(model),
    tableSpec(IDEMPOTENCY_ENTITY, model),
    tableSpec(UPLOAD_ENTITY, model),
  ];
}

/** The platform's audit table (src/audit): an entity table plus the indexes its reads use. */
function auditSpec(model: Model): TableSpec {
  const spec = tableSpec(AUDIT_ENTITY, model);
  const index = (...columns: string[]): NamedSql => ({
    name: indexName(spec.name, ...columns),
    definition: `USING btree (${columns.map(quoteIdent).join(', ')})`,
  });
  return { ...spec, indexes: [...spec.indexes, index('entity', 'record_id', 'at'), index('actor', 'at')] };
}

/**
 * The links of a `refs` field: one row per link, in the order written (`position`). Deleting the
 * owner deletes its links; deleting a target is refused while linked, or removes the links
 * (on_delete: set_null). A target appears once per role.
 */
function junctionSpec(entity: EntityDef, field: FieldDef, model: Model): TableSpec {
  const table = field.junction!;
  const target = findEntity(model, field.to!)!;
  const role = field.role;
  const roleCheck =
    role &&
    [
      `char_length("role") <= ${role.maxLength}`,
      ...(role.values ? [`"role" IN (${role.values.map(quoteLiteral).join(', ')})`] : []),
    ].join(' AND ');
  return {
    name: table,
    entity: `${entity.name}.${field.name}`,
    columns: [
      { name: 'owner_id', type: 'text', notNull: true },
      { name: 'target_id', type: 'text', notNull: true },
      ...(role ? [{ name: 'role', type: 'text', notNull: role.required }] : []),
      { name: 'position', type: 'integer', notNull: true },
    ],
    checks: roleCheck ? [{ name: checkName(table, 'role'), definition: `CHECK (${roleCheck})` }] : [],
    foreignKeys: [
      {
        name: foreignKeyName(table, 'owner_id'),
        definition: `FOREIGN KEY ("owner_id") REFERENCES ${quoteIdent(entity.table)} ("id") ON DELETE CASCADE`,
      },
      {
        name: foreignKeyName(table, 'target_id'),
        definition: `FOREIGN KEY ("target_id") REFERENCES ${quoteIdent(target.table)} ("id")${field.onDelete === 'set_null' ? ' ON DELETE CASCADE' : ''}`,
      },
    ],
    indexes: [
      { name: indexName(table, 'target_id'), definition: 'USING btree ("target_id")' },
      {
        name: keyName(table),
        definition: `USING btree ("owner_id", "target_id"${role ? ', "role") NULLS NOT DISTINCT' : ')'}`,
        unique: true,
      },
    ],
    primaryKey: ['owner_id', 'position'],
  };
}

function tableSpec(entity: EntityDef, model: Model): TableSpec {
  const table = entity.table;
  // refs live in junction tables and counts are computed: neither has a column.
  const stored = entity.fields.filter((f) => f.storage === 'column');
  const serverStamped = hasTimestamps(entity) ? ['created_at', 'updated_at'] : [];

  const columns: ColumnSpec[] = [
    { name: 'id', type: 'text', notNull: true },
    { name: 'schema_version', type: 'integer', notNull: true },
    ...stored.map((field): ColumnSpec => {
      if (serverStamped.includes(field.name))
        return { name: field.name, type: sqlType(field), notNull: true, default: 'now()' };
      const normalized = field.normalize ?? (field.items?.normalize && `items:${field.items.normalize}`);
      return {
        name: field.name,
        type: sqlType(field),
        notNull: field.required,
        ...(field.default === undefined ? {} : { default: sqlLiteral(field.default, field) }),
        ...(normalized ? { normalized } : {}),
      };
    }),
    // Fields declared with `storage: document` live here, keyed by name.
    { name: 'doc', type: 'jsonb', notNull: true, default: "'{}'::jsonb" },
  ];
  const searchVector = searchVectorExpression(entity);
  if (searchVector) columns.push({ name: SEARCH_COLUMN, type: 'tsvector', notNull: false, generated: searchVector });

  const checks: NamedSql[] = [];
  for (const field of stored) {
    const condition = checkCondition(field);
    if (condition) checks.push({ name: checkName(table, field.name), definition: `CHECK (${condition})` });
  }

  const foreignKeys: NamedSql[] = stored
    .filter((f) => f.type === 'ref')
    .map((field) => ({
      name: foreignKeyName(table, field.name),
      definition: `FOREIGN KEY (${quoteIdent(field.name)}) REFERENCES ${quoteIdent(findEntity(model, field.to!)!.table)} (${quoteIdent('id')})${ON_DELETE_SQL[field.onDelete ?? 'restrict']}`,
    }));

  const indexes: NamedSql[] = [];
  for (const field of walkFields(entity.fields)) {
    if (!(field.indexed || (field.type === 'ref' && field.path.length === 1))) continue;
    indexes.push({ name: indexName(table, ...field.path), definition: indexDefinition(field, entity) });
  }
  if (searchVector)
    indexes.push({
      name: indexName(table, SEARCH_COLUMN),
      definition: `USING gin (${quoteIdent(SEARCH_COLUMN)})`,
    });
  // Unique sets hold among live records, so a soft-deleted record does not block a new one.
  const liveOnly = hasSoftDelete(entity) ? ` WHERE ${quoteIdent('deleted_at')} IS NULL` : '';
  for (const set of entity.unique) {
    indexes.push({
      name: uniqueIndexName(entity, set),
      definition: `USING btree (${set.map(quoteIdent).join(', ')})${liveOnly}`,
      unique: true,
    });
  }

  const documentFields = entity.fields
    .filter((f) => f.storage === 'document')
    .map((f) => ({ name: f.name, type: sqlType(f) }));
  return {
    name: table,
    entity: entity.name,
    columns,
    checks,
    foreignKeys,
    indexes,
    ...(documentFields.length > 0 ? { documentFields } : {}),
  };
}

/** Hard deletes follow the declared on_delete in the database itself. */
const ON_DELETE_SQL = { restrict: '', cascade: ' ON DELETE CASCADE', set_null: ' ON DELETE SET NULL' } as const;

function checkCondition(field: FieldDef): string | undefined {
  const col = quoteIdent(field.name);
  const parts: string[] = [];
  if (field.type === 'enum' && field.values) {
    const listed = `${col} IN (${field.values.map(quoteLiteral).join(', ')})`;
    parts.push(field.otherPattern ? `(${listed} OR ${col} ~ ${quoteLiteral(field.otherPattern)})` : listed);
  }
  if (field.minimum !== undefined) parts.push(`${col} >= ${field.minimum}`);
  if (field.maximum !== undefined) parts.push(`${col} <= ${field.maximum}`);
  if (field.maxLength !== undefined) parts.push(`char_length(${col}) <= ${field.maxLength}`);
  if (field.type === 'object') parts.push(`jsonb_typeof(${col}) = 'object'`);
  if (field.type === 'array') parts.push(`jsonb_typeof(${col}) = 'array'`);
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

/**
 * The index for an `indexed` field, on exactly the expression the query compiler generates
 * (src/query/compile-sql.ts), so that the planner can use it: a B-tree on a column or on the
 * (typed) value at a JSON path, GIN jsonb_path_ops for lists, which the compiler queries with @>.
 */
function indexDefinition(field: FieldDef, entity: EntityDef): string {
  const [top, ...rest] = field.path;
  const document = entity.fields.find((f) => f.name === top)?.storage === 'document';
  const column = quoteIdent(document ? 'doc' : top!);
  const jsonPath = document ? field.path : rest;
  if (jsonPath.length === 0) {
    return field.type === 'array' ? `USING gin (${column} jsonb_path_ops)` : `USING btree (${column})`;
  }
  const pathLiteral = quoteLiteral(`{${jsonPath.join(',')}}`);
  if (field.type === 'array') return `USING gin ((${column} #> ${pathLiteral}) jsonb_path_ops)`;
  const cast = fieldType(field.type).jsonbCast;
  const text = `(${column} #>> ${pathLiteral})`;
  return `USING btree ((${cast ? `${text}::${cast}` : text}))`;
}
