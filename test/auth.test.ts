// Authentication and authorization with AUTH_MODE=cognito: real RS256 tokens verified against a
// JWKS served on 127.0.0.1, every way a token can be wrong answered 401 with a challenge, and the
// registry's permissions deciding what viewers, editors and admins may do (403 naming the role).
import { base64url, SignJWT, UnsecuredJWT, exportSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startService } from '../src/service.ts';
import { CLIENT_ID, ISSUER, startFakeUserPool, USER_POOL_ID, type FakeUserPool } from './support/cognito.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject } from './support/project-copy.ts';
import {
  serviceClient,
  startTestService,
  withClient,
  type Reply,
  type RequestOptions,
  type TestService,
  type Rec,
} from './support/service.ts';
import { testConfig } from './support/s3.ts';
import { collectingLogger } from './support/log-lines.ts';

let db: TestDatabase;
let userPool: FakeUserPool;
let service: TestService;
const collected = collectingLogger();
const logLines = collected.lines;

beforeAll(async () => {
  db = await createTestDatabase();
  userPool = await startFakeUserPool();
  await userPool.addKey('key-1');
  const running = await startService(
    {
      ...testConfig(),
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.url,
      authMode: 'cognito',
      cognito: userPool.settings(),
    },
    collected.logger,
  );
  service = withClient(running);
});

afterAll(async () => {
  await service?.stop();
  await userPool?.close();
  await db?.drop();
});

