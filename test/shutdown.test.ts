// Graceful shutdown (issue 7): on SIGTERM the server refuses new connections at once, lets every
// request already in flight finish, answers /ready with 503 draining, then closes the pool and
// exits 0. Requests are held in flight by a row lock (and a lock on the migrations table for /ready).
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnServer, stopServer } from './support/server-process.ts';
import { serviceClient } from './support/service.ts';

let db: TestDatabase;
const servers: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const server of servers) await stopServer(server);
  await db?.drop();
});

/** A plain HTTP request on a fresh connection (no pooled keep-alive socket to hide a refusal). */
function freshRequest(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** How many of the test database's connections wait on a lock. */
async function lockWaiters(): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
    [db.name],
  );
  return row!.n;
}

/**
 * A server on its own port, and a show whose row `holder` keeps locked (FOR UPDATE in an open
 * transaction), so a write to it stays in flight until the holder rolls back.
 */
async function serverWithLockedShow(title: string, shutdownTimeoutMs: number) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await spawnServer({
    PORT: String(port),
    DATABASE_URL: db.url,
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
  });
  servers.push(server);
  let output = '';
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  const request = serviceClient(base);
  const show = (await request<{ id: string }>('POST', '/api/v1/shows', { body: { title } })).body.data;
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM shows WHERE id = $1 FOR UPDATE', [show.id]);
  return { base, server, exited, request, show, holder, output: () => output };
}

describe('SIGTERM', () => {
  it('finishes every request in flight, refuses new connections, answers /ready draining, and exits 0', async () => {
    const { base, server, exited, request, show, holder, output } = await serverWithLockedShow(
      'Before shutdown',
      20_000,
    );
    try {
      await holder.query('LOCK TABLE reelmeta_migrations IN ACCESS EXCLUSIVE MODE');
      const patches = Array.from({ length: 5 }, (_, i) =>
        request<{ title: string }>('PATCH', `/api/v1/shows/${show.id}`, { body: { title: `In flight ${i}` } }),
      );
      const ready = fetch(`${base}/ready`).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { status: string },
      }));
      // Every one of them is now waiting on a lock inside the server.
      await waitFor(async () => (await lockWaiters()) >= 6, 'six requests blocked on locks');

      server.kill('SIGTERM');
      await waitFor(async () => output().includes('shutting down'), 'the shutdown log line');
      // New connections are refused, not answered with a 5xx.
      await expect(freshRequest(`${base}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await sleep(300);
      expect(server.exitCode).toBeNull(); // still draining: it waits for the locked requests

      await holder.query('ROLLBACK');
      const answers = await Promise.all(patches);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await ready).toEqual({ status: 503, body: expect.objectContaining({ status: 'draining' }) });
      expect(await exited).toBe(0);
    } finally {
      await holder.end();
    }
    // The work done while draining is in the database.
    const [row] = await db.query<{ title: string }>('SELECT title FROM shows WHERE id = $1', [show.id]);
    expect(row!.title).toMatch(/^In flight \d$/);
    expect(output()).toContain('"msg":"stopped"');
  });

  it('closes the connections of requests still running after SHUTDOWN_TIMEOUT_MS, and still exits 0', async () => {
    const { server: slow, exited, request, show, holder } = await serverWithLockedShow('Stuck', 500);
    try {
      const stuck = request('PATCH', `/api/v1/shows/${show.id}`, { body: { title: 'Never' } }).then(
        (reply) => reply.status,
        () => 'connection closed',
      );
      await waitFor(async () => (await lockWaiters()) >= 1, 'the request to block');
      const started = performance.now();
      slow.kill('SIGTERM');
      // The client sees its connection closed, never a 5xx.
      expect(await stuck).toBe('connection closed');
      expect(await exited).toBe(0);
      expect(performance.now() - started).toBeLessThan(15_000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const [row] = await db.query<{ title: string }>('SELECT title FROM shows WHERE id = $1', [show.id]);
    expect(row!.title).toBe('Stuck');
  });
});
