// Presets (`presets:` in an entity's YAML) compiled by the query parser: a pass over the model
// that parses every preset's filter against its entity, as `filter=` is parsed, so that a bad path
// or operator stops codegen and startup as a registry problem instead of a 400 at run time.
import { RegistryError, type RegistryProblem } from '../registry/errors.ts';
import type { EntityDef, Model, PresetDef } from '../registry/model.ts';
import type { Condition } from './ast.ts';
import { CONTROL_PARAMS } from './parse.ts';
import { parseFilterTree } from './resolve.ts';
import { QueryBudget, type QueryProblem } from './problems.ts';

/** Each preset parsed once; the model's definitions never change after loading. */
const conditions = new WeakMap<PresetDef, Condition>();

/** The preset's filter as a condition. Throws RegistryError when it does not parse (the model skipped checkPresets). */
export function presetCondition(entity: EntityDef, preset: PresetDef): Condition {
  const known = conditions.get(preset);
  if (known) return known;
  const problems: RegistryProblem[] = [];
  const condition = parsePreset(entity, preset, problems);
  if (!condition || problems.length > 0) throw new RegistryError(problems);
  return condition;
}

/** Checks every preset of the model; throws RegistryError listing all the problems, as `file: path: message`. */
export function checkPresets(model: Model): Model {
  // Parameters a list route reads besides filters; `format` is the export's. (Built here, not at
  // load: parse.ts imports this module for presetCondition.)
  const NOT_A_PRESET_NAME = ['id', ...CONTROL_PARAMS, 'format'];
  const problems: RegistryProblem[] = [];
  for (const entity of model.entities) {
    for (const preset of entity.presets) {
      if (entity.fields.some((f) => f.name === preset.name))
        problems.push(problemAt(preset, '', `"${preset.name}" is also a field; a preset needs a name of its own`));
      else if (NOT_A_PRESET_NAME.includes(preset.name))
        problems.push(
          problemAt(preset, '', `"${preset.name}" is a list query parameter (${NOT_A_PRESET_NAME.join(', ')})`),
        );
      parsePreset(entity, preset, problems);
    }
  }
  if (problems.length > 0) throw new RegistryError(problems);
  return model;
}

function parsePreset(entity: EntityDef, preset: PresetDef, problems: RegistryProblem[]): Condition | undefined {
  const found: QueryProblem[] = [];
  // A preset has its own budget: it is declared in the registry, not counted against a client's conditions.
  const budget = new QueryBudget();
  const condition = parseFilterTree(entity, preset.filter, budget, found);
  if (budget.problem) found.push({ ...budget.problem, field: 'filter' });
  // The parser's paths (`filter._or[0].status`) become the YAML's (`presets.x.filter._or.0.status`).
  for (const p of found) problems.push(problemAt(preset, p.field.replace(/\[(\d+)\]/g, '.$1'), p.message));
  if (condition && found.length === 0) conditions.set(preset, condition);
  return condition;
}

function problemAt(preset: PresetDef, below: string, message: string): RegistryProblem {
  const path = below === '' ? preset.source.path : `${preset.source.path}.${below}`;
  return { file: preset.source.file, path, message, line: preset.source.lineOf(path) };
}
