// Rows stored in older schema_versions are upgraded when read (src/db/legacy-rows.ts), not by the
// migration, so the tables have to keep accepting what they hold:
// - a column whose field a breaking change renamed, moved or removed is kept (no longer NOT NULL,
//   without a default) instead of being refused as a removal; so is a junction table's column
//   (a refs role removed);
// - a table whose entity (or refs field) is gone is kept with its rows, never dropped;
// - a required column that a `set_default` step fills on read is NOT NULL for new writes only
//   (a NOT VALID check), since older rows get their value when read;
// - the check of an enum whose values were mapped is not validated against older rows.
import { stepSources } from '../registry/compile-evolution.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import { checkName, requiredCheckName } from '../registry/names.ts';
import { quoteIdent, type ColumnSpec, type TableSpec } from './table-spec.ts';

export function retainRetiredColumns(
  before: readonly TableSpec[],
  after: readonly TableSpec[],
  model: Model,
): TableSpec[] {
  const kept = after.map((table) => {
    const old = before.find((t) => t.name === table.name);
    if (!old) return table;
    const entity = model.entities.find((e) => e.name === table.entity);
    const isLinks = table.entity.includes('.');
    if (!entity && !isLinks) return table;
    const retired = new Set(
      entity
        ? [...entity.reserved, ...entity.upgrades.flatMap((u) => u.steps.flatMap(stepSources)).map((path) => path[0]!)]
        : [],
    );
    const keptColumns = old.columns
      .filter((c) => !c.generated && (isLinks || retired.has(c.name)) && !table.columns.some((n) => n.name === c.name))
      .map((c) => ({ name: c.name, type: c.type, notNull: false }));
    const withKept = keptColumns.length === 0 ? table : { ...table, columns: [...table.columns, ...keptColumns] };
    return entity ? requiredForNewWrites(withKept, old, entity) : withKept;
  });
  const gone = before.filter((t) => !after.some((a) => a.name === t.name));
  return [...kept, ...gone];
}

/** Top-level fields a `set_default` step gives a value when an older record is read. */
const filledOnRead = (entity: EntityDef) =>
  new Set(
    entity.upgrades
      .flatMap((u) => u.steps)
      .flatMap((s) => (s.kind === 'set_default' && s.field.length === 1 ? [s.field[0]!] : [])),
  );

function requiredForNewWrites(table: TableSpec, old: TableSpec, entity: EntityDef): TableSpec {
  const filled = filledOnRead(entity);
  const relaxed = (c: ColumnSpec) =>
    c.notNull &&
    c.default === undefined &&
    filled.has(c.name) &&
    old.columns.find((o) => o.name === c.name)?.notNull !== true;
  const columns = table.columns.filter(relaxed);
  if (columns.length === 0) return table;
  return {
    ...table,
    columns: table.columns.map((c) => (relaxed(c) ? { ...c, notNull: false } : c)),
    checks: [
      ...table.checks,
      ...columns.map((c) => ({
        name: requiredCheckName(table.name, c.name),
        definition: `CHECK (${quoteIdent(c.name)} IS NOT NULL)`,
      })),
    ],
  };
}

/**
 * Checks left NOT VALID (enforced for new writes only): those of top-level enum columns a
 * `map_values` step renames values of, and the NOT NULL of columns a `set_default` step fills.
 */
export function unvalidatedChecks(model: Model): Set<string> {
  const names = new Set<string>();
  for (const entity of model.entities) {
    for (const step of entity.upgrades.flatMap((u) => u.steps)) {
      if (step.kind === 'map_values' && step.field.length === 1) names.add(checkName(entity.table, step.field[0]!));
    }
    for (const field of filledOnRead(entity)) names.add(requiredCheckName(entity.table, field));
  }
  return names;
}
