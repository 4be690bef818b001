// Idempotency-Key on POST over real HTTP and PostgreSQL: a retried POST runs once and answers the
// first answer again; a key stands for one request of one caller; a key in use answers 409; keys
// expire; a failed (5xx) request leaves its key free; instances share the keys.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabasePool, type DatabasePool } from '../src/db/pool.ts';
import { purgeIdempotencyKeys } from '../src/idempotency/key-store.ts';
import { startFakeUserPool, type FakeUserPool } from './support/cognito.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type Reply, type RequestOptions, type TestService, type Rec } from './support/service.ts';

let db: TestDatabase;
/** AUTH_MODE=off, keys kept the default 24 hours. */
let service: TestService;
/** Another instance on the same database: keys kept 1 second, statements cancelled after 1.5 s. */
let brief: TestService;
/** AUTH_MODE=cognito on the same database. */
let secured: TestService;
let userPool: FakeUserPool;
let pool: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase();
  service = await startTestService({ databaseUrl: db.url });
  brief = await startTestService({ databaseUrl: db.url, idempotencyKeyTtlSeconds: 1, statementTimeoutMs: 1500 });
  userPool = await startFakeUserPool();
  await userPool.addKey('key-1');
  secured = await startTestService({ databaseUrl: db.url, authMode: 'cognito', cognito: userPool.settings() });
  pool = await createDatabasePool(db.url, 2);
});

afterAll(async () => {
  await pool?.end();
  await secured?.stop();
  await userPool?.close();
  await brief?.stop();
  await service?.stop();
  await db?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A POST carrying `key` as its Idempotency-Key. */
const post = <T = Rec>(
  target: TestService,
  path: string,
  key: string,
  options: RequestOptions = {},
): Promise<Reply<T>> =>
  target.request<T>('POST', path, { ...options, headers: { 'idempotency-key': key, ...options.headers } });

async function count(sql: string, values: unknown[]): Promise<number> {
  const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, values);
  return Number(rows[0]!.n);
}

const newShow = (title: string): Promise<Rec> => service.create({ title }, 'shows');

function expectReplayOf(replay: Reply, first: Reply) {
  expect(replay.status).toBe(first.status);
  expect(replay.body).toEqual(first.body);
  for (const header of ['location', 'etag', 'content-type'])
    expect(replay.headers.get(header), header).toBe(first.headers.get(header));
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(first.headers.get('idempotent-replayed')).toBeNull();
}

describe('a retried POST', () => {
  it('creates one episode, numbered once, and the retry answers the first status, body, Location and ETag', async () => {
    const show = await newShow('Retried');
    const key = randomUUID();
    const body = { title: 'Pilot', show_id: show.id, season: 1 };
    const first = await post(service, '/api/v1/episodes', key, { body });
    expect(first.status).toBe(201);
    expect(first.body.data.episode_number).toBe(1);
    expect(first.headers.get('location')).toBe(`/api/v1/episodes/${first.body.data.id}`);
    const retry = await post(service, '/api/v1/episodes', key, { body });
    expectReplayOf(retry, first);
    expect(await count('episodes WHERE show_id = $1', [show.id])).toBe(1);

    // Without a key the same two requests make two episodes, numbered 1 and 2: the defect the key fixes.
    const bare = await newShow('Not retried safely');
    for (const n of [1, 2]) {
      const reply = await service.request<Rec>('POST', '/api/v1/episodes', { body: { ...body, show_id: bare.id } });
      expect(reply.body.data.episode_number).toBe(n);
    }
  });

  it('takes the key as the draft writes it (a quoted string) or bare, as the same key', async () => {
    const key = `k-${randomUUID()}`;
    const first = await post(service, '/api/v1/shows', key, { body: { title: 'Quoted' } });
    expect(first.status).toBe(201);
    expectReplayOf(await post(service, '/api/v1/shows', `"${key}"`, { body: { title: 'Quoted' } }), first);
    const escaped = await post(service, '/api/v1/shows', '"a \\"quoted\\" key"', { body: { title: 'Escaped' } });
    expectReplayOf(await post(service, '/api/v1/shows', 'a "quoted" key', { body: { title: 'Escaped' } }), escaped);
    expect(await count("shows WHERE title IN ('Quoted', 'Escaped')", [])).toBe(2);
  });

  it('replays a stored 4xx answer too: the same request would fail the same way', async () => {
    const key = randomUUID();
    const first = await post(service, '/api/v1/episodes', key, { body: { title: 'Bad', status: 'not-a-status' } });
    expect(first.status).toBe(422);
    expectReplayOf(
      await post(service, '/api/v1/episodes', key, { body: { title: 'Bad', status: 'not-a-status' } }),
      first,
    );
  });

  it('runs once on every POST route: batch, restore and revert', async () => {
    const batchKey = randomUUID();
    const title = `Batched ${batchKey}`;
    const operations = {
      operations: [
        { op: 'create', data: { title } },
        { op: 'create', data: { title } },
      ],
    };
    const batch = await post(service, '/api/v1/episodes/batch', batchKey, { body: operations });
    expect(batch.status).toBe(200);
    expectReplayOf(await post(service, '/api/v1/episodes/batch', batchKey, { body: operations }), batch);
    expect(await count('episodes WHERE title = $1', [title])).toBe(2);
    // ?atomic=true is another request.
    const atomic = await post(service, '/api/v1/episodes/batch?atomic=true', batchKey, { body: operations });
    expect(atomic.status).toBe(422);
    expect(atomic.body.errors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
    expect(await count('episodes WHERE title = $1', [title])).toBe(2);

    const episode = (await service.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'Restored once' } })).body
      .data;
    expect((await service.request('DELETE', `/api/v1/episodes/${episode.id}`)).status).toBe(200);
    const restoreKey = randomUUID();
    const restored = await post(service, `/api/v1/episodes/${episode.id}/restore`, restoreKey);
    expect(restored.status).toBe(200);
    expectReplayOf(await post(service, `/api/v1/episodes/${episode.id}/restore`, restoreKey), restored);
    expect(await count("audit_entries WHERE record_id = $1 AND operation = 'restore'", [episode.id])).toBe(1);

    const patched = await service.request<Rec>('PATCH', `/api/v1/episodes/${episode.id}`, {
      body: { title: 'Renamed' },
    });
    expect(patched.status).toBe(200);
    const [entry] = await db.query<{ id: string }>(
      "SELECT id FROM audit_entries WHERE record_id = $1 AND operation = 'update'",
      [episode.id],
    );
    const revertKey = randomUUID();
    const reverted = await post(service, `/api/v1/episodes/${episode.id}/revert`, revertKey, {
      body: { audit_id: entry!.id },
    });
    expect(reverted.status, JSON.stringify(reverted.body.errors)).toBe(200);
    expectReplayOf(
      await post(service, `/api/v1/episodes/${episode.id}/revert`, revertKey, { body: { audit_id: entry!.id } }),
      reverted,
    );
    expect(await count("audit_entries WHERE record_id = $1 AND operation = 'revert'", [episode.id])).toBe(1);
  });

  it('is shared by the instances on one database: a key used on one replays on another', async () => {
    const key = randomUUID();
    const first = await post(service, '/api/v1/shows', key, { body: { title: 'Two instances' } });
    expect(first.status).toBe(201);
    expectReplayOf(await post(brief, '/api/v1/shows', key, { body: { title: 'Two instances' } }), first);
    expect(await count("shows WHERE title = 'Two instances'", [])).toBe(1);
  });
});

