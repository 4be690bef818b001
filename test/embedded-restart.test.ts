// The embedded PostgreSQL dying under a running server (issue 13): the server notices, answers 503
// DATABASE_UNAVAILABLE promptly meanwhile, starts it again and serves the same data; SIGTERM still
// exits 0. With no restarts allowed it exits 1 and says why. Real server processes (`reelmeta
// serve` without DATABASE_URL), each with its own DATA_DIR; the postmaster is killed with SIGKILL.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { spawnServer, stopServer } from './support/server-process.ts';
import { serviceClient } from './support/service.ts';

const dirs: string[] = [];
const servers: ChildProcess[] = [];

afterAll(async () => {
  for (const server of servers) await stopServer(server);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const postmasterPid = (dataDir: string) =>
  Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function embeddedServer(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'reelmeta-embedded-'));
  dirs.push(dataDir);
  const port = await freePort();
  // DATABASE_URL empty: the embedded PostgreSQL, whatever the test run itself uses.
  const server = await spawnServer({
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  servers.push(server);
  let output = '';
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  return { dataDir, server, exited, request: serviceClient(`http://127.0.0.1:${port}`), output: () => output };
}

describe('the embedded PostgreSQL dies', () => {
  it('is started again while requests answer 503 promptly; the data is there after; SIGTERM exits 0', async () => {
    const { dataDir, server, exited, request, output } = await embeddedServer();
    const show = await request<{ id: string }>('POST', '/api/v1/shows', { body: { title: 'Survives the crash' } });
    expect(show.status).toBe(201);
    const first = postmasterPid(dataDir);
    process.kill(first, 'SIGKILL');

    const answers: { status: number; code?: string; ms: number }[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      const reply = await request<{ title: string }>('GET', `/api/v1/shows/${show.body.data.id}`);
      // A backend of the killed postmaster may still answer a query or two before it notices its
      // parent is gone: a 200 before the outage shows is one of those, not the restart.
      if (reply.status === 200 && answers.length === 0 && i < 50) {
        await sleep(20);
        continue;
      }
      answers.push({ status: reply.status, code: reply.body.errors[0]?.code, ms: performance.now() - started });
      if (reply.status === 200) {
        expect(reply.body.data.title).toBe('Survives the crash');
        break;
      }
      await sleep(20);
    }
    expect(answers.at(-1)?.status, JSON.stringify(answers.slice(-3))).toBe(200);
    const outage = answers.slice(0, -1);
    expect(outage.length).toBeGreaterThan(0);
    for (const answer of outage)
      expect(answer, JSON.stringify(answer)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(answers.filter((a) => a.ms > 2500)).toEqual([]);
    expect(output()).toContain('the embedded PostgreSQL exited unexpectedly');
    // Logged once the start has finished, a moment after the database began to answer.
    for (let i = 0; i < 100 && !output().includes('the embedded PostgreSQL is running again'); i++) await sleep(50);
    expect(output()).toContain('the embedded PostgreSQL is running again');
    const second = postmasterPid(dataDir);
    expect(second).not.toBe(first);
    expect((await request('POST', '/api/v1/shows', { body: { title: 'After the crash' } })).status).toBe(201);

    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(isAlive(second)).toBe(false);
  });

  it('exits 0 on SIGTERM while the database is down and being restarted', async () => {
    const { dataDir, server, exited, request } = await embeddedServer();
    const pid = postmasterPid(dataDir);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(10);
    const reply = await request('GET', '/api/v1/shows');
    expect(reply.body.errors[0]?.code).toBe('DATABASE_UNAVAILABLE');
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('exits 1 with the reason once EMBEDDED_DB_RESTARTS is spent', async () => {
    const { dataDir, exited, output } = await embeddedServer({ EMBEDDED_DB_RESTARTS: '0' });
    process.kill(postmasterPid(dataDir), 'SIGKILL');
    expect(await exited).toBe(1);
    expect(output()).toMatch(
      /the embedded PostgreSQL stopped and could not be started again after 0 attempts \(EMBEDDED_DB_RESTARTS\)/,
    );
  });
});
