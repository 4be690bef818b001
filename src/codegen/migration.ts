// Diffs two table layouts into an up and a down migration. Only changes that keep every stored
// value are generated; removing a table or a column, or changing a column's type, is refused
// with a message (those are breaking registry changes that need an explicit upgrade plan).
//
// A migration that only creates tables runs as one transaction. One that changes tables that
// already exist (and may be big and busy) is *online*: a list of short steps that the migrator
// (src/db/migrator.ts) runs one by one, each under a lock_timeout and retried when it times out,
// so no step holds a lock that blocks reads or writes for long:
//   expand    per table, one short transaction: nullable ADD COLUMN (or NOT NULL with a constant
//             default, which PostgreSQL stores without rewriting), defaults, constraints added
//             NOT VALID (enforced for new writes at once), and the sync triggers of a promotion
//   backfill  a promoted field's values copied from `doc` in batches, one COMMIT per batch
//   validate  VALIDATE CONSTRAINT, which scans without blocking writes
//   finish    SET NOT NULL through a validated CHECK, so that it does not scan under a lock
//   indexes   CREATE / DROP INDEX CONCURRENTLY, outside any transaction
//   rebuild   generated columns (the full-text vector): dropped and added again, which rewrites
//             the table; the one change here that is not online
// The down steps go the other way: indexes, a promotion's batched check that doc holds every
// value, one short transaction per table that drops what the up step added (and puts back, NOT
// VALID, what it dropped), their validation, and new tables last.
// Every statement of an online migration can be run again (IF NOT EXISTS, DROP … IF EXISTS first),
// so a migration interrupted half-way is finished by running it again.
import { isDeepStrictEqual } from 'node:util';
import { notNullCheckName, primaryKeyName, promotionObjects } from '../registry/names.ts';
import { quoteIdent, quoteLiteral, type ColumnSpec, type NamedSql, type TableSpec } from './table-spec.ts';

/** A unit the migrator runs, and retries as a whole when it waits too long for a lock. */
export interface MigrationStep {
  readonly statements: readonly string[];
  /**
   * Run the statements one at a time with no transaction around them: CREATE/DROP INDEX
   * CONCURRENTLY and batched backfills (which COMMIT per batch) cannot run inside one.
   * Otherwise the statements run together in one transaction.
   */
  readonly outsideTransaction?: boolean;
}

export interface MigrationPlan {
  readonly name: string;
  /**
   * false: the migration only creates tables, and its file runs as one transaction.
   * true: it changes existing tables, and the migrator runs its steps one by one.
   */
  readonly online: boolean;
  readonly up: readonly MigrationStep[];
  /** Already in the order to run: undoes `up`, last change first. */
  readonly down: readonly MigrationStep[];
}

export interface RefusedChange {
  readonly table: string;
  readonly entity: string;
  readonly column?: string;
  readonly message: string;
}

export class MigrationRefused extends Error {
  readonly refusals: readonly RefusedChange[];
  constructor(refusals: readonly RefusedChange[]) {
    super(refusals.map((r) => r.message).join('\n'));
    this.name = 'MigrationRefused';
    this.refusals = refusals;
  }
}

/** Rows per transaction when a promotion copies values between `doc` and the column. */
export const BACKFILL_BATCH_ROWS = 2000;

const t = quoteIdent;

function columnSql(column: ColumnSpec, ifNotExists = false): string {
  const generated = column.generated ? `GENERATED ALWAYS AS (${column.generated}) STORED` : '';
  return [
    ifNotExists ? 'IF NOT EXISTS' : '',
    t(column.name),
    column.type,
    column.notNull ? 'NOT NULL' : '',
    column.default ? `DEFAULT ${column.default}` : '',
    generated,
  ]
    .filter(Boolean)
    .join(' ');
}

const createIndexSql = (table: string, i: NamedSql, how: '' | 'IF NOT EXISTS' | 'CONCURRENTLY') =>
  `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${how === 'CONCURRENTLY' ? 'CONCURRENTLY ' : how === 'IF NOT EXISTS' ? 'IF NOT EXISTS ' : ''}${t(i.name)} ON ${t(table)} ${i.definition};`;

