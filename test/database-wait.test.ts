// A busy pool (issue 13): when every connection is in use a request waits for one at most
// DB_CONNECT_TIMEOUT_MS and then answers 503 DATABASE_UNAVAILABLE, instead of queueing for ever;
// and a write that stopped waiting (answered 503, or its client went away) never runs later, when
// a connection frees up. Two requests held on a row lock fill a pool of two. And a connection whose
// backend dies mid-query is given up by the pool, not counted in use for ever.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

const BOUND_MS = 1500;
let db: TestDatabase;
let service: TestService;

beforeAll(async () => {
  db = await createTestDatabase();
  service = await startTestService({ databaseUrl: db.url, poolSize: 2, dbConnectTimeoutMs: BOUND_MS });
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const lockWaiters = async () =>
  (
    await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
      [db.name],
    )
  )[0]!.n;

/**
 * Fills the pool of two: a connection of the test's own locks a new show's row, and two PATCHes of
 * it then wait on that lock, each holding a pooled connection inside its transaction.
 */
async function fillPool(title: string) {
  const show = (await service.request<{ id: string }>('POST', '/api/v1/shows', { body: { title } })).body.data;
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM shows WHERE id = $1 FOR UPDATE', [show.id]);
    const held = [1, 2].map((i) =>
      service.request('PATCH', `/api/v1/shows/${show.id}`, { body: { title: `${title} ${i}` } }),
    );
    await waitFor(async () => (await lockWaiters()) >= 2, 'two requests to hold the pool');
    return { show, holder, held };
  } catch (error) {
    await holder.end();
    throw error;
  }
}

describe('every connection in use', () => {
  it('answers 503 after DB_CONNECT_TIMEOUT_MS, and a write that stopped waiting never lands', async () => {
    // Both pooled connections wait on the lock inside a transaction.
    const { holder, held } = await fillPool('Held');
    try {
      const started = performance.now();
      const waited = await service.request('POST', '/api/v1/shows', { body: { title: 'Waited past the bound' } });
      const elapsed = performance.now() - started;
      expect(waited.status, JSON.stringify(waited.body)).toBe(503);
      expect(waited.body.errors[0]).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect(Number(waited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 50); // it did queue: the pool was busy, not down

      // A client that gives up long before the bound: its request must not run once the pool frees.
      await expect(
        fetch(`${service.url}/api/v1/shows`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'Client gave up' }),
          signal: AbortSignal.timeout(200),
        }),
      ).rejects.toThrow();
      await sleep(200);

      // Free the pool well within the bound of the abandoned request.
      await holder.query('ROLLBACK');
      expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
      const after = await service.request('POST', '/api/v1/shows', { body: { title: 'After the pool freed' } });
      expect(after.status, JSON.stringify(after.body)).toBe(201);
      await sleep(BOUND_MS);
      const titles = (await db.query<{ title: string }>('SELECT title FROM shows ORDER BY title')).map((r) => r.title);
      expect(titles).toEqual(['After the pool freed', expect.stringMatching(/^Held [12]$/)]);
    } finally {
      await holder.end();
    }
  });
});

describe('connections killed mid-query', () => {
  it('are replaced: the pool keeps its size after its backends are terminated', async () => {
    const { show, holder, held } = await fillPool('Killed');
    try {
      await db.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        [db.name],
      );
      for (const reply of await Promise.all(held)) expect(reply.body.errors[0]?.code).toBe('DATABASE_UNAVAILABLE');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // Both connections are usable again: two requests at once, each holding one, both answer.
    const again = await Promise.all(
      [1, 2].map((i) => service.request('PATCH', `/api/v1/shows/${show.id}`, { body: { title: `Again ${i}` } })),
    );
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    const both = await Promise.all(
      [1, 2].map((i) => service.request('POST', '/api/v1/shows', { body: { title: `New ${i}` } })),
    );
    expect(both.map((r) => r.status)).toEqual([201, 201]);
  });
});
