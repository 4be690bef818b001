// Who is calling: the identity the authentication middleware puts on every /api request, read by
// authorization, rate limiting, the audit trail and the request log.

/** Roles from least to most: each role may do everything the ones before it may. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

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