const dropIndexConcurrently = (i: NamedSql) => `DROP INDEX CONCURRENTLY IF EXISTS ${t(i.name)};`;

/**
 * Building an index online: a build that failed (a lock timeout, a crash) leaves an invalid index
 * behind, so the step drops whatever has the name first, then builds it.
 */
const buildIndexConcurrently = (table: string, i: NamedSql) => [
  dropIndexConcurrently(i),
  createIndexSql(table, i, 'CONCURRENTLY'),
];

const dropConstraintSql = (table: string, name: string) =>
  `ALTER TABLE ${t(table)} DROP CONSTRAINT IF EXISTS ${t(name)};`;
/** Enforced for new writes at once; existing rows are checked by a later VALIDATE. */
const addNotValidSql = (table: string, c: NamedSql) => [
  dropConstraintSql(table, c.name),
  `ALTER TABLE ${t(table)} ADD CONSTRAINT ${t(c.name)} ${c.definition} NOT VALID;`,
];
const validateSql = (table: string, name: string) => `ALTER TABLE ${t(table)} VALIDATE CONSTRAINT ${t(name)};`;

type UpPhase = 'create' | 'expand' | 'backfill' | 'validate' | 'finish' | 'indexes' | 'rebuild';
type DownPhase = 'rebuild' | 'indexes' | 'backfill' | 'contract' | 'validate' | 'finish' | 'drop';
const UP_PHASES: readonly UpPhase[] = ['create', 'expand', 'backfill', 'validate', 'finish', 'indexes', 'rebuild'];
const DOWN_PHASES: readonly DownPhase[] = ['rebuild', 'indexes', 'backfill', 'contract', 'validate', 'finish', 'drop'];
/** Phases whose every piece is its own step outside a transaction; the others group by table. */
const OUTSIDE: ReadonlySet<string> = new Set(['backfill', 'indexes']);

/**
 * Statements collected by phase. Each change adds a piece (statements that belong together) to a
 * phase; transaction phases make one step per table, outside phases one step per piece.
 */
class Script<P extends string> {
  private readonly pieces: { phase: P; table: string; statements: string[] }[] = [];

  add(phase: P, table: string, ...statements: string[]): void {
    if (statements.length > 0) this.pieces.push({ phase, table, statements });
  }

  /** `reverse`: last piece first in every phase (a down step undoes the latest change first). */
  steps(order: readonly P[], reverse: boolean): MigrationStep[] {
    const pieces = reverse ? [...this.pieces].reverse() : this.pieces;
    const steps: MigrationStep[] = [];
    for (const phase of order) {
      const here = pieces.filter((p) => p.phase === phase);
      if (OUTSIDE.has(phase)) {
        steps.push(...here.map((p) => ({ statements: p.statements, outsideTransaction: true })));
        continue;
      }
      const byTable = new Map<string, string[]>();
      for (const p of here) byTable.set(p.table, [...(byTable.get(p.table) ?? []), ...p.statements]);
      steps.push(...[...byTable.values()].map((statements) => ({ statements })));
    }
    return steps;
  }
}

/** Named things (checks, keys, indexes) that were added, removed or redefined. */
function diffNamed(before: readonly NamedSql[], after: readonly NamedSql[]) {
  const old = new Map(before.map((x) => [x.name, x]));
  const now = new Map(after.map((x) => [x.name, x]));
  const same = (a: NamedSql | undefined, b: NamedSql) =>
    a?.definition === b.definition && Boolean(a.unique) === Boolean(b.unique);
  const removed = before.filter((x) => !same(now.get(x.name), x));
  const added = after.filter((x) => !same(old.get(x.name), x));
  return { removed, added };
}

export interface PlanOptions {
  /**
   * Checks left NOT VALID (enforced for new writes, not validated): rows stored in an older
   * schema_version may hold values an upgrade step maps on read (an enum value renamed away).
   */
  readonly unvalidated?: ReadonlySet<string>;
}

