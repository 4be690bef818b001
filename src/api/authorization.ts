// Role-based access (seed 8.1, NFR-13): the registry gives each entity's operations a least role
// (`permissions:`); a caller without it gets 403 naming the role it needs.
import type { Context, MiddlewareHandler } from 'hono';
import { hasRole } from '../auth/principal.ts';
import type { ListQuery } from '../query/ast.ts';
import { relatedReads, type CountReach } from '../query/reach.ts';
import type { EntityDef, Operation } from '../registry/model.ts';
import type { WritePermit } from '../audit/write-meta.ts';
import { ApiError } from '../records/errors.ts';

/** How a 403 names each operation (`changing episodes needs the editor role`). */
export const DOING: Readonly<Record<Operation, string>> = {
  read: 'reading',
  create: 'creating',
  update: 'changing',
  delete: 'deleting',
  restore: 'restoring',
  hard_delete: 'hard-deleting',
  include_deleted: 'reading deleted',
  import: 'importing',
};

/** Why the caller may not do `operation` on `entity`, or nothing when they may. */
function refusal(c: Context, entity: EntityDef, operation: Operation): string | undefined {
  const needed = entity.permissions[operation];
  const roles = c.get('principal')?.roles ?? [];
  if (hasRole(roles, needed)) return undefined;
  const have =
    roles.length > 0 ? `your roles: ${roles.join(', ')}` : 'you have no role (Cognito groups viewer, editor, admin)';
  return `${DOING[operation]} ${entity.plural} needs the ${needed} role; ${have}`;
}

/** A 403 for a caller who lacks the role `operation` needs on `entity`, or nothing. */
export function forbidden(c: Context, entity: EntityDef, operation: Operation): ApiError | undefined {
  const reason = refusal(c, entity, operation);
  return reason === undefined ? undefined : ApiError.single(403, 'FORBIDDEN', reason);
}

/**
 * The one check every list-shaped read runs on its parsed query (lists, search, export, lists
 * under a parent, a part's versions, the audit list): read on the queried entity, include_deleted
 * when asked for, and read on every related entity a filter, sort or projection reaches through a
 * ref, refs or count field, so no related field is an oracle for a caller who may not read it.
 * Related records are always only the live ones (include_deleted applies to the queried entity
 * alone), so reaching them needs read and nothing more.
 */
export function authorizeQuery(c: Context, entity: EntityDef, query: ListQuery, entities: readonly EntityDef[]): void {
  authorize(c, entity, 'read');
  if (query.includeDeleted) authorize(c, entity, 'include_deleted');
  for (const { entity: name, path } of relatedReads(query)) {
    const related = entities.find((e) => e.name === name);
    // A target names only entities of the model it was resolved in; one missing is a bug, so refuse.
    const reason = related ? refusal(c, related, 'read') : `${name} is not an entity here`;
    if (reason !== undefined)
      throw ApiError.single(403, 'FORBIDDEN', `${path} reads ${related?.plural ?? name}: ${reason}`, path);
  }
}

/** Throws the 403 when the caller lacks the role. */
export function authorize(c: Context, entity: EntityDef, operation: Operation): void {
  const refusal = forbidden(c, entity, operation);
  if (refusal) throw refusal;
}

/**
 * The caller's check for everything a write touches besides its route's entity (records server
 * rules create, records a delete cascades to, the targets of the refs it sets): a 403 that says
 * what the write does there, e.g. `guest_id links guests: reading guests needs the admin role; …`.
 */
export function writePermit(c: Context): WritePermit {
  return (entity, operation, context = {}) => {
    const reason = refusal(c, entity, operation);
    if (reason === undefined) return;
    throw ApiError.single(
      403,
      'FORBIDDEN',
      context.cause ? `${context.cause}: ${reason}` : reason,
      context.field ?? null,
    );
  };
}

/** The same check as a route's first handler. */
export const allow = (entity: EntityDef, operation: Operation): MiddlewareHandler => allowEach([entity, operation]);

/** Several checks as one handler, for routes that touch several entities. */
export const allowEach =
  (...checks: readonly (readonly [EntityDef, Operation])[]): MiddlewareHandler =>
  async (c, next) => {
    for (const [entity, operation] of checks) authorize(c, entity, operation);
    await next();
  };

/**
 * The count fields whose counted records the caller may not read: left out of the records they
 * see (a count asked for by name, in a filter, sort or `_fields`, is refused by authorizeQuery).
 */
export function unreadableCounts(c: Context, counts: readonly CountReach[], entities: readonly EntityDef[]): string[] {
  const unreadable = (name: string) => {
    const related = entities.find((e) => e.name === name);
    return !related || refusal(c, related, 'read') !== undefined;
  };
  return counts.filter((count) => count.entities.some(unreadable)).map((count) => count.field);
}

/** A copy of the record without `names` (the record itself when there are none). */
export function withoutFields<T>(record: T, names: readonly string[]): T {
  if (names.length === 0 || typeof record !== 'object' || record === null) return record;
  const copy = { ...(record as Record<string, unknown>) };
  for (const name of names) delete copy[name];
  return copy as T;
}