/** A request carrying `token` as its bearer token. */
const as = <T = Rec>(token: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> =>
  service.request<T>(method, path, { ...options, token });

const tokenFor = (subject: string, groups: string[]) => userPool.token(subject, groups);

function expectChallenge(reply: Reply, error?: string) {
  expect(reply.status).toBe(401);
  expect(reply.body.errors[0]).toMatchObject({ code: 'UNAUTHENTICATED' });
  const header = reply.headers.get('www-authenticate') ?? '';
  expect(header).toMatch(/^Bearer realm="reelmeta"/);
  if (error) expect(header).toContain(`error="${error}"`);
}

describe('authentication', () => {
  it('leaves health, readiness, metrics and the API document open', async () => {
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json']) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.status, path).toBe(200);
    }
  });

  it('asks for a token when there is none, or when the header is not a bearer token', async () => {
    const none = await service.request('GET', '/api/v1/episodes');
    expectChallenge(none);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="reelmeta"');
    expectChallenge(
      await service.request('GET', '/api/v1/episodes', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      'invalid_request',
    );
    expectChallenge(
      await service.request('GET', '/api/v1/episodes', { headers: { authorization: 'Bearer' } }),
      'invalid_request',
    );
  });

  it('accepts a valid access token, and an id token issued to the app client', async () => {
    expect((await as(await tokenFor('viewer-1', ['viewer']), 'GET', '/api/v1/episodes')).status).toBe(200);
    const idToken = await userPool.token('viewer-2', ['viewer'], { use: 'id' });
    expect((await as(idToken, 'GET', '/api/v1/episodes')).status).toBe(200);
  });

  it('refuses expired tokens, but allows a small clock skew', async () => {
    const expired = await userPool.token('late', ['admin'], { expiresIn: -120 });
    const reply = await as(expired, 'GET', '/api/v1/episodes');
    expectChallenge(reply, 'invalid_token');
    expect(reply.body.errors[0]!.message).toMatch(/expired/);
    const withinSkew = await userPool.token('late', ['admin'], { expiresIn: -10 });
    expect((await as(withinSkew, 'GET', '/api/v1/episodes')).status).toBe(200);
  });

  it('refuses a token from another issuer, for another app client, or of another use', async () => {
    const cases: [string, Promise<string>, RegExp][] = [
      [
        'issuer',
        userPool.token('x', ['admin'], {
          claims: { iss: `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other` },
        }),
        /iss/,
      ],
      ['client_id', userPool.token('x', ['admin'], { claims: { client_id: 'someone-elses-client' } }), /app client/],
      [
        'audience',
        userPool.token('x', ['admin'], { use: 'id', claims: { aud: 'someone-elses-client' } }),
        /app client/,
      ],
      ['token_use', userPool.token('x', ['admin'], { claims: { token_use: 'refresh' } }), /token_use/],
    ];
    for (const [what, token, message] of cases) {
      const reply = await as(await token, 'GET', '/api/v1/episodes');
      expectChallenge(reply, 'invalid_token');
      expect(reply.body.errors[0]!.message, what).toMatch(message);
    }
  });

  it('refuses tampered, unsigned, HMAC-signed and unknown-key tokens', async () => {
    const good = await tokenFor('mallory', ['viewer']);
    const [header, , signature] = good.split('.');
    const promoted = base64url.encode(
      JSON.stringify({
        sub: 'mallory',
        token_use: 'access',
        client_id: CLIENT_ID,
        iss: ISSUER,
        exp: Math.floor(Date.now() / 1000) + 3600,
        'cognito:groups': ['admin'],
      }),
    );
    const tampered = `${header}.${promoted}.${signature}`;
    const unsigned = new UnsecuredJWT({ token_use: 'access', client_id: CLIENT_ID, 'cognito:groups': ['admin'] })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setExpirationTime('1h')
      .encode();
    // The public key as an HMAC secret: the classic algorithm confusion.
    const publicPem = await exportSPKI(
      await crypto.subtle.importKey(
        'jwk',
        userPool.key('key-1').publicJwk as JsonWebKey,
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        true,
        ['verify'],
      ),
    );
    const hmac = await new SignJWT({ token_use: 'access', client_id: CLIENT_ID, 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(publicPem));
    await userPool.addKey('never-published', false);
    const unknownKid = await userPool.token('mallory', ['admin'], { kid: 'never-published' });
    for (const [what, token, message] of [
      ['tampered', tampered, /signature/],
      ['alg none', unsigned, /algorithm|malformed/],
      ['HS256', hmac, /algorithm/],
      ['unknown kid', unknownKid, /key of the user pool/],
      ['garbage', 'abc.def.ghi', /malformed/],
    ] as const) {
      const reply = await as(token, 'POST', '/api/v1/shows', { body: { title: `by ${what}` } });
      expectChallenge(reply, 'invalid_token');
      expect(reply.body.errors[0]!.message, what).toMatch(message);
    }
    expect(await db.query(`SELECT 1 FROM shows WHERE title LIKE 'by %'`)).toEqual([]);
  });

  it('fetches the keys again for a key id it has not seen, so a rotated key is accepted', async () => {
    await as(await tokenFor('rotation', ['viewer']), 'GET', '/api/v1/shows');
    const before = userPool.fetches;
    await userPool.addKey('key-2');
    const reply = await as(await userPool.token('rotation', ['viewer'], { kid: 'key-2' }), 'GET', '/api/v1/shows');
    expect(reply.status).toBe(200);
    expect(userPool.fetches).toBeGreaterThan(before);
  });

  it('answers 503 when the user pool keys cannot be fetched, and refuses to start without its settings', async () => {
    const blind = await startTestService({
      databaseUrl: db.url,
      authMode: 'cognito',
      cognito: userPool.settings({ jwksUrl: 'http://127.0.0.1:9/jwks.json' }),
    });
    try {
      const reply = await blind.request('GET', '/api/v1/shows', {
        token: await tokenFor('x', ['viewer']),
      });
      expect(reply.status).toBe(503);
      expect(reply.body.errors[0]).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    } finally {
      await blind.stop();
    }
    await expect(
      startTestService({
        databaseUrl: db.url,
        authMode: 'cognito',
        cognito: userPool.settings({ userPoolId: undefined, clientIds: [] }),
      }),
    ).rejects.toThrow(/AUTH_MODE=cognito needs COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID/);
  });

  it('refuses a token issued in the future beyond the clock skew, a sub that is not a non-empty string, and group names in another case', async () => {
    const now = Math.floor(Date.now() / 1000);
    /** A token signed by the pool with exactly these claims (over the usual ones). */
    const mint = (claims: Record<string, unknown>) =>
      new SignJWT({
        token_use: 'access',
        client_id: CLIENT_ID,
        iss: ISSUER,
        sub: 'claims',
        iat: now,
        exp: now + 3600,
        'cognito:groups': ['viewer'],
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
        .sign(userPool.key('key-1').privateKey);
    for (const [what, claims, message] of [
      ['iat two minutes ahead', { iat: now + 120 }, /iat/],
      ['numeric sub', { sub: 12345 }, /sub/],
      ['empty sub', { sub: '' }, /sub/],
      ['object sub', { sub: { id: 1 } }, /sub/],
      ['no sub', { sub: undefined }, /sub/],
    ] as const) {
      const reply = await as(await mint(claims), 'GET', '/api/v1/shows');
      expectChallenge(reply, 'invalid_token');
      expect(reply.body.errors[0]!.message, what).toMatch(message);
    }
    expect((await as(await mint({ iat: now + 10 }), 'GET', '/api/v1/shows')).status, 'iat within the skew').toBe(200);
    // Cognito group names are case-sensitive: ADMIN, Admin and EDITOR are not roles.
    for (const groups of [['ADMIN'], ['Admin', 'EDITOR'], [' admin']]) {
      const reply = await as(await tokenFor('case', groups), 'GET', '/api/v1/shows');
      expect(reply.status, groups.join()).toBe(403);
    }
    const viewerOnly = await as(await tokenFor('case', ['ADMIN', 'viewer']), 'POST', '/api/v1/shows', {
      body: { title: 'by ADMIN' },
    });
    expect(viewerOnly.status).toBe(403);
  });

  it('keeps verifying with the cached keys while the JWKS endpoint is down or hanging, for AUTH_JWKS_STALE_SECONDS, then answers 503', async () => {
    const pool = await startFakeUserPool();
    await pool.addKey('key-1');
    const token = await pool.token('stale', ['viewer']);
    const patient = await startTestService({
      databaseUrl: db.url,
      authMode: 'cognito',
      cognito: pool.settings({ jwksMaxAgeSeconds: 1, jwksStaleSeconds: 3600, jwksTimeoutMs: 300 }),
    });
    const strict = await startTestService({
      databaseUrl: db.url,
      authMode: 'cognito',
      cognito: pool.settings({ jwksMaxAgeSeconds: 1, jwksStaleSeconds: 1, jwksTimeoutMs: 300 }),
    });
    const read = (service: TestService) => service.request('GET', '/api/v1/shows', { token });
    try {
      expect((await read(patient)).status).toBe(200);
      expect((await read(strict)).status).toBe(200);
      const fetched = pool.fetches;
      pool.setMode('down');
      await new Promise((resolve) => setTimeout(resolve, 1200));
      // Past the max age: a refresh is tried (and fails), the cached keys still verify.
      expect((await read(patient)).status).toBe(200);
      pool.setMode('hang');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await read(patient)).status).toBe(200);
      expect(pool.fetches).toBeGreaterThan(fetched);
      // Past max age + stale: the keys are too old to trust.
      const refused = await read(strict);
      expect(refused.status).toBe(503);
      expect(refused.body.errors[0]).toMatchObject({
        code: 'AUTH_UNAVAILABLE',
        message: expect.stringMatching(/keys/),
      });
      pool.setMode('up');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await read(strict)).status).toBe(200);
      expect((await read(patient)).status).toBe(200);
    } finally {
      await patient.stop();
      await strict.stop();
      await pool.close();
    }
  });

  it('answers a cold start with a hanging JWKS endpoint with 503 after AUTH_JWKS_TIMEOUT_MS, and does not wait on it again until AUTH_JWKS_RETRY_MS', async () => {
    const pool = await startFakeUserPool();
    await pool.addKey('key-1');
    const token = await pool.token('cold', ['viewer']);
    pool.setMode('hang');
    const cold = await startTestService({
      databaseUrl: db.url,
      authMode: 'cognito',
      cognito: pool.settings({ jwksTimeoutMs: 300, jwksRetryMs: 1500 }),
    });
    const read = () => cold.request('GET', '/api/v1/shows', { token });
    try {
      // Two callers at once share the one fetch; the next one meets the recent failure.
      const replies = [...(await Promise.all([read(), read()])), await read()];
      for (const reply of replies) {
        expect(reply.status).toBe(503);
        expect(reply.body.errors[0]).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
      }
      expect(replies[0]!.body.errors[0]!.message).toMatch(/user pool keys are unreachable/);
      expect(pool.fetches).toBe(1);
      pool.setMode('up');
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect((await read()).status).toBe(200);
      expect(pool.fetches).toBe(2);
    } finally {
      await cold.stop();
      await pool.close();
    }
  });

  it('counts requests with bad tokens against the client address, so a flood of them is limited', async () => {
    const limited = await startTestService({
      databaseUrl: db.url,
      authMode: 'cognito',
      cognito: userPool.settings(),
      rateLimitEnabled: true,
      rateLimits: { anonymous: 3, viewer: 100, editor: 100, admin: 100 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1)
        statuses.push(
          (await limited.request('GET', '/api/v1/shows', { headers: { authorization: 'Bearer not.a.token' } })).status,
        );
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // A caller with a valid token has a budget of its own.
      expect(
        (
          await limited.request('GET', '/api/v1/shows', {
            token: await tokenFor('good', ['viewer']),
          })
        ).status,
      ).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('logs the subject as the actor and never the token', async () => {
    const token = await tokenFor('logged-user', ['viewer']);
    await as(token, 'GET', '/api/v1/shows', { headers: { 'x-request-id': 'auth-log-check' } });
    const line = logLines.find((l) => l.request_id === 'auth-log-check');
    expect(line).toMatchObject({ actor: 'logged-user', status: 200 });
    expect(JSON.stringify(logLines)).not.toContain(token.split('.')[2]!);
  });
});

describe('authorization from the registry', () => {
  let viewer: string;
  let editor: string;
  let admin: string;
  let nobody: string;
  beforeAll(async () => {
    [viewer, editor, admin, nobody] = await Promise.all([
      tokenFor('vic', ['viewer']),
      tokenFor('eddie', ['editor', 'some-other-group']),
      tokenFor('ada', ['admin']),
      tokenFor('nobody', []),
    ]);
  });

  it('lets viewers read and not write, naming the role a write needs', async () => {
    expect((await as(viewer, 'GET', '/api/v1/shows')).status).toBe(200);
    const create = await as(viewer, 'POST', '/api/v1/shows', { body: { title: 'Viewer show' } });
    expect(create.status).toBe(403);
    expect(create.body.errors[0]).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/creating shows needs the editor role; your roles: viewer/),
    });
    expect(await db.query(`SELECT 1 FROM shows WHERE title = 'Viewer show'`)).toEqual([]);
  });

  it('refuses a caller in no role group everything, reads included', async () => {
    const reply = await as(nobody, 'GET', '/api/v1/shows');
    expect(reply.status).toBe(403);
    expect(reply.body.errors[0]!.message).toMatch(/needs the viewer role; you have no role/);
  });

  it('lets editors write, audited under the token subject, but keeps hard deletes for admins', async () => {
    const created = await as(editor, 'POST', '/api/v1/shows', { body: { title: 'Editor show' } });
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    const history = await as<{ actor: string; operation: string }[]>(editor, 'GET', `/api/v1/shows/${id}/history`);
    expect(history.body.data).toEqual([expect.objectContaining({ actor: 'eddie', operation: 'create' })]);
    // X-Actor cannot speak for someone else once there is a token.
    await as(editor, 'PATCH', `/api/v1/shows/${id}`, {
      body: { title: 'Edited' },
      headers: { 'x-actor': 'someone-else' },
    });
    expect(
      (
        await db.query<{ actor: string }>(
          `SELECT actor FROM audit_entries WHERE record_id = $1 AND operation = 'update'`,
          [id],
        )
      )[0]!.actor,
    ).toBe('eddie');

    const hard = await as(editor, 'DELETE', `/api/v1/shows/${id}?hard=true`);
    expect(hard.status).toBe(403);
    expect(hard.body.errors[0]!.message).toMatch(/hard-deleting shows needs the admin role/);
    expect((await as(editor, 'DELETE', `/api/v1/shows/${id}`)).status).toBe(200);
    expect((await as(viewer, 'GET', `/api/v1/shows/${id}?include_deleted=true`)).status).toBe(403);
    expect((await as(viewer, 'GET', `/api/v1/shows?include_deleted=true`)).status).toBe(403);
    // Seed 8.6: reading deleted records and restoring them are for admins.
    const deletedRead = await as(editor, 'GET', `/api/v1/shows/${id}?include_deleted=true`);
    expect(deletedRead.status).toBe(403);
    expect(deletedRead.body.errors[0]!.message).toMatch(/reading deleted shows needs the admin role/);
    expect((await as(editor, 'GET', `/api/v1/shows?include_deleted=true`)).status).toBe(403);
    expect((await as(admin, 'GET', `/api/v1/shows/${id}?include_deleted=true`)).status).toBe(200);
    expect((await as(viewer, 'POST', `/api/v1/shows/${id}/restore`)).status).toBe(403);
    const editorRestore = await as(editor, 'POST', `/api/v1/shows/${id}/restore`);
    expect(editorRestore.status).toBe(403);
    expect(editorRestore.body.errors[0]!.message).toMatch(/restoring shows needs the admin role/);
    expect((await as(admin, 'DELETE', `/api/v1/shows/${id}?hard=true`)).status).toBe(200);
    expect(await db.query('SELECT 1 FROM shows WHERE id = $1', [id])).toEqual([]);
  });

  it("applies an entity's own permissions: guests' contact details are not for viewers", async () => {
    const guest = await as(editor, 'POST', '/api/v1/guests', { body: { name: 'Sarah Johnson' } });
    expect(guest.status).toBe(201);
    const refused = await as(viewer, 'GET', `/api/v1/guests/${guest.body.data.id}`);
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]!.message).toMatch(/reading guests needs the editor role/);
    expect((await as(viewer, 'GET', '/api/v1/guests')).status).toBe(403);
    expect((await as(editor, 'GET', `/api/v1/guests/${guest.body.data.id}`)).status).toBe(200);
    // The audit trail holds whole records: editors read it, viewers do not.
    expect((await as(viewer, 'GET', '/api/v1/audit')).status).toBe(403);
    expect((await as(editor, 'GET', '/api/v1/audit?entity=guest')).body.data).not.toEqual([]);
  });

  it('leaves out of the audit list the entries of entities the caller may not read', async () => {
    // The shipped registry lets editors read everything; here guests are for admins only.
    const copy = copyProject();
    copy.edit('registry/entities/guest.yaml', (text) =>
      text.replace('permissions:\n  read: editor', 'permissions:\n  read: admin'),
    );
    const ownDb = await createTestDatabase();
    const strict = await startTestService({
      databaseUrl: ownDb.url,
      ...copy.dirs,
      authMode: 'cognito',
      cognito: userPool.settings(),
    });
    const call = <T = Rec>(token: string, method: string, path: string, options: RequestOptions = {}) =>
      strict.request<T>(method, path, { ...options, token });
    try {
      const guest = await call(admin, 'POST', '/api/v1/guests', { body: { name: 'Private Guest' } });
      expect(guest.status).toBe(201);
      const show = await call(admin, 'POST', '/api/v1/shows', { body: { title: 'Public show' } });
      expect(show.status).toBe(201);
      type Entry = { entity: string; record_id: string };
      const seenBy = async (token: string, query = '') =>
        (await call<Entry[]>(token, 'GET', `/api/v1/audit${query}`)).body.data.map((e) => `${e.entity}:${e.record_id}`);
      expect(await seenBy(admin)).toEqual(
        expect.arrayContaining([`guest:${guest.body.data.id}`, `show:${show.body.data.id}`]),
      );
      expect(await seenBy(editor)).toContain(`show:${show.body.data.id}`);
      expect(await seenBy(editor)).not.toContain(`guest:${guest.body.data.id}`);
      // Asking for the hidden entity by name finds nothing, and its record's history is refused.
      expect(await seenBy(editor, '?entity=guest')).toEqual([]);
      expect(await seenBy(admin, '?entity=guest')).toEqual([`guest:${guest.body.data.id}`]);
      expect((await call(editor, 'GET', `/api/v1/guests/${guest.body.data.id}/history`)).status).toBe(403);
    } finally {
      await strict.stop();
      await ownDb.drop();
      copy.remove();
    }
  });

  it('checks each batch operation and script version route against its own permission', async () => {
    const batch = await as<{ status: number }[]>(viewer, 'POST', '/api/v1/shows/batch', {
      body: { operations: [{ op: 'create', data: { title: 'Batch by viewer' } }] },
    });
    expect(batch.body.data.map((r) => r.status)).toEqual([403]);
    const mixed = await as<{ status: number }[]>(editor, 'POST', '/api/v1/shows/batch', {
      body: { operations: [{ op: 'create', data: { title: 'Batch by editor' } }] },
    });
    expect(mixed.body.data.map((r) => r.status)).toEqual([201]);
    const showId = (await as(editor, 'POST', '/api/v1/shows', { body: { title: 'Scripted' } })).body.data.id;
    const episode = (
      await as(editor, 'POST', '/api/v1/episodes', { body: { title: 'Pilot', show_id: showId, season: 1 } })
    ).body.data;
    const version = { text: 'INT. STUDIO', file_reference: 's3://bucket/scripts/pilot.pdf' };
    expect((await as(viewer, 'POST', `/api/v1/episodes/${episode.id}/script/versions`, { body: version })).status).toBe(
      403,
    );
    expect((await as(editor, 'POST', `/api/v1/episodes/${episode.id}/script/versions`, { body: version })).status).toBe(
      201,
    );
    expect((await as(viewer, 'GET', `/api/v1/episodes/${episode.id}/script`)).status).toBe(200);
    expect(
      (await as(viewer, 'PUT', `/api/v1/episodes/${episode.id}/script/active`, { body: { version: 1 } })).status,
    ).toBe(403);
  });
});

