// Who is calling: the identity the authentication middleware puts on every /api request, read by
// authorization, rate limiting, the audit trail and the request log.

import { ROLES, type Role } from '../registry/model.ts';

export { ROLES, type Role };

export interface Principal {
  /** The token's `sub` (AUTH_MODE=cognito), or the `X-Actor` header (AUTH_MODE=off); null when unknown. */
  readonly subject: string | null;
  /** Roles from the token's `cognito:groups`; every role when authentication is off. */
  readonly roles: readonly Role[];
  /** True when no token identified the caller (AUTH_MODE=off): limits key on the client address instead. */
  readonly anonymous: boolean;
}

/** The highest of a principal's roles, or null when it has none. */
export function highestRole(roles: readonly Role[]): Role | null {
  let best: Role | null = null;
  for (const role of roles) if (best === null || ROLES.indexOf(role) > ROLES.indexOf(best)) best = role;
  return best;
}

/** Whether `roles` include `needed` or a role above it. */
export function hasRole(roles: readonly Role[], needed: Role): boolean {
  const top = highestRole(roles);
  return top !== null && ROLES.indexOf(top) >= ROLES.indexOf(needed);
}

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}
