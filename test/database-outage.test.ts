// The database going away (issue 7): while PostgreSQL is down, reads and writes answer 503
// DATABASE_UNAVAILABLE with Retry-After (never a 500), /ready says so, /health stays alive, and
// the process keeps running; once it is back on the same address the service serves again, with
// the data intact. The test owns its embedded PostgreSQL, so it can stop and restart it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { startService, type RunningService } from '../src/service.ts';
import { serviceClient } from './support/service.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'reelmeta-outage-'));
let port: number;
let database: EmbeddedDatabase | undefined;
let service: RunningService | undefined;
const lines: { level: number; msg: string; [key: string]: unknown }[] = [];

const startDatabase = () => startEmbeddedPostgres({ dataDir, database: 'reelmeta_outage', port });

beforeAll(async () => {
  port = await freePort();
  database = await startDatabase();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  service = await startService({ ...loadConfig({}), port: 0, host: '127.0.0.1', databaseUrl: database.url }, pino({ level: 'info' }, sink));
});

afterAll(async () => {
  await service?.stop();
  await database?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('PostgreSQL stops and comes back', () => {
  it('answers 503 DATABASE_UNAVAILABLE while it is down and recovers when it returns', async () => {
    const request = serviceClient(service!.url);
    const created = await request<{ id: string }>('POST', '/api/v1/shows', { body: { title: 'Outlives the outage' } });
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    expect((await request('GET', `/api/v1/shows/${id}`)).status).toBe(200);

    await database!.stop();
    database = undefined;

    for (const attempt of [
      () => request('GET', `/api/v1/shows/${id}`),
      () => request('GET', '/api/v1/shows?title=x'),
      () => request('POST', '/api/v1/shows', { body: { title: 'During the outage' } }),
      () => request('PATCH', `/api/v1/shows/${id}`, { body: { title: 'Changed during the outage' } }),
    ]) {
      const reply = await attempt();
      expect(reply.status, JSON.stringify(reply.body)).toBe(503);
      expect(reply.body.errors[0]).toMatchObject({ code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(/database/) });
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const ready = await fetch(`${service!.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    expect((await fetch(`${service!.url}/health`)).status).toBe(200);
    // Logged as a warning about the database, never as an unhandled error.
    expect(lines.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    expect(lines.some((l) => l.level === 40 && l.msg === 'database unavailable')).toBe(true);

    database = await startDatabase();
    const back = await request<{ title: string }>('GET', `/api/v1/shows/${id}`);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.data.title).toBe('Outlives the outage');
    expect((await request('POST', '/api/v1/shows', { body: { title: 'After the outage' } })).status).toBe(201);
    expect((await fetch(`${service!.url}/ready`)).status).toBe(200);
    const list = await request<{ title: string }[]>('GET', '/api/v1/shows?_sort=title');
    expect(list.body.data.map((s) => s.title)).toEqual(['After the outage', 'Outlives the outage']);
  });
});
