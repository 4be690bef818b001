// Query aliases (`query_aliases:` in an entity's YAML), checked and compiled by the query parser:
// every path must resolve and every value filter parse, so a bad alias stops codegen and startup
// as a registry problem, not a 400 at run time. resolve.ts expands a condition on an alias.
import { RegistryError, type RegistryProblem } from '../registry/errors.ts';
import type { EntityDef, Model, QueryAliasDef } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import type { Condition } from './ast.ts';
import { CONTROL_PARAMS } from './parse.ts';
import { QueryBudget, type QueryProblem } from './problems.ts';
import { parseFilterTree } from './resolve.ts';
import { resolveTarget } from './targets.ts';

/** Each value filter parsed once; the model's definitions never change after loading. */
const valueConditions = new WeakMap<QueryAliasDef, Map<string, Condition>>();

/** The alias of `entity` a filter names, if any. */
export const aliasNamed = (entity: EntityDef, name: string): QueryAliasDef | undefined =>
  entity.queryAliases.find((alias) => alias.name === name);

/** The filter `values` declares for an equality with `value`, or undefined when it declares none. */
export function aliasValueCondition(
  entity: EntityDef,
  alias: QueryAliasDef,
  value: string,
  entities?: readonly EntityDef[],
): Condition | undefined {
  const filter = ownValue(alias.values, value);
  if (!filter) return undefined;
  const known = valueConditions.get(alias)?.get(value);
  if (known) return known;
  const problems: RegistryProblem[] = [];
  const condition = parseValueFilter(entity, alias, value, filter, entities, problems);
  if (!condition || problems.length > 0) throw new RegistryError(problems);
  return condition;
}

/** Checks every alias of the model; throws RegistryError listing all the problems. */
export function checkAliases(model: Model): Model {
  const problems: RegistryProblem[] = [];
  const { entities } = model;
  for (const entity of entities) {
    // The entity's own paths, which no alias may shadow.
    const withoutAliases: EntityDef = { ...entity, queryAliases: [] };
    for (const alias of entity.queryAliases) {
      const at = (below: string, message: string) => problems.push(problemAt(alias, below, message));
      if (!('error' in resolveTarget(withoutAliases, alias.name, { entities })))
        at('', `"${alias.name}" is already a field path`);
      else if (entity.presets.some((p) => p.name === alias.name)) at('', `"${alias.name}" is also a preset`);
      else if ([...CONTROL_PARAMS, 'id', 'format'].includes(alias.name))
        at('', `"${alias.name}" is a list query parameter`);
      alias.paths.forEach((path, index) => {
        if (aliasNamed(entity, path)) return at(`paths.${index}`, `"${path}" is an alias itself; name field paths`);
        const resolved = resolveTarget(entity, path, { entities });
        if ('error' in resolved) at(`paths.${index}`, resolved.error);
      });
      for (const [value, filter] of Object.entries(alias.values))
        parseValueFilter(entity, alias, value, filter, entities, problems);
    }
  }
  if (problems.length > 0) throw new RegistryError(problems);
  return model;
}

function parseValueFilter(
  entity: EntityDef,
  alias: QueryAliasDef,
  value: string,
  filter: Readonly<Record<string, unknown>>,
  entities: readonly EntityDef[] | undefined,
  problems: RegistryProblem[],
): Condition | undefined {
  const found: QueryProblem[] = [];
  const budget = new QueryBudget();
  const condition = parseFilterTree(entity, filter, budget, found, { entities });
  if (budget.problem) found.push({ ...budget.problem, field: 'filter' });
  const below = `values.${value}`;
  for (const p of found)
    problems.push(
      problemAt(alias, `${below}${p.field === 'filter' ? '' : `.${p.field.replace(/^filter\.?/, '')}`}`, p.message),
    );
  if (condition && found.length === 0) {
    const cache = valueConditions.get(alias) ?? new Map<string, Condition>();
    cache.set(value, condition);
    valueConditions.set(alias, cache);
  }
  return condition;
}

function problemAt(alias: QueryAliasDef, below: string, message: string): RegistryProblem {
  const path = below === '' ? alias.source.path : `${alias.source.path}.${below}`;
  return { file: alias.source.file, path, message, line: alias.source.lineOf(path) };
}
