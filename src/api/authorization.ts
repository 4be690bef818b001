// Role-based access (seed 8.1, NFR-13): the registry gives each entity's operations a least role
// (`permissions:`); a caller without it gets 403 naming the role it needs.
import type { Context, MiddlewareHandler } from 'hono';
import { hasRole } from '../auth/principal.ts';
import type { EntityDef, Operation } from '../registry/model.ts';
import { ApiError } from './errors.ts';

const DOING: Record<Operation, string> = {
  read: 'reading',
  create: 'creating',
  update: 'changing',
  delete: 'deleting',
  restore: 'restoring',
  hard_delete: 'hard-deleting',
  include_deleted: 'reading deleted',
};

/** A 403 for a caller who lacks the role `operation` needs on `entity`, or nothing. */
export function forbidden(c: Context, entity: EntityDef, operation: Operation): ApiError | undefined {
  const needed = entity.permissions[operation];
  const roles = c.get('principal')?.roles ?? [];
  if (hasRole(roles, needed)) return undefined;
  const have = roles.length > 0 ? `your roles: ${roles.join(', ')}` : 'you have no role (Cognito groups viewer, editor, admin)';
  return ApiError.single(403, 'FORBIDDEN', `${DOING[operation]} ${entity.plural} needs the ${needed} role; ${have}`);
}

/** Throws the 403 when the caller lacks the role. */
export function authorize(c: Context, entity: EntityDef, operation: Operation): void {
  const refusal = forbidden(c, entity, operation);
  if (refusal) throw refusal;
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