export function planMigration(
  before: readonly TableSpec[],
  after: readonly TableSpec[],
  options: PlanOptions = {},
): MigrationPlan | undefined {
  if (isDeepStrictEqual(before, after)) return undefined;
  const refusals: RefusedChange[] = [];
  const oldTables = new Map(before.map((x) => [x.name, x]));

  // A table whose entity is gone is kept in `after` (retired-columns.ts): it is never dropped.
  const createdTables = after.filter((table) => !oldTables.has(table.name));
  const changedTables = after.filter(
    (table) => oldTables.has(table.name) && !isDeepStrictEqual(oldTables.get(table.name), table),
  );
  const up = new Script<UpPhase>();
  const down = new Script<DownPhase>();
  const names = {
    created: [] as string[],
    linksCreated: false,
    added: [] as string[],
    promoted: [] as string[],
    normalized: [] as string[],
  };

  for (const table of createdTables) {
    // Junction tables (entity "episode.outfits") go unnamed: "…_and_links".
    if (table.entity.includes('.')) names.linksCreated = true;
    else names.created.push(table.name);
  }

  for (const table of changedTables) {
    const old = oldTables.get(table.name)!;
    const refuse = (column: string | undefined, message: string) =>
      refusals.push({ table: table.name, entity: table.entity, ...(column ? { column } : {}), message });
    const oldColumns = new Map(old.columns.map((c) => [c.name, c]));
    const newColumns = new Map(table.columns.map((c) => [c.name, c]));
    const wasInDoc = new Map((old.documentFields ?? []).map((f) => [f.name, f]));
    const nowInDoc = new Set((table.documentFields ?? []).map((f) => f.name));

    const promoted: ColumnSpec[] = [];
    // Generated columns hold derived data: a changed or removed one is dropped and rebuilt,
    // together with its indexes (dropping the column drops them).
    const rebuilt = new Set<string>();
    for (const column of old.columns.filter((c) => c.generated)) {
      const now = newColumns.get(column.name);
      if (now && now.generated === column.generated && now.type === column.type) continue;
      rebuilt.add(column.name);
      rebuildGenerated(table.name, column, old.indexes, now, table.indexes, up, down);
    }
    for (const column of old.columns) {
      if (newColumns.has(column.name) || column.generated) continue;
      refuse(
        column.name,
        nowInDoc.has(column.name)
          ? `field "${column.name}" of entity "${table.entity}" moved from its column into the document (storage: document); moving a field back into doc is not supported, keep it in its column`
          : `field "${column.name}" was removed from entity "${table.entity}", but column "${table.name}"."${column.name}" holds data; mark the field deprecated instead`,
      );
    }
    for (const column of table.columns) {
      const was = oldColumns.get(column.name);
      if (rebuilt.has(column.name)) continue;
      if (!was && column.generated) {
        rebuilt.add(column.name);
        rebuildGenerated(table.name, undefined, old.indexes, column, table.indexes, up, down);
        continue;
      }
      if (!was) {
        const document = wasInDoc.get(column.name);
        if (document) {
          if (document.type !== column.type) {
            refuse(
              column.name,
              `field "${column.name}" of entity "${table.entity}" changed storage type from ${document.type} to ${column.type} while moving out of the document; change one thing at a time`,
            );
            continue;
          }
          names.promoted.push(`${table.name}_${column.name}`);
          promoted.push(column);
          continue;
        }
        if (column.notNull && column.default === undefined) {
          refuse(
            column.name,
            `field "${column.name}" of entity "${table.entity}" is required without a default, so it cannot be added to the existing table "${table.name}", whose rows have no value; give it a default, or add it optional, fill it, then make it required`,
          );
          continue;
        }
        names.added.push(`${table.name}_${column.name}`);
        // Nullable, or NOT NULL with a constant default that PostgreSQL keeps in the catalog:
        // neither rewrites the table.
        up.add('expand', table.name, `ALTER TABLE ${t(table.name)} ADD COLUMN ${columnSql(column, true)};`);
        down.add('contract', table.name, `ALTER TABLE ${t(table.name)} DROP COLUMN IF EXISTS ${t(column.name)};`);
        continue;
      }
      if (was.type !== column.type) {
        refuse(
          column.name,
          `field "${column.name}" of entity "${table.entity}" changed storage type from ${was.type} to ${column.type}; changing a field's type is a breaking change`,
        );
      }
      const target = `${t(table.name)} ALTER COLUMN ${t(column.name)}`;
      if (was.default !== column.default) {
        const set = (d: string | undefined) => `ALTER TABLE ${target} ${d ? `SET DEFAULT ${d}` : 'DROP DEFAULT'};`;
        up.add('expand', table.name, set(column.default));
        down.add('contract', table.name, set(was.default));
      }
      if (column.normalized && column.normalized !== was.normalized) {
        // Stored values are rewritten in the declared spelling (queries compare in it); the down
        // migration cannot bring the old spellings back and leaves them.
        names.normalized.push(`${table.name}_${column.name}`);
        const value = normalizedSql(t(column.name), column.normalized);
        up.add(
          'backfill',
          table.name,
          batchedUpdate(table.name, [`${t(column.name)} = ${value}`], [`${t(column.name)} IS DISTINCT FROM ${value}`]),
        );
      }
      if (was.notNull !== column.notNull) {
        const dropNotNull = `ALTER TABLE ${target} DROP NOT NULL;`;
        const steps = notNullOnline(table.name, column.name);
        if (column.notNull) {
          up.add('expand', table.name, ...steps.add);
          up.add('validate', table.name, steps.validate);
          up.add('finish', table.name, ...steps.finish);
          down.add('contract', table.name, dropNotNull);
        } else {
          up.add('expand', table.name, dropNotNull);
          down.add('contract', table.name, ...steps.add);
          down.add('validate', table.name, steps.validate);
          down.add('finish', table.name, ...steps.finish);
        }
      }
    }

    if (promoted.length > 0) promote(table.name, promoted, up, down);

    for (const [a, b] of [
      [old.checks, table.checks],
      [old.foreignKeys, table.foreignKeys],
    ] as const) {
      const { removed, added } = diffNamed(a, b);
      for (const c of removed) {
        up.add('expand', table.name, dropConstraintSql(table.name, c.name));
        down.add('contract', table.name, ...addNotValidSql(table.name, c));
        if (!options.unvalidated?.has(c.name)) down.add('validate', table.name, validateSql(table.name, c.name));
      }
      for (const c of added) {
        up.add('expand', table.name, ...addNotValidSql(table.name, c));
        if (!options.unvalidated?.has(c.name)) up.add('validate', table.name, validateSql(table.name, c.name));
        down.add('contract', table.name, dropConstraintSql(table.name, c.name));
      }
    }

    const onRebuilt = (i: NamedSql) => [...rebuilt].some((name) => i.definition.includes(t(name)));
    const { removed, added } = diffNamed(
      old.indexes.filter((i) => !onRebuilt(i)),
      table.indexes.filter((i) => !onRebuilt(i)),
    );
    // New indexes first, old ones dropped after, so that a replaced index is never missing; an
    // index redefined under its own name is dropped and built again.
    const redefined = new Map(removed.filter((i) => added.some((a) => a.name === i.name)).map((i) => [i.name, i]));
    for (const i of added) {
      up.add('indexes', table.name, ...buildIndexConcurrently(table.name, i));
      const was = redefined.get(i.name);
      down.add('indexes', table.name, ...(was ? buildIndexConcurrently(table.name, was) : [dropIndexConcurrently(i)]));
    }
    for (const i of removed.filter((r) => !redefined.has(r.name))) {
      up.add('indexes', table.name, dropIndexConcurrently(i));
      down.add('indexes', table.name, ...buildIndexConcurrently(table.name, i));
    }
  }

  if (refusals.length > 0) throw new MigrationRefused(refusals);
  // Online as soon as an existing table changes; new tables alone need no care.
  const online = up.steps(UP_PHASES, false).length > 0;
  createTables(createdTables, online, up, down);
  const upSteps = up.steps(UP_PHASES, false);
  if (upSteps.length === 0) return undefined;
  const downSteps = down.steps(DOWN_PHASES, true);
  return {
    name: migrationName(names),
    online,
    up: online ? upSteps : [{ statements: upSteps.flatMap((s) => s.statements) }],
    down: online ? downSteps : [{ statements: downSteps.flatMap((s) => s.statements) }],
  };
}

