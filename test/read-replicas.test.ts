// Read replicas with read-your-writes (seed 8.8, NFR-7), against a real streaming replica the test
// makes with `pg_basebackup -R` from a primary of its own (the machine's PostgreSQL binaries):
// reads go to the replica, a read holding a write's consistency token never misses that write, a
// replica that lags or goes down leaves the rotation and comes back, /ready and /metrics say so,
// and stopping and starting the replica under load fails no request. Also the start-up check that
// warns when a server of one's own has WAL archiving off or failing.
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'slonik';
import { backupWarnings } from '../src/db/backup/server-checks.ts';
import { createDatabasePool } from '../src/db/pool.ts';
import { routeReads } from '../src/db/read-routing.ts';
import { ReplicaSet } from '../src/db/replicas.ts';
import { allowReplicaReads, inRequestScope } from '../src/db/request-scope.ts';
import { startService } from '../src/service.ts';
import { pgBinariesPresent, PG_BIN_DIR, startPrimary, startReplica, type Cluster } from './support/pg-cluster.ts';
import { testConfig } from './support/s3.ts';
import { collectingLogger } from './support/log-lines.ts';
import { withClient, type Rec, type TestService } from './support/service.ts';

const MAX_LAG_MS = 1500;
let primary: Cluster;
let replica: Cluster;
let service: TestService;
const collected = collectingLogger();
const logLines = collected.lines;

const ready = async () =>
  (await service.request<never>('GET', '/ready')).body as unknown as {
    status: string;
    replicas: { name: string; state: string; lag_ms: number | null; reason?: string }[];
  };

