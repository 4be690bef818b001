// Operations (NFR-10, NFR-11): /ready knows the database and the migrations, /metrics reports
// requests by route template, query timings, the pool and the process, and every request is one
// log line with its request id, route, status, duration and actor.
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../src/service.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { serviceClient } from './support/service.ts';
import { testConfig } from './support/s3.ts';

let db: TestDatabase;
let service: RunningService;
let request: ReturnType<typeof serviceClient>;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  service = await startService(
    { ...testConfig(), port: 0, host: '127.0.0.1', databaseUrl: db.url },
    pino({ level: 'info' }, sink),
  );
  request = serviceClient(service.url);
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

describe('GET /health', () => {
  it('is liveness only: 200 with the registry version even when the database refuses every query', async () => {
    const admin = new URL(db.url);
    admin.pathname = '/postgres';
    const hold = new pg.Client({ connectionString: admin.toString() });
    await hold.connect();
    try {
      // Every new connection is refused while the database does not allow connections; /health
      // must not care, since it never asks the database.
      await hold.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS false`);
      await hold.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [db.name],
      );
      const reply = await fetch(`${service.url}/health`);
      expect(reply.status).toBe(200);
      expect(await reply.json()).toEqual({ status: 'ok', registry_version: expect.any(String) });
      expect((await fetch(`${service.url}/ready`)).status).toBe(503);
    } finally {
      await hold.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS true`);
      await hold.end();
    }
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
  });
});

describe('GET /ready', () => {
  it('is ready when the database answers and every migration is applied, and says which are pending otherwise', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', database: 'ok', migrations: 'applied' });

    const [last] = await db.query<{ version: number; name: string; checksum: string }>(
      'DELETE FROM reelmeta_migrations WHERE version = (SELECT max(version) FROM reelmeta_migrations) RETURNING version, name, checksum',
    );
    const pending = await fetch(`${service.url}/ready`);
    expect(pending.status).toBe(503);
    expect(await pending.json()).toMatchObject({
      status: 'unavailable',
      migrations: 'pending',
      pending: [String(last!.version).padStart(4, '0')],
    });
    await db.query('INSERT INTO reelmeta_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      last!.version,
      last!.name,
      last!.checksum,
    ]);
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('counts requests by route template, method and status, and reports queries, the pool and the process', async () => {
    const a = (await request<{ id: string }>('POST', '/api/v1/shows', { body: { title: 'Metered' } })).body.data;
    const b = (await request<{ id: string }>('POST', '/api/v1/shows', { body: { title: 'Metered too' } })).body.data;
    await request('GET', `/api/v1/shows/${a.id}`);
    await request('GET', `/api/v1/shows/${b.id}`);
    await request('GET', '/api/v1/shows/show_20250101_missing000');
    await request('GET', '/no/such/route');
    // Routes registered before a wider one that matches too are named as themselves.
    await fetch(`${service.url}/api/v1/shows/export`).then((r) => r.text());
    await request('POST', '/api/v1/clips/register', { body: {} });
    const reply = await fetch(`${service.url}/metrics`);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await reply.text();
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/v1/shows/:id",status="200"} 2',
    );
    expect(text).toContain('http_request_duration_seconds_count{method="POST",route="/api/v1/shows",status="201"} 2');
    expect(text).toContain('http_request_errors_total{method="GET",route="/api/v1/shows/:id",status="404"} 1');
    expect(text).toContain('http_request_errors_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/v1/shows/export",status="200"} 1',
    );
    expect(text).toMatch(
      /^http_request_errors_total\{method="POST",route="\/api\/v1\/clips\/register",status="4\d\d"\} 1$/m,
    );
    expect(text).not.toMatch(/route="\/api\/v1\/clips\/:id"/);
    expect(text).not.toContain(a.id); // raw paths never become labels
    expect(Number(/^db_query_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(4);
    expect(text).toMatch(/^db_pool_connections\{state="idle"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });
});

describe('request log', () => {
  it('writes one line per request with its request id, route, status, duration and actor, and echoes the id', async () => {
    const reply = await request('GET', '/api/v1/shows?status=active', {
      headers: { 'x-request-id': 'req-ops-1', 'x-actor': 'editor-9', authorization: 'Bearer secret-token' },
    });
    expect(reply.headers.get('x-request-id')).toBe('req-ops-1');
    const line = lines.find((l) => l.request_id === 'req-ops-1')!;
    expect(line).toMatchObject({
      msg: 'request',
      method: 'GET',
      route: '/api/v1/shows',
      path: '/api/v1/shows',
      status: 200,
      actor: 'editor-9',
    });
    expect(typeof line.ms).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });
});

describe('statement timeout', () => {
  it('answers 503 TIMEOUT when a query runs past DB_STATEMENT_TIMEOUT_MS, and serves again after', async () => {
    const impatient = await startService(
      { ...testConfig(), port: 0, host: '127.0.0.1', databaseUrl: db.url, statementTimeoutMs: 300 },
      pino({ level: 'silent' }),
    );
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      const show = (await request<{ id: string }>('POST', '/api/v1/shows', { body: { title: 'Locked' } })).body.data;
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM shows WHERE id = $1 FOR UPDATE', [show.id]);
      const started = performance.now();
      const blocked = await serviceClient(impatient.url)('PATCH', `/api/v1/shows/${show.id}`, {
        body: { title: 'Waited' },
      });
      expect(blocked.status).toBe(503);
      expect(blocked.body.errors[0]).toMatchObject({ code: 'TIMEOUT' });
      expect(performance.now() - started).toBeLessThan(5_000);
      await holder.query('ROLLBACK');
      expect(
        (await serviceClient(impatient.url)('PATCH', `/api/v1/shows/${show.id}`, { body: { title: 'Waited' } })).status,
      ).toBe(200);
    } finally {
      await holder.end();
      await impatient.stop();
    }
  });
});