/**
 * New tables, their indexes and foreign keys (after all of them exist, since they may refer to
 * each other). Empty tables need no online care; in an online migration the statements still
 * tolerate a second run.
 */
function createTables(
  tables: readonly TableSpec[],
  online: boolean,
  up: Script<UpPhase>,
  down: Script<DownPhase>,
): void {
  for (const table of tables) {
    const primaryKey = (table.primaryKey ?? ['id']).map(t).join(', ');
    const body = [
      ...table.columns.map((c) => columnSql(c)),
      `CONSTRAINT ${t(primaryKeyName(table.name))} PRIMARY KEY (${primaryKey})`,
    ]
      .concat(table.checks.map((c) => `CONSTRAINT ${t(c.name)} ${c.definition}`))
      .map((line) => `  ${line}`)
      .join(',\n');
    up.add('create', '', `CREATE TABLE ${online ? 'IF NOT EXISTS ' : ''}${t(table.name)} (\n${body}\n);`);
    down.add('drop', '', `DROP TABLE ${online ? 'IF EXISTS ' : ''}${t(table.name)};`);
  }
  for (const table of tables) {
    for (const i of table.indexes) {
      up.add('create', '', createIndexSql(table.name, i, online ? 'IF NOT EXISTS' : ''));
      down.add('drop', '', `DROP INDEX ${online ? 'IF EXISTS ' : ''}${t(i.name)};`);
    }
  }
  for (const table of tables) {
    for (const k of table.foreignKeys) {
      const add = `ALTER TABLE ${t(table.name)} ADD CONSTRAINT ${t(k.name)} ${k.definition};`;
      up.add('create', '', ...(online ? [dropConstraintSql(table.name, k.name), add] : [add]));
      down.add(
        'drop',
        '',
        online
          ? `ALTER TABLE IF EXISTS ${t(table.name)} DROP CONSTRAINT IF EXISTS ${t(k.name)};`
          : `ALTER TABLE ${t(table.name)} DROP CONSTRAINT ${t(k.name)};`,
      );
    }
  }
}

