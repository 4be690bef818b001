// The shape of a database's public schema as comparable text: tables, columns, constraints,
// indexes (with their validity), triggers and functions; the migrator's own reelmeta_migrations
// table is left out. Column positions are left out too: a column dropped and added again comes
// back with a new attnum but is the same column.
import type { TestDatabase } from './database.ts';

export interface SchemaDump {
  readonly tables: string[];
  readonly columns: string[];
  readonly constraints: string[];
  readonly indexes: string[];
  readonly triggers: string[];
  readonly functions: string[];
}

const lines = async (db: TestDatabase, text: string) =>
  (await db.query<{ line: string }>(text))
    .map((r) => r.line)
    .filter((line) => !line.includes('reelmeta_migrations'))
    .sort();

export async function dumpSchema(db: TestDatabase): Promise<SchemaDump> {
  return {
    tables: await lines(
      db,
      `SELECT c.relname || ' ' || c.relkind::text AS line FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')`,
    ),
    columns: await lines(
      db,
      `SELECT format('%s.%s %s%s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                CASE WHEN d.adbin IS NOT NULL AND a.attgenerated = '' THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END,
                CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END) AS line
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    ),
    constraints: await lines(
      db,
      `SELECT format('%s %s %s%s', conrelid::regclass, conname, pg_get_constraintdef(oid), CASE WHEN convalidated THEN '' ELSE ' (not validated)' END) AS line
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
    ),
    indexes: await lines(
      db,
      `SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END AS line
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace`,
    ),
    triggers: await lines(
      db,
      `SELECT pg_get_triggerdef(t.oid) AS line FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal`,
    ),
    functions: await lines(
      db,
      `SELECT pg_get_functiondef(p.oid) AS line FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace`,
    ),
  };
}
