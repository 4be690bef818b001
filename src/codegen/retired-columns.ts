// Rows stored in older schema_versions are upgraded when read (src/db/legacy-rows.ts), not by the
// migration, so the table has to keep accepting what they hold. A column whose field a breaking
// change renamed, moved or removed is kept (no longer NOT NULL, without a default) instead of
// being refused as a removal; and the check of an enum whose values were mapped is not validated
// against those rows.
import { stepSources } from '../registry/compile-evolution.ts';
import type { Model } from '../registry/model.ts';
import { checkName } from '../registry/names.ts';
import type { TableSpec } from './table-spec.ts';

export function retainRetiredColumns(
  before: readonly TableSpec[],
  after: readonly TableSpec[],
  model: Model,
): TableSpec[] {
  return after.map((table) => {
    const entity = model.entities.find((e) => e.name === table.entity);
    const old = before.find((t) => t.name === table.name);
    if (!entity || !old) return table;
    const retired = new Set([
      ...entity.reserved,
      ...entity.upgrades.flatMap((u) => u.steps.flatMap(stepSources)).map((path) => path[0]!),
    ]);
    const kept = old.columns
      .filter((c) => !c.generated && retired.has(c.name) && !table.columns.some((now) => now.name === c.name))
      .map((c) => ({ name: c.name, type: c.type, notNull: false }));
    return kept.length === 0 ? table : { ...table, columns: [...table.columns, ...kept] };
  });
}

/** The CHECKs of top-level enum columns a `map_values` step renames values of. */
export function checksOfMappedValues(model: Model): Set<string> {
  const names = new Set<string>();
  for (const entity of model.entities) {
    for (const step of entity.upgrades.flatMap((u) => u.steps)) {
      if (step.kind === 'map_values' && step.field.length === 1) names.add(checkName(entity.table, step.field[0]!));
    }
  }
  return names;
}