/**
 * SET NOT NULL on its own scans the table under an ACCESS EXCLUSIVE lock. With a validated
 * `CHECK (column IS NOT NULL)` in place PostgreSQL (12+) skips that scan, and the check is
 * validated without blocking writes: added NOT VALID first, validated, then SET NOT NULL.
 */
function notNullOnline(table: string, column: string): { add: string[]; validate: string; finish: string[] } {
  const check = { name: notNullCheckName(table, column), definition: `CHECK (${t(column)} IS NOT NULL)` };
  return {
    add: addNotValidSql(table, check),
    validate: validateSql(table, check.name),
    finish: [`ALTER TABLE ${t(table)} ALTER COLUMN ${t(column)} SET NOT NULL;`, dropConstraintSql(table, check.name)],
  };
}

function rebuildGenerated(
  table: string,
  was: ColumnSpec | undefined,
  oldIndexes: readonly NamedSql[],
  now: ColumnSpec | undefined,
  newIndexes: readonly NamedSql[],
  up: Script<UpPhase>,
  down: Script<DownPhase>,
): void {
  const indexesOn = (column: string, indexes: readonly NamedSql[]) =>
    indexes.filter((i) => i.definition.includes(t(column)));
  const drop = (column: ColumnSpec) => `ALTER TABLE ${t(table)} DROP COLUMN IF EXISTS ${t(column.name)};`;
  const build = (column: ColumnSpec, indexes: readonly NamedSql[]) => [
    `ALTER TABLE ${t(table)} ADD COLUMN ${columnSql(column, true)};`,
    ...indexesOn(column.name, indexes).map((i) => createIndexSql(table, i, 'IF NOT EXISTS')),
  ];
  up.add('rebuild', table, ...(was ? [drop(was)] : []), ...(now ? build(now, newIndexes) : []));
  down.add('rebuild', table, ...(now ? [drop(now)] : []), ...(was ? build(was, oldIndexes) : []));
}

// --- Promotion: a `storage: document` field moves from the `doc` JSONB column to its own column.

/**
 * The SQL that reads a field's value out of `doc` as the column's type, NULL when it is missing
 * or not of that type (schema-on-write makes that rare, but one odd old value must not stop a
 * migration). Only date and date-time values need an exception handler.
 */