describe('every POST route', () => {
  it('is documented with the header, replays a stored answer and refuses another request under the key', async () => {
    const document = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { parameters?: { $ref?: string }[] } }>;
      components: { parameters: Record<string, { name: string; in: string }> };
    };
    expect(document.components.parameters.IdempotencyKey).toMatchObject({ name: 'Idempotency-Key', in: 'header' });
    const posts = Object.entries(document.paths).filter(([path, item]) => path.startsWith('/api/') && item.post);
    expect(posts.length).toBeGreaterThan(20);
    for (const [template, item] of posts) {
      expect(
        item.post!.parameters?.map((p) => p.$ref),
        template,
      ).toContain('#/components/parameters/IdempotencyKey');
      // Ids that match nothing: every route answers a 4xx, which is kept like any answer.
      const path = template.replace(/\{[^}]+\}/g, 'nothing_here');
      const key = randomUUID();
      const first = await post(service, path, key, { body: { nothing: true } });
      expect(first.status, `${template}: ${JSON.stringify(first.body.errors)}`).toBeLessThan(500);
      const retry = await post(service, path, key, { body: { nothing: true } });
      expect(retry.status, template).toBe(first.status);
      expect(retry.headers.get('idempotent-replayed'), template).toBe('true');
      const other = await post(service, path, key, { body: { nothing: false } });
      expect(other.status, template).toBe(422);
      expect(other.body.errors[0]!.code, template).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await post(service, path, '', { body: { nothing: true } })).status, template).toBe(400);
    }
  });
});

