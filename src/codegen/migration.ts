// Diffs two table layouts into an up and a down migration. Only changes that keep every stored
// value are generated; removing a table or a column, or changing a column's type, is refused
// with a message (those are breaking registry changes that need an explicit upgrade plan).
import { isDeepStrictEqual } from 'node:util';
import { quoteIdent, type ColumnSpec, type NamedSql, type TableSpec } from './table-spec.ts';

export interface MigrationPlan {
  readonly name: string;
  readonly up: readonly string[];
  /** Already in the order to run: the inverse of `up`, last change first. */
  readonly down: readonly string[];
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

interface Step {
  readonly up: string;
  readonly down: string;
}

const t = quoteIdent;

function columnSql(column: ColumnSpec): string {
  const generated = column.generated ? `GENERATED ALWAYS AS (${column.generated}) STORED` : '';
  return [t(column.name), column.type, column.notNull ? 'NOT NULL' : '', column.default ? `DEFAULT ${column.default}` : '', generated]
    .filter(Boolean)
    .join(' ');
}

const addCheck = (table: string, c: NamedSql, existing: boolean): Step => ({
  // On a table that already has rows, add the check without a long lock, then validate it.
  up: existing
    ? `ALTER TABLE ${t(table)} ADD CONSTRAINT ${t(c.name)} ${c.definition} NOT VALID;\nALTER TABLE ${t(table)} VALIDATE CONSTRAINT ${t(c.name)};`
    : `ALTER TABLE ${t(table)} ADD CONSTRAINT ${t(c.name)} ${c.definition};`,
  down: `ALTER TABLE ${t(table)} DROP CONSTRAINT ${t(c.name)};`,
});

const dropConstraint = (table: string, c: NamedSql): Step => ({
  up: `ALTER TABLE ${t(table)} DROP CONSTRAINT ${t(c.name)};`,
  down: `ALTER TABLE ${t(table)} ADD CONSTRAINT ${t(c.name)} ${c.definition};`,
});

const createIndex = (table: string, i: NamedSql): Step => ({
  up: `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${t(i.name)} ON ${t(table)} ${i.definition};`,
  down: `DROP INDEX ${t(i.name)};`,
});

const dropIndex = (table: string, i: NamedSql): Step => ({ up: createIndex(table, i).down, down: createIndex(table, i).up });

/** Named things (checks, keys, indexes) that were added, removed or redefined. */
function diffNamed(before: readonly NamedSql[], after: readonly NamedSql[]) {
  const old = new Map(before.map((x) => [x.name, x]));
  const now = new Map(after.map((x) => [x.name, x]));
  const same = (a: NamedSql | undefined, b: NamedSql) => a?.definition === b.definition && Boolean(a.unique) === Boolean(b.unique);
  const removed = before.filter((x) => !same(now.get(x.name), x));
  const added = after.filter((x) => !same(old.get(x.name), x));
  return { removed, added };
}

export function planMigration(before: readonly TableSpec[], after: readonly TableSpec[]): MigrationPlan | undefined {
  if (isDeepStrictEqual(before, after)) return undefined;
  const refusals: RefusedChange[] = [];
  const oldTables = new Map(before.map((x) => [x.name, x]));
  const newTables = new Map(after.map((x) => [x.name, x]));

  for (const table of before) {
    if (!newTables.has(table.name)) {
      refusals.push({
        table: table.name,
        entity: table.entity,
        message: `entity "${table.entity}" was removed, but its table "${table.name}" holds data; removing an entity is a breaking change`,
      });
    }
  }

  const creates: Step[] = [];
  const columns: Step[] = [];
  const drops: Step[] = [];
  const adds: Step[] = [];
  const indexes: Step[] = [];
  const foreignKeys: Step[] = [];
  const created: string[] = [];
  let linksCreated = false;
  const addedColumns: string[] = [];

  for (const table of after) {
    const old = oldTables.get(table.name);
    if (!old) {
      // Junction tables (entity "episode.outfits") go unnamed: "…_and_links".
      if (table.entity.includes('.')) linksCreated = true;
      else created.push(table.name);
      const primaryKey = (table.primaryKey ?? ['id']).map(t).join(', ');
      const body = [...table.columns.map(columnSql), `CONSTRAINT ${t(`${table.name}_pkey`)} PRIMARY KEY (${primaryKey})`]
        .concat(table.checks.map((c) => `CONSTRAINT ${t(c.name)} ${c.definition}`))
        .map((line) => `  ${line}`)
        .join(',\n');
      creates.push({ up: `CREATE TABLE ${t(table.name)} (\n${body}\n);`, down: `DROP TABLE ${t(table.name)};` });
      indexes.push(...table.indexes.map((i) => createIndex(table.name, i)));
      foreignKeys.push(...table.foreignKeys.map((k) => addCheck(table.name, k, false)));
      continue;
    }

    const oldColumns = new Map(old.columns.map((c) => [c.name, c]));
    const newColumns = new Map(table.columns.map((c) => [c.name, c]));
    // Generated columns hold derived data: a changed or removed one is dropped and rebuilt,
    // together with its indexes (dropping the column drops them).
    const rebuilt = new Set<string>();
    for (const column of old.columns.filter((c) => c.generated)) {
      const now = newColumns.get(column.name);
      if (now && now.generated === column.generated && now.type === column.type) continue;
      rebuilt.add(column.name);
      columns.push(rebuildGenerated(table.name, column, old.indexes, now, table.indexes));
    }
    for (const column of old.columns) {
      if (!newColumns.has(column.name) && !column.generated) {
        refusals.push({
          table: table.name,
          entity: table.entity,
          column: column.name,
          message: `field "${column.name}" was removed from entity "${table.entity}", but column "${table.name}"."${column.name}" holds data; mark the field deprecated instead`,
        });
      }
    }
    for (const column of table.columns) {
      const was = oldColumns.get(column.name);
      const target = `${t(table.name)} ALTER COLUMN ${t(column.name)}`;
      if (rebuilt.has(column.name)) continue;
      if (!was) {
        addedColumns.push(`${table.name}_${column.name}`);
        columns.push({
          up: `ALTER TABLE ${t(table.name)} ADD COLUMN ${columnSql(column)};`,
          down: `ALTER TABLE ${t(table.name)} DROP COLUMN ${t(column.name)};`,
        });
        continue;
      }
      if (was.type !== column.type) {
        refusals.push({
          table: table.name,
          entity: table.entity,
          column: column.name,
          message: `field "${column.name}" of entity "${table.entity}" changed storage type from ${was.type} to ${column.type}; changing a field's type is a breaking change`,
        });
      }
      if (was.default !== column.default) {
        const set = (d: string | undefined) => `ALTER TABLE ${target} ${d ? `SET DEFAULT ${d}` : 'DROP DEFAULT'};`;
        columns.push({ up: set(column.default), down: set(was.default) });
      }
      if (was.notNull !== column.notNull) {
        const set = (notNull: boolean) => `ALTER TABLE ${target} ${notNull ? 'SET' : 'DROP'} NOT NULL;`;
        columns.push({ up: set(column.notNull), down: set(was.notNull) });
      }
    }

    const checks = diffNamed(old.checks, table.checks);
    drops.push(...checks.removed.map((c) => dropConstraint(table.name, c)));
    adds.push(...checks.added.map((c) => addCheck(table.name, c, true)));
    const keys = diffNamed(old.foreignKeys, table.foreignKeys);
    drops.push(...keys.removed.map((k) => dropConstraint(table.name, k)));
    foreignKeys.push(...keys.added.map((k) => addCheck(table.name, k, true)));
    const onRebuilt = (i: NamedSql) => [...rebuilt].some((name) => i.definition.includes(t(name)));
    const idx = diffNamed(old.indexes.filter((i) => !onRebuilt(i)), table.indexes.filter((i) => !onRebuilt(i)));
    drops.push(...idx.removed.map((i) => dropIndex(table.name, i)));
    indexes.push(...idx.added.map((i) => createIndex(table.name, i)));
  }

  if (refusals.length > 0) throw new MigrationRefused(refusals);
  const steps = [...creates, ...columns, ...drops, ...adds, ...indexes, ...foreignKeys];
  return {
    name: migrationName(created, linksCreated, addedColumns),
    up: steps.map((s) => s.up),
    down: steps.map((s) => s.down).reverse(),
  };
}

const indexesOn = (column: string, indexes: readonly NamedSql[]) => indexes.filter((i) => i.definition.includes(t(column)));

function rebuildGenerated(table: string, was: ColumnSpec, oldIndexes: readonly NamedSql[], now: ColumnSpec | undefined, newIndexes: readonly NamedSql[]): Step {
  const drop = `ALTER TABLE ${t(table)} DROP COLUMN ${t(was.name)};`;
  const build = (column: ColumnSpec, indexes: readonly NamedSql[]) =>
    [`ALTER TABLE ${t(table)} ADD COLUMN ${columnSql(column)};`, ...indexesOn(column.name, indexes).map((i) => createIndex(table, i).up)].join('\n');
  return {
    up: now ? `${drop}\n${build(now, newIndexes)}` : drop,
    down: now ? `ALTER TABLE ${t(table)} DROP COLUMN ${t(now.name)};\n${build(was, oldIndexes)}` : build(was, oldIndexes),
  };
}

function migrationName(created: string[], linksCreated: boolean, addedColumns: string[]): string {
  const parts = [
    ...(created.length > 0 ? [`create_${created.join('_')}`] : []),
    ...(linksCreated ? [created.length > 0 ? 'and_links' : 'create_links'] : []),
    ...(addedColumns.length > 0 ? [`add_${addedColumns.join('_')}`] : []),
  ];
  const name = parts.length > 0 ? parts.join('_') : 'update_constraints';
  return name.length <= 60 ? name : name.slice(0, 60).replace(/_+$/, '');
}
