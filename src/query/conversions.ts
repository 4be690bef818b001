// The records a conversion hands over (`conversion.hand_over` in an entity's YAML): each `where`
// path is resolved like a filter of the other entity, with the converted record's values filled
// into the templates and bound as that filter's values. Checked when the model loads, so a path
// that does not resolve is a registry problem, not a 500 at run time.
import { RegistryError, type RegistryProblem } from '../registry/errors.ts';
import { fillTemplate, type ConversionDef, type EntityDef, type Model } from '../registry/model.ts';
import type { Condition } from './ast.ts';
import { QueryBudget, type QueryProblem } from './problems.ts';
import { parseFilterTree } from './resolve.ts';

type HandOver = ConversionDef['handOver'][number];

/**
 * The condition on `target`'s records that `handOver` takes from `record`, with the problems
 * found; with `userId`, only the records whose `set` field does not hold it yet.
 */
function conditionFor(
  target: EntityDef,
  handOver: HandOver,
  record: Readonly<Record<string, unknown>>,
  entities: readonly EntityDef[],
  problems: QueryProblem[],
  userId?: string,
): Condition | undefined {
  const tree = Object.fromEntries(
    Object.entries(handOver.where).map(([path, template]) => [path, { _eq: fillTemplate(template, record) }]),
  );
  const pending = userId === undefined ? tree : { _and: [tree, { _not: { [handOver.set]: { _eq: userId } } }] };
  return parseFilterTree(target, pending, new QueryBudget(), problems, { entities });
}

/**
 * The condition on `target`'s records that `handOver` still has to give `userId` from the
 * converted `record`, or the problems of a value the record gives (the paths were checked at load).
 */
export function handOverCondition(
  target: EntityDef,
  handOver: HandOver,
  record: Readonly<Record<string, unknown>>,
  userId: string,
  entities: readonly EntityDef[],
): { readonly condition: Condition } | { readonly problems: readonly QueryProblem[] } {
  const problems: QueryProblem[] = [];
  const condition = conditionFor(target, handOver, record, entities, problems, userId);
  return condition && problems.length === 0 ? { condition } : { problems };
}

/** Checks every conversion's `where` paths against a sample record; throws RegistryError listing the problems. */
export function checkConversions(model: Model): Model {
  const problems: RegistryProblem[] = [];
  for (const entity of model.entities) {
    const conversion = entity.conversion;
    if (!conversion) continue;
    // A well-formed id, and a plain word for every other field.
    const sample: Record<string, unknown> = Object.fromEntries(entity.fields.map((f) => [f.name, 'sample']));
    sample.id = `${entity.idPrefix}_20250101_sample0000`;
    conversion.handOver.forEach((handOver, index) => {
      const target = model.entities.find((e) => e.name === handOver.entity);
      if (!target) return; // reported by the registry compiler
      const found: QueryProblem[] = [];
      conditionFor(target, handOver, sample, model.entities, found);
      for (const p of found) {
        const path = `${conversion.source.path}.hand_over.${index}.where`;
        problems.push({
          file: conversion.source.file,
          path,
          message: `${p.field.replace(/^filter\.?/, '') || 'where'}: ${p.message}`,
          line: conversion.source.lineOf(path),
        });
      }
    });
  }
  if (problems.length > 0) throw new RegistryError(problems);
  return model;
}
