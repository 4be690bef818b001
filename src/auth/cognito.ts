// Verifying AWS Cognito JWTs (seed 8.1, NFR-12) with jose: the signature against the user pool's
// JWKS (jwks.ts: cached, fetched again when a token names a key id it has not seen), the issuer,
// the app client (`client_id` of an access token, `aud` of an id token), `token_use`, a string
// `sub`, and `exp` and `iat` with a small clock skew. Only RS256 is accepted, so `alg: none` and
// HMAC-with-the-public-key tokens fail.
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { ConfigError, type CognitoSettings, type TokenUse } from '../config.ts';
import { JwksUnavailable, remoteKeys } from './jwks.ts';
import { ROLES, type Principal, type Role } from './principal.ts';

/** The token is missing something or is not to be trusted: the client's problem (401). */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/** The user pool's keys could not be fetched: nobody can be verified right now (503). */
export class AuthenticationUnavailable extends Error {
  override readonly name = 'AuthenticationUnavailable';
}

export type TokenVerifier = (token: string) => Promise<Principal>;

export interface CognitoEndpoints {
  readonly issuer: string;
  readonly jwksUrl: string;
}

/** The issuer a pool's tokens carry and where its keys are; the region defaults to the pool id's prefix. */
export function cognitoEndpoints(settings: CognitoSettings): CognitoEndpoints {
  const missing: string[] = [];
  if (!settings.userPoolId) missing.push('COGNITO_USER_POOL_ID');
  if (settings.clientIds.length === 0) missing.push('COGNITO_CLIENT_ID');
  const region = settings.region ?? settings.userPoolId?.split('_')[0];
  if (settings.userPoolId && !region) missing.push('COGNITO_REGION');
  if (missing.length > 0) {
    throw new ConfigError(
      `AUTH_MODE=cognito needs ${missing.join(', ')} (see docs/api.md, "Authentication and roles"); AUTH_MODE=off runs without authentication, for local use only`,
    );
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${settings.userPoolId}`;
  return { issuer, jwksUrl: settings.jwksUrl ?? `${issuer}/.well-known/jwks.json` };
}

/** Why jose refused a token, in words a client can act on (no token content is echoed). */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the token's ${error.claim} claim is not accepted (${error.reason})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by a key of the user pool';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return 'the token algorithm is not accepted (RS256 only)';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'the token key id matches several keys of the user pool';
  return 'the token is malformed';
}

/** Cognito group names are case-sensitive: only a group named exactly `admin` grants admin (not `ADMIN`). */
function rolesOf(payload: JWTPayload): Role[] {
  const groups = payload['cognito:groups'];
  if (!Array.isArray(groups)) return [];
  return ROLES.filter((role) => groups.includes(role));
}

/** The app client a token was issued to: `client_id` for access tokens, `aud` for id tokens. */
function clientOf(payload: JWTPayload, use: TokenUse): string[] {
  if (use === 'access') return typeof payload.client_id === 'string' ? [payload.client_id] : [];
  return typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
}

export function cognitoVerifier(settings: CognitoSettings): TokenVerifier {
  const { issuer, jwksUrl } = cognitoEndpoints(settings);
  const keys = remoteKeys({
    url: jwksUrl,
    timeoutMs: settings.jwksTimeoutMs,
    maxAgeMs: settings.jwksMaxAgeSeconds * 1000,
    staleMs: settings.jwksStaleSeconds * 1000,
    // An unknown kid refetches the keys at most this often (a rotated pool key is picked up).
    cooldownMs: settings.jwksCooldownMs,
    retryMs: settings.jwksRetryMs,
  });
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        algorithms: ['RS256'],
        clockTolerance: settings.clockSkewSeconds,
        requiredClaims: ['sub', 'exp', 'token_use'],
      }));
    } catch (error) {
      // The keys could not be fetched, or something other than the token failed.
      if (error instanceof JwksUnavailable || !(error instanceof errors.JOSEError)) {
        throw new AuthenticationUnavailable(error instanceof Error ? error.message : String(error));
      }
      throw new AuthenticationError(describe(error));
    }
    // jose checks that `iat` is a number, not that it is in the past.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + settings.clockSkewSeconds) {
      throw new AuthenticationError(
        `the token's iat claim is in the future (more than AUTH_CLOCK_SKEW_SECONDS, ${settings.clockSkewSeconds} s, ahead)`,
      );
    }
    // The subject names the caller in the audit trail and the rate limits: a non-empty string.
    if (typeof payload.sub !== 'string' || payload.sub.trim() === '')
      throw new AuthenticationError("the token's sub claim must be a non-empty string");
    const use = payload.token_use;
    if (typeof use !== 'string' || !(settings.tokenUse as readonly string[]).includes(use)) {
      throw new AuthenticationError(
        `the token's token_use claim is not accepted (accepted: ${settings.tokenUse.join(', ')})`,
      );
    }
    if (!clientOf(payload, use as TokenUse).some((client) => settings.clientIds.includes(client))) {
      throw new AuthenticationError(
        `the token was issued to another app client (${use === 'access' ? 'client_id' : 'aud'} claim)`,
      );
    }
    return { subject: payload.sub!, roles: rolesOf(payload), anonymous: false };
  };
}
