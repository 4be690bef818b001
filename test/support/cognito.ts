// A stand-in for a Cognito user pool: real RS256 keys, a JWKS served over HTTP on 127.0.0.1, and
// tokens minted as Cognito mints them (access tokens with client_id, id tokens with aud).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { CognitoSettings } from '../../src/config.ts';

export const REGION = 'eu-west-1';
export const USER_POOL_ID = `${REGION}_R33lM3ta`;
export const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`;
export const CLIENT_ID = '5r2reelmetatestclient';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface TokenOptions {
  readonly kid?: string;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly use?: 'access' | 'id';
  readonly claims?: JWTPayload;
}

/** How the JWKS endpoint answers: with the keys, with a 503, or never (the connection stays open). */
export type JwksMode = 'up' | 'down' | 'hang';

export interface FakeUserPool {
  readonly jwksUrl: string;
  /** How many times the JWKS was fetched (asked for, whatever the answer). */
  readonly fetches: number;
  /** Makes the JWKS endpoint go down or hang, or come back. */
  setMode(mode: JwksMode): void;
  /** Settings pointing the service at this pool. */
  settings(overrides?: Partial<CognitoSettings>): CognitoSettings;
  /** A new key pair; published in the JWKS unless told not to. */
  addKey(kid: string, publish?: boolean): Promise<void>;
  token(subject: string, groups: readonly string[], options?: TokenOptions): Promise<string>;
  /** The private key of `kid`, for tokens signed in unusual ways. */
  key(kid: string): SigningKey;
  close(): Promise<void>;
}

export async function startFakeUserPool(): Promise<FakeUserPool> {
  const keys = new Map<string, SigningKey>();
  const published: JWK[] = [];
  let fetches = 0;
  let mode: JwksMode = 'up';
  const server: Server = createServer((_req, res) => {
    fetches += 1;
    if (mode === 'hang') return;
    res.setHeader('content-type', 'application/json');
    if (mode === 'down') res.statusCode = 503;
    res.end(JSON.stringify(mode === 'down' ? { message: 'unavailable' } : { keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${USER_POOL_ID}/.well-known/jwks.json`;

  const pool: FakeUserPool = {
    jwksUrl,
    get fetches() {
      return fetches;
    },
    setMode(next) {
      mode = next;
    },
    settings: (overrides = {}) => ({
      userPoolId: USER_POOL_ID,
      clientIds: [CLIENT_ID],
      jwksUrl,
      tokenUse: ['access', 'id'],
      clockSkewSeconds: 30,
      jwksCooldownMs: 0,
      jwksTimeoutMs: 1500,
      jwksMaxAgeSeconds: 600,
      jwksStaleSeconds: 3600,
      jwksRetryMs: 0,
      ...overrides,
    }),
    async addKey(kid, publish = true) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      keys.set(kid, { kid, privateKey, publicJwk });
      if (publish) published.push(publicJwk);
    },
    key(kid) {
      const key = keys.get(kid);
      if (!key) throw new Error(`no key ${kid}`);
      return key;
    },
    async token(subject, groups, options = {}) {
      const use = options.use ?? 'access';
      const key = pool.key(options.kid ?? [...keys.keys()][0]!);
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        token_use: use,
        'cognito:groups': [...groups],
        auth_time: now,
        ...(use === 'access'
          ? { client_id: CLIENT_ID, scope: 'aws.cognito.signin.user.admin', username: subject }
          : { aud: CLIENT_ID, 'cognito:username': subject }),
        ...options.claims,
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setSubject(subject)
        .setIssuer(typeof options.claims?.iss === 'string' ? options.claims.iss : ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresIn ?? 3600))
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests keep their connections open: end them.
        server.closeAllConnections();
      }),
  };
  return pool;
}
