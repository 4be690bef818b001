// Which other entities a parsed query reads. A filter, sort or projection through a ref or refs
// field (`guest_id.business_email`) or on a count field (`times_worn`) answers questions about
// the related records, so the caller needs read on each of them as much as on the queried one.
// Worked out from the AST, never from the query string, so no spelling or API-version renaming
// can reach a related entity unseen.
import type { EntityDef } from '../registry/model.ts';
import type { Condition, FieldTarget, ListQuery, Relation } from './ast.ts';
import { countRelation, rolesRelation } from './targets.ts';

/** One related entity a query reads, and the client's path that reads it (for the error). */
export interface RelatedRead {
  readonly entity: string;
  readonly path: string;
}

/**
 * The entities a target reads besides the queried one, in path order: every entity a `via` path
 * crosses; for a count, the counted entity and every entity its chain passes through.
 */
export function entitiesReached(target: FieldTarget): string[] {
  const names = [...(target.via?.hops.map((hop) => hop.entity) ?? [])];
  if (target.count) names.push(...countedEntities(target.count));
  if (target.roles) names.push(...countedEntities(target.roles));
  return [...new Set(names)];
}

/** A count's entities: the one counted and each its chain passes through (ending at the counting entity). */
const countedEntities = (count: Relation): string[] => [count.fromEntity, ...count.hops.map((hop) => hop.entity)];

/** A count field and the entities its value is computed from. */
export interface CountReach {
  readonly field: string;
  readonly entities: readonly string[];
}

/** Each count field of `entity` with the entities its value is computed from, for leaving it out of answers. */
export function countFieldReaches(entity: EntityDef, entities: readonly EntityDef[]): CountReach[] {
  return entity.fields.flatMap((field) => {
    const count =
      (field.count && countRelation(field, entities)) || (field.linkRoles && rolesRelation(field, entities));
    return count ? [{ field: field.name, entities: [...new Set(countedEntities(count))] }] : [];
  });
}

function conditionTargets(condition: Condition | undefined, into: FieldTarget[]): void {
  if (!condition) return;
  if (condition.kind === 'compare') into.push(condition.target);
  else if (condition.kind === 'not') conditionTargets(condition.item, into);
  else for (const item of condition.items) conditionTargets(item, into);
}

/**
 * Every field a query uses: its conditions (client filters, `filter=`, presets and any scope a
 * route adds), its sort keys (which a cursor's values belong to) and its projection.
 */
export function queryTargets(query: ListQuery): FieldTarget[] {
  const targets: FieldTarget[] = [];
  conditionTargets(query.where, targets);
  for (const key of query.sort) if (key.target !== 'rank') targets.push(key.target);
  targets.push(...(query.fields ?? []));
  return targets;
}

/** Each related entity the query reads, once, with the first path that reads it. */
export function relatedReads(query: ListQuery): RelatedRead[] {
  const reads = new Map<string, RelatedRead>();
  for (const target of queryTargets(query)) {
    for (const entity of entitiesReached(target))
      if (!reads.has(entity)) reads.set(entity, { entity, path: target.path });
  }
  return [...reads.values()];
}
