// Who is calling, for every /api request: with AUTH_MODE=cognito a verified bearer token (401 with
// a WWW-Authenticate challenge otherwise), with AUTH_MODE=off an anonymous caller holding every
// role, named by its X-Actor header for the audit trail.
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthMode } from '../config.ts';
import { AuthenticationError, AuthenticationUnavailable, type TokenVerifier } from '../auth/cognito.ts';
import { ROLES, type Principal } from '../auth/principal.ts';
import type { Model } from '../registry/model.ts';
import { sendErrors } from './envelope.ts';

const REALM = 'reelmeta';
/** RFC 6750's b64token: what a bearer token may be made of. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The X-Actor header, trimmed to the audit column's 200 characters; null when absent or blank. */
const declaredActor = (c: Context): string | null => c.req.header('x-actor')?.trim().slice(0, 200) || null;

function challenge(c: Context, model: Model, message: string, error?: 'invalid_request' | 'invalid_token') {
  // Messages come from this module and the verifier only; none holds a quote or token content.
  c.header('WWW-Authenticate', error ? `Bearer realm="${REALM}", error="${error}", error_description="${message}"` : `Bearer realm="${REALM}"`);
  return sendErrors(c, model, 401, [{ code: 'UNAUTHENTICATED', message, field: null }]);
}

export function authentication(mode: AuthMode, model: Model, verify?: TokenVerifier): MiddlewareHandler {
  if (mode === 'off') {
    return async (c, next) => {
      c.set('principal', { subject: declaredActor(c), roles: ROLES, anonymous: true } satisfies Principal);
      await next();
    };
  }
  if (!verify) throw new Error('AUTH_MODE=cognito needs a token verifier');
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) return challenge(c, model, 'this API needs a Cognito token: send Authorization: Bearer <token>');
    const token = BEARER.exec(header)?.[1];
    if (!token) return challenge(c, model, 'the Authorization header must be: Bearer <token>', 'invalid_request');
    try {
      c.set('principal', await verify(token));
    } catch (error) {
      if (error instanceof AuthenticationError) return challenge(c, model, error.message, 'invalid_token');
      if (error instanceof AuthenticationUnavailable) {
        c.header('Retry-After', '5');
        return sendErrors(c, model, 503, [{ code: 'AUTH_UNAVAILABLE', message: 'tokens cannot be verified right now (the user pool keys are unreachable); try again shortly', field: null }]);
      }
      throw error;
    }
    await next();
  };
}