function fromDocFunction(name: string, type: string): string {
  const v = 'value';
  const sqlBody: Record<string, string> = {
    text: `CASE WHEN jsonb_typeof(${v}) = 'string' THEN ${v} #>> '{}' END`,
    bigint: `CASE WHEN jsonb_typeof(${v}) = 'number' AND ${v}::numeric = trunc(${v}::numeric) AND ${v}::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN ${v}::numeric::bigint END`,
    'double precision': `CASE WHEN jsonb_typeof(${v}) = 'number' AND (${v}::numeric = 0 OR abs(${v}::numeric) BETWEEN 1e-300 AND 1e300) THEN ${v}::numeric::double precision END`,
    boolean: `CASE WHEN jsonb_typeof(${v}) = 'boolean' THEN ${v}::boolean END`,
    jsonb: `CASE WHEN jsonb_typeof(${v}) <> 'null' THEN ${v} END`,
  };
  const head = `CREATE OR REPLACE FUNCTION ${t(name)}(value jsonb) RETURNS ${type}`;
  if (sqlBody[type]) return `${head}\n  LANGUAGE sql IMMUTABLE PARALLEL SAFE\n  AS $fn$ SELECT ${sqlBody[type]} $fn$;`;
  // date, timestamptz(3): a string the type's input function may still refuse (2025-02-30).
  return [
    `${head}`,
    '  LANGUAGE plpgsql STABLE PARALLEL SAFE',
    '  AS $fn$',
    'BEGIN',
    `  IF jsonb_typeof(${v}) = 'string' THEN RETURN (${v} #>> '{}')::${type}; END IF;`,
    '  RETURN NULL;',
    'EXCEPTION WHEN data_exception THEN',
    '  RETURN NULL;',
    'END',
    '$fn$;',
  ].join('\n');
}