describe('a key used for another request', () => {
  it('answers 422 IDEMPOTENCY_KEY_REUSED for another body or another path, and runs nothing', async () => {
    const key = randomUUID();
    expect((await post(service, '/api/v1/shows', key, { body: { title: 'Original' } })).status).toBe(201);
    const otherBody = await post(service, '/api/v1/shows', key, { body: { title: 'Changed' } });
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.errors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
    expect(otherBody.body.errors[0]!.message).toContain('with another body');
    const otherPath = await post(service, '/api/v1/episodes', key, { body: { title: 'Original' } });
    expect(otherPath.status).toBe(422);
    expect(otherPath.body.errors[0]!.message).toContain('POST /api/v1/shows, not POST /api/v1/episodes');
    expect(await count("shows WHERE title = 'Changed'", [])).toBe(0);
    expect(await count("episodes WHERE title = 'Original'", [])).toBe(0);
  });
});

describe('concurrent requests with one key', () => {
  it('run once: every other answer is the same answer replayed or 409 IDEMPOTENCY_KEY_IN_USE', async () => {
    for (let round = 0; round < 3; round++) {
      const key = randomUUID();
      const body = { title: `Concurrent ${key}` };
      const replies = await Promise.all(
        Array.from({ length: 8 }, () => post(service, '/api/v1/episodes', key, { body })),
      );
      expect(await count('episodes WHERE title = $1', [body.title])).toBe(1);
      const ran = replies.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
      expect(ran).toHaveLength(1);
      for (const reply of replies) {
        if (reply.status === 409) {
          expect(reply.body.errors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', field: 'Idempotency-Key' });
          expect(reply.headers.get('retry-after')).toBe('1');
        } else expect(reply.body).toEqual(ran[0]!.body);
      }
    }
  });

  it('answers 409 while another instance holds the key, and takes over a claim whose request died', async () => {
    const key = randomUUID();
    const body = { title: `Claimed ${key}` };
    expect((await post(service, '/api/v1/episodes', key, { body })).status).toBe(201);
    // As if another instance had claimed the key and were still running the request.
    await db.query(
      "UPDATE idempotency_keys SET state = 'in_progress', locked_until = now() + interval '1 minute', status = NULL, headers = NULL, body = NULL WHERE key = $1",
      [key],
    );
    const busy = await post(service, '/api/v1/episodes', key, { body });
    expect(busy.status).toBe(409);
    expect(busy.body.errors[0]!.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    // Its lease lapsed without renewal: that instance died, so the retry runs and its answer is kept.
    await db.query("UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = $1", [key]);
    const taken = await post(service, '/api/v1/episodes', key, { body });
    expect(taken.status).toBe(201);
    expect(taken.headers.get('idempotent-replayed')).toBeNull();
    expectReplayOf(await post(service, '/api/v1/episodes', key, { body }), taken);
  });
});

describe('keys are per caller', () => {
  it('with tokens: two users sending one key each get their own record, and each retry replays its own', async () => {
    const alice = await userPool.token('alice', ['editor']);
    const bob = await userPool.token('bob', ['editor']);
    const key = randomUUID();
    const body = { title: `Per caller ${key}` };
    const as = (token: string) => post(secured, '/api/v1/episodes', key, { body, token });
    const [forAlice, forBob] = [await as(alice), await as(bob)];
    expect([forAlice.status, forBob.status]).toEqual([201, 201]);
    expect(forAlice.body.data.id).not.toBe(forBob.body.data.id);
    expectReplayOf(await as(alice), forAlice);
    expectReplayOf(await as(bob), forBob);
    expect(await count('episodes WHERE title = $1', [body.title])).toBe(2);
  });

  it('with AUTH_MODE=off: callers named by X-Actor have separate keys', async () => {
    const key = randomUUID();
    const body = { title: `Per actor ${key}` };
    const as = (actor: string) => post(service, '/api/v1/episodes', key, { body, headers: { 'x-actor': actor } });
    const [one, two] = [await as('one'), await as('two')];
    expect(one.body.data.id).not.toBe(two.body.data.id);
    expectReplayOf(await as('one'), one);
    expect(await count('episodes WHERE title = $1', [body.title])).toBe(2);
  });
});

describe('expiry', () => {
  it('forgets a key after its time: the same request runs again', async () => {
    const key = randomUUID();
    const body = { title: `Expiring ${key}` };
    const first = await post(brief, '/api/v1/episodes', key, { body });
    expect(first.status).toBe(201);
    expectReplayOf(await post(brief, '/api/v1/episodes', key, { body }), first);
    await sleep(1200);
    const later = await post(brief, '/api/v1/episodes', key, { body });
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(later.body.data.id).not.toBe(first.body.data.id);
  });

  it('purges the keys past their time and keeps the others', async () => {
    const [expired, kept] = [randomUUID(), randomUUID()];
    expect((await post(brief, '/api/v1/shows', expired, { body: { title: 'Purged key' } })).status).toBe(201);
    expect((await post(service, '/api/v1/shows', kept, { body: { title: 'Kept key' } })).status).toBe(201);
    await sleep(1200);
    expect(await purgeIdempotencyKeys(pool)).toBeGreaterThanOrEqual(1);
    expect(await count('idempotency_keys WHERE key = $1', [expired])).toBe(0);
    expect(await count('idempotency_keys WHERE key = $1', [kept])).toBe(1);
    expect(await count('idempotency_keys WHERE expires_at <= now()', [])).toBe(0);
  });
});

describe('a request that fails', () => {
  it('with a 5xx leaves the key free: the retry runs, once', async () => {
    const key = randomUUID();
    const body = { title: `Timed out ${key}` };
    // Writes to episodes wait behind this lock until brief's statement timeout answers 503.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE episodes IN EXCLUSIVE MODE');
      const failed = await post(brief, '/api/v1/episodes', key, { body });
      expect(failed.status).toBe(503);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    expect(await count('idempotency_keys WHERE key = $1', [key])).toBe(0);
    const retry = await post(brief, '/api/v1/episodes', key, { body });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expectReplayOf(await post(brief, '/api/v1/episodes', key, { body }), retry);
    expect(await count('episodes WHERE title = $1', [body.title])).toBe(1);
  });
});

describe('the body a keyed POST may send', () => {
  /** A POST whose body is streamed (chunked, no Content-Length) or sent with its length. */
  const send = (key: string, text: string, chunked: boolean) =>
    fetch(`${service.url}/api/v1/episodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      ...(chunked ? { body: new Blob([text]).stream(), duplex: 'half' } : { body: text }),
    } as RequestInit);

  for (const chunked of [false, true]) {
    it(`is still held to the route's limit (${chunked ? 'chunked' : 'with Content-Length'}), and a body within it is read as sent`, async () => {
      const title = `Big ${randomUUID()}`;
      const big = JSON.stringify({ title, description: 'x'.repeat(1_100_000) });
      const tooLarge = await send(randomUUID(), big, chunked);
      expect(tooLarge.status).toBe(413);
      const fine = await send(randomUUID(), JSON.stringify({ title, description: 'fits' }), chunked);
      expect(fine.status).toBe(201);
      expect(((await fine.json()) as { data: Rec }).data.description).toBe('fits');
      expect(await count('episodes WHERE title = $1', [title])).toBe(1);
    });
  }

  it('larger than any route takes answers 413 before the key is claimed', async () => {
    const key = randomUUID();
    const reply = await send(key, JSON.stringify({ title: 'x'.repeat(17 * 1024 * 1024) }), true);
    expect(reply.status).toBe(413);
    expect(await count('idempotency_keys WHERE key = $1', [key])).toBe(0);
  });
});

describe('a malformed key', () => {
  const bad = ['', '   ', 'x'.repeat(256), 'tab\there', 'caf\u00e9', '"unterminated', '"a\\b"', '""', '"in"side"'];
  for (const value of bad) {
    it(`answers 400 INVALID_IDEMPOTENCY_KEY for ${JSON.stringify(value.length > 20 ? `${value.slice(0, 8)}… (${value.length})` : value)}, and runs nothing`, async () => {
      const title = `Malformed ${randomUUID()}`;
      const reply = await post(service, '/api/v1/shows', value, { body: { title } });
      expect(reply.status).toBe(400);
      expect(reply.body.errors[0]).toMatchObject({ code: 'INVALID_IDEMPOTENCY_KEY', field: 'Idempotency-Key' });
      expect(await count('shows WHERE title = $1', [title])).toBe(0);
    });
  }

  it('accepts a key of 255 printable characters', async () => {
    const key = `${randomUUID()}${'~'.repeat(255 - 36)}`;
    const first = await post(service, '/api/v1/shows', key, { body: { title: 'Long key' } });
    expect(first.status).toBe(201);
    expectReplayOf(await post(service, '/api/v1/shows', key, { body: { title: 'Long key' } }), first);
  });
});