describe('AUTH_MODE=off', () => {
  it('serves everyone as an admin named by X-Actor, and says so loudly at start', async () => {
    const { logger, lines } = collectingLogger();
    const open = await startService(
      { ...testConfig(), port: 0, host: '127.0.0.1', databaseUrl: db.url, authMode: 'off' },
      logger,
    );
    try {
      const request = serviceClient(open.url);
      const created = await request<Rec>('POST', '/api/v1/shows', {
        body: { title: 'Open show' },
        headers: { 'x-actor': 'lala' },
      });
      expect(created.status).toBe(201);
      expect((await request('DELETE', `/api/v1/shows/${created.body.data.id}?hard=true`)).status).toBe(200);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 40, msg: expect.stringMatching(/^AUTH_MODE=off: authentication is OFF/) }),
      );
    } finally {
      await open.stop();
    }
  });

  it('is the default only without DATABASE_URL', () => {
    expect(loadConfig({}).authMode).toBe('off');
    expect(loadConfig({ DATABASE_URL: 'postgres://db.internal/reelmeta' }).authMode).toBe('cognito');
    expect(loadConfig({ DATABASE_URL: 'postgres://db.internal/reelmeta', AUTH_MODE: 'off' }).authMode).toBe('off');
    expect(() => loadConfig({ AUTH_MODE: 'maybe' })).toThrow(/AUTH_MODE must be one of off, cognito/);
    expect(
      loadConfig({ COGNITO_USER_POOL_ID: USER_POOL_ID, COGNITO_CLIENT_ID: 'a, b', COGNITO_TOKEN_USE: 'access' })
        .cognito,
    ).toMatchObject({ clientIds: ['a', 'b'], tokenUse: ['access'] });
  });
});
