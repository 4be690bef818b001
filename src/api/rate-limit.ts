// Rate limiting for /api/* (seed NFR-15): one token bucket per caller (the principal's subject, or
// the client address when anonymous), sized by the limit of its highest role. Every answer says
// where the caller stands (RateLimit-* headers, IETF draft); an empty bucket answers 429.
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { highestRole, type Principal } from '../auth/principal.ts';
import type { Model } from '../registry/model.ts';
import type { LimitClass, RateLimiter, Verdict } from '../ratelimit/limiter.ts';
import { sendErrors } from './envelope.ts';

export interface RateLimitOptions {
  readonly limiter: RateLimiter;
  /** Use X-Forwarded-For's first address: only behind a proxy that sets it, or clients pick their own key. */
  readonly trustProxy: boolean;
}

/** The middleware; without options (rate limiting off) it passes every request through. */
export function limitRequests(model: Model, options: RateLimitOptions | undefined): MiddlewareHandler {
  if (!options) return async (_c, next) => next();
  const { limiter, trustProxy } = options;
  return async (c, next) => {
    const { key, limitClass } = callerBucket(c, trustProxy);
    const verdict = await limiter.check(key, limitClass);
    if (verdict && !verdict.allowed) {
      setHeaders(c, verdict);
      c.header('Retry-After', String(verdict.retryAfterSeconds));
      const problem = {
        code: 'RATE_LIMITED',
        message: `rate limit of ${verdict.limit} requests per ${verdict.windowSeconds} s exceeded; retry in ${verdict.retryAfterSeconds} s`,
        field: null,
      };
      return sendErrors(c, model, 429, [problem]);
    }
    await next();
    if (verdict) setHeaders(c, verdict);
  };
}

/** Whose bucket a request takes from, and whose limit sizes it. No principal (no auth middleware) is anonymous. */
export function callerBucket(c: Context, trustProxy: boolean): { key: string; limitClass: LimitClass } {
  const principal = c.get('principal') as Principal | undefined;
  if (principal && !principal.anonymous && principal.subject !== null) {
    return { key: `sub:${principal.subject}`, limitClass: highestRole(principal.roles) ?? 'anonymous' };
  }
  return { key: `ip:${clientAddress(c, trustProxy)}`, limitClass: 'anonymous' };
}

function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded.slice(0, 100);
  }
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    // Not served by @hono/node-server (app.request in a test): every caller shares one bucket.
  }
  return address?.replace(/^::ffff:/, '') ?? 'unknown';
}

function setHeaders(c: Context, verdict: Verdict): void {
  c.header('RateLimit-Limit', String(verdict.limit));
  c.header('RateLimit-Remaining', String(verdict.remaining));
  c.header('RateLimit-Reset', String(verdict.resetSeconds));
  c.header('RateLimit-Policy', `${verdict.limit};w=${verdict.windowSeconds}`);
}
