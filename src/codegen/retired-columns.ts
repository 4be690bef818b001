// A column whose field a breaking change renamed, moved or removed still holds the values of rows
// stored in older schema_versions, which the upgrade steps read (src/db/legacy-rows.ts). So it is
// kept, no longer NOT NULL and without a default, instead of being refused as a removal.
import { stepSources } from '../registry/compile-evolution.ts';
import type { Model } from '../registry/model.ts';
import type { TableSpec } from './table-spec.ts';

export function retainRetiredColumns(before: readonly TableSpec[], after: readonly TableSpec[], model: Model): TableSpec[] {
  return after.map((table) => {
    const entity = model.entities.find((e) => e.name === table.entity);
    const old = before.find((t) => t.name === table.name);
    if (!entity || !old) return table;
    const retired = new Set([...entity.reserved, ...entity.upgrades.flatMap((u) => u.steps.flatMap(stepSources)).map((path) => path[0]!)]);
    const kept = old.columns
      .filter((c) => !c.generated && retired.has(c.name) && !table.columns.some((now) => now.name === c.name))
      .map((c) => ({ name: c.name, type: c.type, notNull: false }));
    return kept.length === 0 ? table : { ...table, columns: [...table.columns, ...kept] };
  });
}