/** The column's value as the JSON the API writes: date-times as ISO 8601 in UTC, like toISOString. */
function toJsonSql(expression: string, type: string): string {
  if (type.startsWith('timestamptz'))
    return `to_jsonb(to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
  return `to_jsonb(${expression})`;
}

/** `doc` with the field set to the column's value, or without it when the column is null. */
function docWithColumn(doc: string, column: string, field: string, type: string): string {
  return `CASE WHEN ${column} IS NULL THEN ${doc} - ${quoteLiteral(field)} ELSE jsonb_set(${doc}, ${quoteLiteral(`{${field}}`)}, ${toJsonSql(column, type)}) END`;
}

/**
 * registry/normalize.ts's normalizeText in SQL: white space runs made one space and trimmed, then
 * the case. For a list (`items:<mode>`), each string item so, each kept once (the first), other
 * items left as they are.
 */
function normalizedSql(column: string, normalized: string): string {
  const text = (value: string, mode: string) => {
    const spaced = `btrim(regexp_replace(${value}, '\\s+', ' ', 'g'))`;
    return mode === 'lower' ? `lower(${spaced})` : mode === 'upper' ? `upper(${spaced})` : spaced;
  };
  if (!normalized.startsWith('items:')) return text(column, normalized);
  const item = `CASE WHEN jsonb_typeof(e.v) = 'string' THEN to_jsonb(${text("e.v #>> '{}'", normalized.slice(6))}) ELSE e.v END`;
  return [
    `CASE WHEN jsonb_typeof(${column}) = 'array' THEN (`,
    `SELECT coalesce(jsonb_agg(n.item ORDER BY n.pos), '[]'::jsonb) FROM (`,
    `SELECT item, pos, row_number() OVER (PARTITION BY item ORDER BY pos) AS nth`,
    `FROM (SELECT ${item} AS item, e.pos FROM jsonb_array_elements(${column}) WITH ORDINALITY AS e(v, pos)) AS i`,
    `) AS n WHERE n.nth = 1 OR jsonb_typeof(n.item) <> 'string'`,
    `) ELSE ${column} END`,
  ].join(' ');
}

/**
 * One loop over the table in id order, `BACKFILL_BATCH_ROWS` rows per transaction; rows already
 * right are skipped, so a run that stopped half-way (or a retry) carries on where it was.
 */
function batchedUpdate(table: string, set: readonly string[], unlessAlready: readonly string[]): string {
  return [
    'DO $backfill$',
    'DECLARE',
    "  done text := '';",
    '  upto text;',
    'BEGIN',
    '  LOOP',
    `    SELECT max(id) INTO upto FROM (SELECT id FROM ${t(table)} WHERE id > done ORDER BY id LIMIT ${BACKFILL_BATCH_ROWS}) AS batch;`,
    '    EXIT WHEN upto IS NULL;',
    `    UPDATE ${t(table)} SET ${set.join(',\n      ')}`,
    `      WHERE id > done AND id <= upto AND (${unlessAlready.join('\n        OR ')});`,
    '    done := upto;',
    '    COMMIT;',
    '  END LOOP;',
    'END',
    '$backfill$;',
  ].join('\n');
}

/**
 * The fields' columns are added (nullable), kept equal to `doc` by two triggers, and filled from
 * `doc` in batches; their constraints are validated and their indexes built concurrently in the
 * later phases. Reads switch to the columns when the instances with the new registry start, which
 * is after the migration, so after the backfill. The values stay in `doc` too, and the triggers
 * keep both in step, because while the migration runs, and during a rolling deploy after it,
 * instances that still read and write `doc` serve next to instances that use the columns:
 *   1. (`UPDATE OF columns`, and INSERT) a write from code that knows the columns is mirrored into
 *      `doc`: its UPDATE names every column and writes `doc` without the keys; its INSERT gives the
 *      values. An INSERT whose `doc` has the key comes from the old code, and `doc` wins.
 *   2. (every INSERT and UPDATE, after 1) each column is set from `doc`, which the old code writes
 *      whole, so its writes (a cleared value too) reach the columns.
 * So neither kind of instance loses the other's writes (an old instance PATCHing another field
 * writes back the value a new one set, since it read it from `doc`), and the down step only has
 * to check `doc` (in batches) before it drops the triggers and the columns in one short
 * transaction. The triggers stay after the up step: they cost a little per write, and the value a
 * little space twice; they go with the down step (demoting a column back into doc is refused).
 */
function promote(table: string, columns: readonly ColumnSpec[], up: Script<UpPhase>, down: Script<DownPhase>): void {
  const o = promotionObjects(
    table,
    columns.map((c) => c.name),
  );
  const doc = (row: string) => (row ? `${row}.${t('doc')}` : t('doc'));
  const col = (row: string, c: ColumnSpec) => (row ? `${row}.${t(c.name)}` : t(c.name));
  const fromDoc = (row: string, c: ColumnSpec) => `${t(o.fromDoc(c.name))}(${doc(row)} -> ${quoteLiteral(c.name)})`;
  const syncFunction = [
    `CREATE OR REPLACE FUNCTION ${t(o.sync)}() RETURNS trigger`,
    '  LANGUAGE plpgsql',
    '  AS $fn$',
    'BEGIN',
    "  IF TG_ARGV[0] = 'column' THEN",
    // An INSERT whose doc has the key comes from code that writes doc (its column may only hold
    // the column default): doc wins. Otherwise the column, which the statement wrote, wins.
    ...columns.flatMap((c) => [
      `    IF (TG_OP = 'UPDATE' OR NOT ${doc('NEW')} ? ${quoteLiteral(c.name)}) AND ${fromDoc('NEW', c)} IS DISTINCT FROM ${col('NEW', c)} THEN`,
      `      NEW.${t('doc')} := ${docWithColumn(doc('NEW'), col('NEW', c), c.name, c.type)};`,
      '    END IF;',
    ]),
    '  ELSE',
    ...columns.map((c) => `    ${col('NEW', c)} := ${fromDoc('NEW', c)};`),
    '  END IF;',
    '  RETURN NEW;',
    'END',
    '$fn$;',
  ].join('\n');
  const names = columns.map((c) => t(c.name)).join(', ');
  up.add(
    'expand',
    table,
    ...columns.flatMap((c) => [
      `ALTER TABLE ${t(table)} ADD COLUMN IF NOT EXISTS ${t(c.name)} ${c.type};`,
      ...(c.default ? [`ALTER TABLE ${t(table)} ALTER COLUMN ${t(c.name)} SET DEFAULT ${c.default};`] : []),
      fromDocFunction(o.fromDoc(c.name), c.type),
    ]),
    syncFunction,
    `DROP TRIGGER IF EXISTS ${t(o.columnTrigger)} ON ${t(table)};`,
    `CREATE TRIGGER ${t(o.columnTrigger)} BEFORE INSERT OR UPDATE OF ${names} ON ${t(table)} FOR EACH ROW EXECUTE FUNCTION ${t(o.sync)}('column');`,
    `DROP TRIGGER IF EXISTS ${t(o.docTrigger)} ON ${t(table)};`,
    `CREATE TRIGGER ${t(o.docTrigger)} BEFORE INSERT OR UPDATE ON ${t(table)} FOR EACH ROW EXECUTE FUNCTION ${t(o.sync)}('doc');`,
  );
  up.add(
    'backfill',
    table,
    batchedUpdate(
      table,
      columns.map((c) => `${t(c.name)} = ${fromDoc('', c)}`),
      columns.map((c) => `${t(c.name)} IS DISTINCT FROM ${fromDoc('', c)}`),
    ),
  );
  for (const c of columns.filter((x) => x.notNull)) {
    // After the backfill, so the column is filled by the time existing rows are checked.
    const steps = notNullOnline(table, c.name);
    up.add('backfill', table, ...steps.add);
    up.add('validate', table, steps.validate);
    up.add('finish', table, ...steps.finish);
  }

  // Down: doc already holds every value (the triggers mirror each write), but check, in batches.
  // Each key keeps doc's value where it agrees with the column, else takes the column's.
  const keys = columns.map(
    (c) =>
      `(${quoteLiteral(c.name)}, CASE WHEN ${fromDoc('', c)} IS NOT DISTINCT FROM ${t(c.name)} THEN ${t('doc')} -> ${quoteLiteral(c.name)} ELSE ${toJsonSql(t(c.name), c.type)} END)`,
  );
  const copied = `(${t('doc')} - ARRAY[${columns.map((c) => quoteLiteral(c.name)).join(', ')}]::text[]) || coalesce((SELECT jsonb_object_agg(k, v) FROM (VALUES ${keys.join(', ')}) AS kv(k, v) WHERE v IS NOT NULL), '{}'::jsonb)`;
  down.add(
    'backfill',
    table,
    batchedUpdate(
      table,
      [`${t('doc')} = ${copied}`],
      columns.map((c) => `${fromDoc('', c)} IS DISTINCT FROM ${t(c.name)}`),
    ),
  );
  down.add(
    'contract',
    table,
    `DROP TRIGGER IF EXISTS ${t(o.docTrigger)} ON ${t(table)};`,
    `DROP TRIGGER IF EXISTS ${t(o.columnTrigger)} ON ${t(table)};`,
    `DROP FUNCTION IF EXISTS ${t(o.sync)}();`,
    ...columns.flatMap((c) => [
      `ALTER TABLE ${t(table)} DROP COLUMN IF EXISTS ${t(c.name)};`,
      `DROP FUNCTION IF EXISTS ${t(o.fromDoc(c.name))}(jsonb);`,
    ]),
  );
}

function migrationName(names: {
  created: string[];
  linksCreated: boolean;
  added: string[];
  promoted: string[];
  normalized: string[];
}): string {
  const parts = [
    ...(names.created.length > 0 ? [`create_${names.created.join('_')}`] : []),
    ...(names.linksCreated ? [names.created.length > 0 ? 'and_links' : 'create_links'] : []),
    ...(names.added.length > 0 ? [`add_${names.added.join('_')}`] : []),
    ...(names.promoted.length > 0 ? [`promote_${names.promoted.join('_')}`] : []),
    ...(names.normalized.length > 0 ? [`normalize_${names.normalized.join('_')}`] : []),
  ];
  const name = parts.length > 0 ? parts.join('_') : 'update_constraints';
  return name.length <= 60 ? name : name.slice(0, 60).replace(/_+$/, '');
}