const replicaState = async () => (await ready()).replicas[0]!.state;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const readsOn = async (target: 'primary' | 'replica') => {
  const text = (await service.request('GET', '/metrics')).text;
  return Number(new RegExp(`^db_reads_total\\{target="${target}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
};

describe.skipIf(!pgBinariesPresent)(`read replicas (PostgreSQL binaries in ${PG_BIN_DIR})`, () => {
  beforeAll(async () => {
    primary = await startPrimary();
    await primary.query('CREATE DATABASE reelmeta');
    replica = await startReplica(primary);
    const running = await startService(
      {
        ...testConfig(),
        port: 0,
        host: '127.0.0.1',
        databaseUrl: primary.url('reelmeta'),
        replicas: { urls: [replica.url('reelmeta')], maxLagMs: MAX_LAG_MS, checkIntervalMs: 100 },
      },
      collected.logger,
    );
    service = withClient(running);
  }, 180_000);

  afterAll(async () => {
    await service?.stop();
    await replica?.remove();
    await primary?.remove();
  });

  it('says at start that the primary has WAL archiving off', () => {
    const warning = logLines.find((l) => l.code === 'ARCHIVING_OFF');
    expect(String(warning?.msg)).toMatch(/WAL archiving is off on the database server: no point-in-time recovery/);
  });

  it('shows the replica in rotation on /ready and /metrics, without its credentials', async () => {
    const answer = await ready();
    expect(answer.status).toBe('ok');
    expect(answer.replicas).toEqual([
      expect.objectContaining({ name: `127.0.0.1:${replica.port}/reelmeta`, state: 'in_rotation' }),
    ]);
    const metrics = (await service.request('GET', '/metrics')).text;
    expect(metrics).toMatch(
      new RegExp(`db_replica_in_rotation\\{replica="127.0.0.1:${replica.port}/reelmeta",state="in_rotation"\\} 1`),
    );
    expect(metrics).toMatch(/db_replica_lag_seconds\{replica="[^"]+"\} \d/);
  });

  it('reads from the replica; a read holding the write’s token sees the write even while the replica is behind', async () => {
    const created = await service.create({ title: 'Replica check', status: 'in-production' });
    const token = (
      await service.request('PATCH', `/api/v1/episodes/${created.id}`, { body: { title: 'Renamed' } })
    ).headers.get('reelmeta-consistency');
    expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    await until('the replica to replay the rename', async () => {
      const read = await service.request<Rec>('GET', `/api/v1/episodes/${created.id}`);
      return read.status === 200 && read.body.data.title === 'Renamed';
    });
    const onReplica = await readsOn('replica');
    for (let i = 0; i < 5; i++)
      expect((await service.request('GET', `/api/v1/episodes/${created.id}`)).status).toBe(200);
    expect(await readsOn('replica')).toBeGreaterThanOrEqual(onReplica + 5);

    // Replay paused: the replica still answers, but no longer has what is written now.
    await replica.query('SELECT pg_wal_replay_pause()');
    try {
      const write = await service.request<Rec>('POST', '/api/v1/episodes', {
        body: { title: 'Written while the replica waits', status: 'in-production' },
      });
      expect(write.status).toBe(201);
      const written = write.headers.get('reelmeta-consistency')!;
      const path = `/api/v1/episodes/${write.body.data.id}`;
      // Without the token, the read went to the replica, which has not seen the write: the routing is real.
      expect((await service.request('GET', path)).status).toBe(404);
      // With it, never a miss: the replica has not replayed it, so the primary answers.
      const primaryReads = await readsOn('primary');
      const mine = await service.request<Rec>('GET', path, { headers: { 'Reelmeta-Consistency': written } });
      expect(mine.status, mine.text).toBe(200);
      expect(mine.body.data.title).toBe('Written while the replica waits');
      expect(await readsOn('primary')).toBeGreaterThan(primaryReads);
      // Past REPLICA_MAX_LAG_MS it leaves the rotation, and every read sees the write.
      await until('the paused replica to be out of rotation', async () => (await replicaState()) === 'lagging');
      expect((await service.request('GET', path)).status).toBe(200);
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()');
    }
    await until('the replica back in rotation', async () => (await replicaState()) === 'in_rotation');
  });

  it('runs a statement that writes, sent as a read, on the primary, and keeps the replica in rotation', async () => {
    const primaryPool = await createDatabasePool(primary.url('reelmeta'), 2);
    const set = new ReplicaSet(
      primaryPool,
      [{ name: 'replica', pool: await createDatabasePool(replica.url('reelmeta'), 2) }],
      { maxLagMs: MAX_LAG_MS, checkIntervalMs: 100, logger: pino({ level: 'silent' }) },
    );
    await set.start();
    const reads: string[] = [];
    const pool = routeReads(primaryPool, set, { countRead: (target) => reads.push(target) });
    try {
      await primaryPool.query(sql.unsafe`CREATE TABLE IF NOT EXISTS routing_check (n int)`);
      const asGet = <T>(work: () => Promise<T>) =>
        inRequestScope(
          () => undefined,
          () => {
            allowReplicaReads(undefined);
            return work();
          },
        );
      const [before, inserted, after] = await asGet(async () => [
        await pool.oneFirst(sql.unsafe`SELECT pg_is_in_recovery()`),
        await pool.oneFirst(sql.unsafe`INSERT INTO routing_check VALUES (1) RETURNING n`),
        await pool.oneFirst(sql.unsafe`SELECT pg_is_in_recovery()`),
      ]);
      // The first read ran on the replica; the insert was refused there and ran on the primary,
      // and so did the read after it; the replica is still in rotation.
      expect([before, inserted, after]).toEqual([true, 1, false]);
      expect(reads).toEqual(['replica', 'primary', 'primary']);
      expect(set.status()[0]!.state).toBe('in_rotation');
      // Outside a read-only request, everything is the primary's.
      expect(await pool.oneFirst(sql.unsafe`SELECT pg_is_in_recovery()`)).toBe(false);
      // …and is not counted as a read: the metric counts read-only requests' queries only.
      expect(reads).toEqual(['replica', 'primary', 'primary']);
    } finally {
      await set.stop();
      await primaryPool.end();
    }
  });

  it('answers 400 for a consistency token that is not a WAL position', async () => {
    const reply = await service.request('GET', '/api/v1/episodes', { headers: { 'Reelmeta-Consistency': 'soon' } });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ code: 'INVALID_HEADER', field: 'Reelmeta-Consistency' });
  });

  it('fails no request while the replica is stopped and started under load; every client reads its own writes', async () => {
    let stop = false;
    const failures: string[] = [];
    let requests = 0;
    const client = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const write = await service.request<Rec>('POST', '/api/v1/episodes', {
          body: { title: `Load ${n}.${i}`, status: 'in-production' },
        });
        requests += 1;
        if (write.status !== 201) {
          failures.push(`POST ${write.status} ${write.text.slice(0, 200)}`);
          continue;
        }
        const token = write.headers.get('reelmeta-consistency') ?? '';
        const read = await service.request<Rec>('GET', `/api/v1/episodes/${write.body.data.id}`, {
          headers: { 'Reelmeta-Consistency': token },
        });
        const list = await service.request('GET', '/api/v1/episodes?_limit=5&_sort=-created_at');
        requests += 2;
        if (read.status !== 200 || read.body.data.title !== `Load ${n}.${i}`)
          failures.push(`GET own write ${read.status} ${read.text.slice(0, 200)}`);
        if (list.status !== 200) failures.push(`GET list ${list.status} ${list.text.slice(0, 200)}`);
      }
    };
    const clients = Array.from({ length: 4 }, (_, n) => client(n));
    await sleep(1000);
    const stopped = performance.now();
    await replica.stop();
    await until('the stopped replica to be down', async () => (await replicaState()) === 'down');
    expect((await ready()).status).toBe('ok');
    await sleep(1000);
    await replica.start();
    await until('the restarted replica back in rotation', async () => (await replicaState()) === 'in_rotation');
    const awayMs = performance.now() - stopped;
    const onReplica = await readsOn('replica');
    await sleep(1000);
    stop = true;
    await Promise.all(clients);
    console.log(
      `replica stopped and started under load: ${requests} requests by 4 clients, ${failures.length} failed; out of rotation for ${Math.round(awayMs)} ms`,
    );
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
    // Reads went back to it once it returned.
    expect(await readsOn('replica')).toBeGreaterThan(onReplica);
    const states = logLines.filter((l) => l.replica !== undefined).map((l) => l.state);
    expect(states).toContain('down');
    expect(states.at(-1)).toBe('in_rotation');
  }, 120_000);
});

describe.skipIf(!pgBinariesPresent)('the start-up check of a server of one’s own', () => {
  it('warns when WAL archiving fails, and not when it works', async () => {
    const failing = await startPrimary(['archive_mode = on', "archive_command = 'false'"]);
    const working = await startPrimary(['archive_mode = on', "archive_command = 'true'"]);
    try {
      for (const server of [failing, working]) {
        await server.query('CREATE TABLE t AS SELECT 1 AS one');
        await server.query('SELECT pg_switch_wal()');
      }
      await until('the archiver to try', async () => {
        const [row] = await failing.query<{ failed: number }>('SELECT failed_count AS failed FROM pg_stat_archiver');
        return row!.failed > 0;
      });
      await until('the archiver to succeed', async () => {
        const [row] = await working.query<{ n: number }>('SELECT archived_count AS n FROM pg_stat_archiver');
        return row!.n > 0;
      });
      const [warning] = await backupWarnings(failing.url());
      expect(warning).toMatchObject({ code: 'ARCHIVER_FAILING' });
      expect(warning!.message).toMatch(/WAL archiver is failing \(\d+ failures, last for [0-9A-F]{24}/);
      expect(await backupWarnings(working.url())).toEqual([]);
    } finally {
      await failing.remove();
      await working.remove();
    }
  }, 120_000);
});
