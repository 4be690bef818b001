// Who is calling, for every /api request: with AUTH_MODE=cognito a verified bearer token (401 with
// a WWW-Authenticate challenge otherwise), with AUTH_MODE=off an anonymous caller holding every
// role, named by its X-Actor header for the audit trail.
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthMode } from '../config.ts';
import { AuthenticationError, AuthenticationUnavailable, type TokenVerifier } from '../auth/cognito.ts';
import { ROLES, type Principal } from '../auth/principal.ts';
import { FEED_TOKEN_PARAM, type FeedTokens } from '../auth/feed-tokens.ts';
import type { Model } from '../registry/model.ts';
import { sendErrors } from './envelope.ts';

const REALM = 'reelmeta';

type Refusal = (c: Context) => Response | Promise<Response>;

declare module 'hono' {
  interface ContextVariableMap {
    authRefusal: Refusal;
  }
}
/** RFC 6750's b64token: what a bearer token may be made of. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The X-Actor header, trimmed to the audit column's 200 characters; null when absent or blank. */
const declaredActor = (c: Context): string | null => c.req.header('x-actor')?.trim().slice(0, 200) || null;

function challenge(c: Context, model: Model, message: string, error?: 'invalid_request' | 'invalid_token') {
  // Messages come from this module and the verifier only; none holds a quote or token content.
  c.header(
    'WWW-Authenticate',
    error ? `Bearer realm="${REALM}", error="${error}", error_description="${message}"` : `Bearer realm="${REALM}"`,
  );
  return sendErrors(c, model, 401, [{ code: 'UNAUTHENTICATED', message, field: null }]);
}

/**
 * Sets the caller for every /api request. A request that fails to authenticate continues as an
 * anonymous caller holding no role, with its refusal kept for `refuseUnauthenticated`: the rate
 * limiter between the two then counts floods of bad tokens against the client address.
 */
export function identifyCaller(
  mode: AuthMode,
  model: Model,
  verify?: TokenVerifier,
  feeds?: FeedTokens,
): MiddlewareHandler {
  if (mode === 'off') {
    return async (c, next) => {
      c.set('principal', { subject: declaredActor(c), roles: ROLES, anonymous: true } satisfies Principal);
      await next();
    };
  }
  if (!verify) throw new Error('AUTH_MODE=cognito needs a token verifier');
  const refuse = (c: Context, refusal: Refusal) => {
    c.set('principal', { subject: null, roles: [], anonymous: true } satisfies Principal);
    c.set('authRefusal', refusal);
  };
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    // A calendar app cannot send a header: a feed URL's token opens that one feed to GETs.
    // Only a request without the header is looked at: a token-bearing GET parses no query here.
    const feedToken = !header && c.req.method === 'GET' ? c.req.query(FEED_TOKEN_PARAM) : undefined;
    if (!header && feedToken !== undefined && feeds) {
      try {
        c.set('principal', await feeds.verify(feedToken, c.req.path));
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        refuse(c, (c) => challenge(c, model, error.message, 'invalid_token'));
      }
    } else if (!header)
      refuse(c, (c) => challenge(c, model, 'this API needs a Cognito token: send Authorization: Bearer <token>'));
    else if (!token)
      refuse(c, (c) => challenge(c, model, 'the Authorization header must be: Bearer <token>', 'invalid_request'));
    else {
      try {
        c.set('principal', await verify(token));
      } catch (error) {
        if (error instanceof AuthenticationError) refuse(c, (c) => challenge(c, model, error.message, 'invalid_token'));
        else if (error instanceof AuthenticationUnavailable) {
          refuse(c, (c) => {
            c.header('Retry-After', '5');
            return sendErrors(c, model, 503, [
              {
                code: 'AUTH_UNAVAILABLE',
                message: 'tokens cannot be verified right now (the user pool keys are unreachable); try again shortly',
                field: null,
              },
            ]);
          });
        } else throw error;
      }
    }
    await next();
  };
}

/** Who is acting, for the audit trail and the deletion fields: the caller's subject, or null. */
export function actorOf(c: Context, maxLength = Infinity): string | null {
  return c.get('principal')?.subject?.slice(0, maxLength) ?? null;
}

/** Answers the refusal `identifyCaller` kept, if any. */
export const refuseUnauthenticated: MiddlewareHandler = async (c, next) => {
  const refusal = c.get('authRefusal');
  if (refusal) return refusal(c);
  await next();
};
