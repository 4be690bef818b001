// A record as the API answers it, built as JSON text by PostgreSQL in the statement that reads
// it. On the hot reads (one record, a list page, an export) Node then passes that text through
// into the envelope instead of parsing ~50 columns into objects, reshaping them and serializing
// them again: that round trip was most of a simple read's CPU (docs/performance.md).
//
// The text must equal JSON.stringify of what RecordStore's row → record path gives, up to
// insignificant whitespace inside JSONB values: the same keys in the same order (id, the
// entity's fields, schema_version), null for unset fields, timestamps as ISO 8601 UTC with
// milliseconds (pool.ts's isoTimestamp). test/record-json.test.ts holds the two paths equal.
import { sql, type FragmentSqlToken } from 'slonik';
import type { EntityDef, FieldDef } from '../registry/model.ts';

/** A named JSON member and the SQL expression of its value, over the entity's table. */
export interface JsonMember {
  readonly name: string;
  readonly value: FragmentSqlToken;
}

/** `timestamptz` → `2025-01-05T10:00:00.120Z`, as isoTimestamp writes it (milliseconds, truncated). */
export const isoTimestampSql = (value: FragmentSqlToken): FragmentSqlToken =>
  sql.fragment`to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The value of each member of a whole record, in the record's key order. `selectable` gives the
 * expressions RecordStore already selects for links and counts (computed per row).
 */
export function recordMembers(
  entity: EntityDef,
  computed: ReadonlyMap<string, FragmentSqlToken>,
): Map<string, FragmentSqlToken> {
  const column = (name: string) => sql.fragment`${sql.identifier([entity.table, name])}`;
  const members = new Map<string, FragmentSqlToken>([['id', column('id')]]);
  for (const field of entity.fields) members.set(field.name, memberValue(entity, field, computed, column));
  members.set('schema_version', column('schema_version'));
  return members;
}

function memberValue(
  entity: EntityDef,
  field: FieldDef,
  computed: ReadonlyMap<string, FragmentSqlToken>,
  column: (name: string) => FragmentSqlToken,
): FragmentSqlToken {
  const expression = computed.get(field.name);
  if (expression) return field.type === 'datetime' ? isoTimestampSql(expression) : expression;
  if (field.storage === 'document') return sql.fragment`${column('doc')} -> ${sql.literalValue(field.name)}`;
  if (field.storage !== 'column') throw new Error(`${entity.name}.${field.name}: no JSON value for ${field.storage}`);
  return field.type === 'datetime' ? isoTimestampSql(column(field.name)) : column(field.name);
}

/**
 * `(SELECT row_to_json(r) FROM (SELECT <value> AS <name>, …) AS r)::text`: one JSON object with
 * these members in this order. row_to_json keeps the order and takes any number of members
 * (json_build_object stops at 50), and writes SQL NULL as null.
 */
export function jsonObjectSql(members: readonly JsonMember[]): FragmentSqlToken {
  const items = members.map((m) => sql.fragment`${m.value} AS ${sql.identifier([m.name])}`);
  return sql.fragment`(SELECT row_to_json(_member) FROM (SELECT ${sql.join(items, sql.fragment`, `)}) AS _member)::text`;
}
