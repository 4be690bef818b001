// Calendar feeds for apps that cannot send a bearer token (seed 8.15: a team subscribes to the
// production schedule). POST …/schedule/feed issues a URL whose `feed_token` is a JWT (HS256,
// signed with FEED_TOKEN_SECRET) naming the caller, their roles at that moment and the one path
// it opens; identifyCaller accepts it on that path only, for GET. Rotating the secret revokes
// every feed URL at once.
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { ROLES, type Principal, type Role } from './principal.ts';
import { AuthenticationError } from './cognito.ts';

const ISSUER = 'reelmeta-feed';
/** The query parameter that carries the token. */
export const FEED_TOKEN_PARAM = 'feed_token';

export interface FeedTokenSettings {
  /** The signing secret; unset: a random one per process (feed URLs then end with the process). */
  readonly secret: string | undefined;
  readonly days: number;
}

export class FeedTokens {
  private readonly key: Uint8Array;
  readonly days: number;
  /** True when no FEED_TOKEN_SECRET was given (the service warns: URLs die at restart, per instance). */
  readonly ephemeral: boolean;

  constructor({ secret, days }: FeedTokenSettings) {
    this.ephemeral = secret === undefined;
    this.key = secret === undefined ? randomBytes(32) : new TextEncoder().encode(secret);
    this.days = days;
  }

  /** A token opening `path` (e.g. /api/v1/episodes/schedule.ics) to GETs as `principal`. */
  async issue(principal: Principal, path: string): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.days * 86_400_000);
    const token = await new SignJWT({ roles: [...principal.roles], path })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject(principal.subject ?? 'anonymous')
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The principal a token stands for on `path`; AuthenticationError when it does not verify or names another path. */
  async verify(token: string, path: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] }));
    } catch {
      throw new AuthenticationError('the feed token does not verify (expired, or signed with another secret)');
    }
    if (payload.path !== path) throw new AuthenticationError('the feed token was issued for another feed');
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r))
      : [];
    return { subject: typeof payload.sub === 'string' ? payload.sub : null, roles, anonymous: false };
  }
}
