// The restore drill (NFR-5, NFR-6): a server on the embedded PostgreSQL archives its WAL and takes
// its first base backup by itself; records are written, the time T is noted, more are written,
// changed and deleted; `reelmeta restore --to T` into a new folder, served by a second server, holds
// exactly what was there at T (records and audit trail), and the live one is untouched. It also
// measures the RPO the archive settings give: how long a write waits until its WAL is archived.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveSpan, listBackups } from '../src/db/backup/catalog.ts';
import { backupLayout } from '../src/db/backup/layout.ts';
import { freePort } from '../src/db/embedded.ts';
import { runCli } from './support/cli.ts';
import { spawnServer, stopServer } from './support/server-process.ts';
import { serviceClient, type Rec, type Request } from './support/service.ts';

const ARCHIVE_TIMEOUT_SECONDS = 10;
const dirs: string[] = [];
const servers: ChildProcess[] = [];

afterAll(async () => {
  for (const server of servers) await stopServer(server);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const tempDir = (name: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), `reelmeta-${name}-`));
  // Run as root, PostgreSQL is the postgres user, who must be able to enter the folder.
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
};

/** `reelmeta serve` on the embedded PostgreSQL in `dataDir`, whatever the run's own database is. */
async function embeddedServer(dataDir: string): Promise<Request> {
  const port = await freePort();
  servers.push(
    await spawnServer({
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      RATE_LIMIT_ENABLED: 'false',
      BACKUP_ARCHIVE_TIMEOUT_SECONDS: String(ARCHIVE_TIMEOUT_SECONDS),
    }),
  );
  return serviceClient(`http://127.0.0.1:${port}`);
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const episode = async (request: Request, title: string): Promise<Rec> => {
  const reply = await request<Rec>('POST', '/api/v1/episodes', { body: { title, status: 'in-production' } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.data;
};

const titles = async (request: Request) => {
  const reply = await request<Rec[]>('GET', '/api/v1/episodes?_fields=title&_sort=title&_limit=100');
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data.map((r) => r.title);
};

const auditOf = async (request: Request, id: string) => {
  const reply = await request<Rec[]>('GET', `/api/v1/episodes/${id}/history`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data.map((entry) => entry.operation);
};

describe('backups and point-in-time restore of the embedded PostgreSQL', () => {
  it('restores exactly what was written before T into a new DATA_DIR that a server then serves', async () => {
    const live = tempDir('live');
    const layout = backupLayout(path.join(live, 'backups'));
    const request = await embeddedServer(live);
    // BACKUP_EVERY_HOURS defaults to 24: the first start takes a base backup by itself.
    const [first] = await until('the first base backup', () =>
      listBackups(layout).length ? listBackups(layout) : undefined,
    );

    const kept = await episode(request, 'Before A');
    const changed = await episode(request, 'Before B');
    const deleted = await episode(request, 'Before C');
    const patched = await request('PATCH', `/api/v1/episodes/${changed.id}`, { body: { title: 'Before B, renamed' } });
    expect(patched.status, patched.text).toBe(200);
    await sleep(1100);
    const target = new Date().toISOString();
    await sleep(1100);
    await episode(request, 'After D');
    expect((await request('PATCH', `/api/v1/episodes/${changed.id}`, { body: { title: 'After rename' } })).status).toBe(
      200,
    );
    expect((await request('DELETE', `/api/v1/episodes/${deleted.id}`)).status).toBe(200);
    const lastWriteAt = Date.now();

    // RPO: the last write's WAL reaches the archive within archive_timeout, without any help.
    const archivedAt = await until(
      'the last write to be archived',
      () => {
        const newest = archiveSpan(layout).newest_at;
        return newest && Date.parse(newest) > lastWriteAt ? Date.parse(newest) : undefined;
      },
      (ARCHIVE_TIMEOUT_SECONDS + 20) * 1000,
    );
    const rpoSeconds = (archivedAt - lastWriteAt) / 1000;
    console.log(
      `RPO measured: the last write was archived ${rpoSeconds.toFixed(1)} s after it (BACKUP_ARCHIVE_TIMEOUT_SECONDS=${ARCHIVE_TIMEOUT_SECONDS})`,
    );
    expect(rpoSeconds).toBeLessThanOrEqual(ARCHIVE_TIMEOUT_SECONDS + 5);

    const listed = await runCli(['backup', 'list', '--json'], { DATA_DIR: live, DATABASE_URL: '' });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { backups: { id: string }[] }).backups.map((b) => b.id)).toEqual([first!.id]);

    const into = path.join(tempDir('restored'), 'data');
    const restored = await runCli(['restore', '--to', target, '--into', into], { DATA_DIR: live, DATABASE_URL: '' });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`restored to ${target} from base backup ${first!.id}`);
    console.log(restored.stdout.trim());

    const before = await embeddedServer(into);
    expect(await titles(before)).toEqual(['Before A', 'Before B, renamed', 'Before C']);
    expect(await auditOf(before, changed.id)).toEqual(['update', 'create']);
    expect(await auditOf(before, deleted.id)).toEqual(['create']);
    expect(await auditOf(before, kept.id)).toEqual(['create']);
    const audit = await before<Rec[]>('GET', '/api/v1/audit?_limit=100');
    expect(audit.body.data.every((entry) => Date.parse(String(entry.at)) <= Date.parse(target))).toBe(true);
    // The restored folder is a database of its own: it takes writes, and the live one does not see them.
    await episode(before, 'Only in the restore');

    expect(await titles(request)).toEqual(['After D', 'After rename', 'Before A']);
    expect(await auditOf(request, changed.id)).toEqual(['update', 'update', 'create']);

    // The live server stopped, a restore to a time after its last write: nothing in the archive is
    // later, so all of it is replayed, the segment the stop left unarchived (taken from pg_wal) too.
    expect(await stopServer(servers[0]!)).toBe(0);
    const latest = path.join(tempDir('latest'), 'data');
    const toNow = await runCli(['restore', '--to', new Date().toISOString(), '--into', latest], {
      DATA_DIR: live,
      DATABASE_URL: '',
    });
    expect(toNow.code, toNow.stderr).toBe(0);
    expect(toNow.stdout).toMatch(/nothing in the WAL archive is later than \S+: restored all of it/);
    expect(await titles(await embeddedServer(latest))).toEqual(['After D', 'After rename', 'Before A']);
  }, 180_000);

  it('refuses what would overwrite or cannot be restored, with a message and no stack trace', async () => {
    const live = tempDir('refusals');
    const env = { DATA_DIR: live, DATABASE_URL: '' };
    const into = tempDir('into');
    const cases: [string[], RegExp][] = [
      [['restore', '--to', 'yesterday', '--into', into], /--to must be an ISO 8601 time with its zone/],
      [['restore', '--to', '2999-01-01T00:00:00Z', '--into', into], /is in the future/],
      [
        ['restore', '--to', new Date().toISOString(), '--into', path.join(live, 'inside')],
        /overlaps the live DATA_DIR/,
      ],
      [['restore', '--to', new Date().toISOString(), '--into', into], /there are no base backups/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const outside = await runCli(['backup'], { DATA_DIR: live, DATABASE_URL: 'postgres://127.0.0.1:1/none' });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/DATABASE_URL is set, so back that server up with its own tools/);
  }, 60_000);
});
