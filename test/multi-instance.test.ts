// Several instances (issue 18), each `reelmeta serve` as its own process on a real PostgreSQL:
// 1. SIGKILL in the middle of a concurrent write load loses no acknowledged write: every id the
//    server answered 201 for is in the table, with the values it was acknowledged with (read
//    straight from the table, and through a second server started afterwards), and no row exists
//    that no client sent.
// 2. A rolling deploy of a registry change (one new optional field, 2.2.0 → 2.3.0, codegen and its
//    online migration) across three instances on one database, under reads and writes spread by a
//    load balancer that follows /ready: no request fails (no 5xx, no reset after sending), every
//    acknowledged write is stored, the old instances keep serving once the new column exists (and
//    an old instance's PATCH keeps the new field's value), and every restarted instance serves the
//    new field.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { freePort } from '../src/db/embedded.ts';
import { bumped } from '../src/evolution/releases.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { NEXT_MIGRATION, REGISTRY_VERSION } from './support/project-facts.ts';
import { stopServer } from './support/server-process.ts';
import { testS3Env } from './support/s3.ts';

type Rec = Record<string, unknown> & { id: string };

interface Answer {
  status: number;
  text: string;
  json(): { data: Rec; metadata: Record<string, unknown>; errors: unknown[] };
}

/** A failure to get an answer; `code` is the socket error's (ECONNREFUSED: nothing was sent). */
class NoAnswer extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One request on a connection of its own (no keep-alive socket shared between requests), so a
 * refused connection always means the request was never sent.
 */
function send(port: number, method: string, urlPath: string, body?: unknown, timeoutMs = 20_000): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method,
      path: urlPath,
      agent: false,
      headers: {
        'x-actor': 'load',
        ...(payload === undefined
          ? {}
          : {
              'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
              'content-length': String(Buffer.byteLength(payload)),
            }),
      },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new NoAnswer('CLIENT_TIMEOUT', `no answer in ${timeoutMs} ms`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error: NodeJS.ErrnoException) => reject(new NoAnswer(error.code ?? 'EBODY', error.message)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(error instanceof NoAnswer ? error : new NoAnswer(error.code ?? 'EUNKNOWN', error.message)),
    );
    req.end(payload);
  });
}

const children: ChildProcess[] = [];
const databases: TestDatabase[] = [];
let copy: ProjectCopy | undefined;

interface Server {
  readonly child: ChildProcess;
  /** The last part of its output, for failure messages. */
  readonly output: () => string;
}

/**
 * `reelmeta serve` as its own process, as support/server-process.ts's spawnServer starts it, except
 * that the child is recorded before it listens: one that never gets there is still stopped in
 * afterAll (spawnServer's promise rejects without handing it out).
 */
function start(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AUTH_MODE: 'off',
      RATE_LIMIT_ENABLED: 'false',
      ...testS3Env(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      if (!listening && output.includes('reelmeta is listening')) {
        listening = true;
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`server exited with ${code ?? signal} before listening:\n${output}`));
    });
  });
}

afterAll(async () => {
  await Promise.all(
    children
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map(async (child) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await stopServer(child);
        clearTimeout(timer);
      }),
  );
  for (const db of databases) await db.drop().catch(() => undefined);
  copy?.remove();
});

/** The table's rows as JSON (column name → value), by id. */
async function storedEpisodes(db: TestDatabase): Promise<Map<string, Record<string, unknown>>> {
  const rows = await db.query<{ row: Record<string, unknown> }>('SELECT to_jsonb(e) AS row FROM episodes e');
  return new Map(rows.map(({ row }) => [row.id as string, row]));
}

/** A column value against an API value: timestamps as instants, everything else as JSON. */
function sameValue(column: unknown, api: unknown): boolean {
  const instant = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;
  if (typeof column === 'string' && typeof api === 'string' && instant.test(column) && instant.test(api))
    return Math.abs(Date.parse(column) - Date.parse(api)) < 1;
  return JSON.stringify(column) === JSON.stringify(api);
}

/** The fields of an acknowledged record whose column holds something else (or no row at all). */
function differences(stored: Record<string, unknown> | undefined, acknowledged: Rec, fields: readonly string[]) {
  if (!stored) return ['no row'];
  return fields.filter((f) => !sameValue(stored[f], acknowledged[f])).map((f) => `${f}: ${JSON.stringify(stored[f])}`);
}

/** The fields compared between the table and the acknowledgement. */
const STORED_FIELDS = [
  'id',
  'title',
  'season',
  'episode_number',
  'status',
  'tags',
  'description',
  'location',
  'created_at',
  'updated_at',
  'schema_version',
] as const;

/** A valid episode, different for every number (so no unique set collides). */
function episodeBody(label: string, n: number): Record<string, unknown> {
  return {
    title: `${label} #${n}`,
    season: 1,
    episode_number: n,
    status: n % 2 === 0 ? 'in-production' : 'draft',
    tags: [' Load ', `client-${n % 7}`],
    description: `Written under load as number ${n}.`,
    location: { name: `Studio ${n % 3}`, city: 'New York', country: 'US' },
  };
}

describe('one instance killed with SIGKILL under a write load', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    databases.push(db);
  });

  it('keeps every acknowledged write, as acknowledged, and no write nobody sent', { timeout: 90_000 }, async () => {
    const started = performance.now();
    const port = await freePort();
    const { child: server, output } = await start({ DATABASE_URL: db.url, PORT: String(port) });
    const phases = [`started by ${Math.round(performance.now() - started)} ms`];
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      server.once('exit', (_code, signal) => resolve(signal)),
    );

    const CLIENTS = 8;
    const KILL_AFTER = 400;
    const acknowledged = new Map<string, Rec>();
    const sentTitles = new Set<string>();
    const cut: { title: string; code: string }[] = [];
    const unexpected: string[] = [];
    let inFlight = 0;
    let inFlightAtKill = -1;
    let answeredAfterKill = 0;
    let killed = false;
    let next = 1;

    const client = async () => {
      while (!killed) {
        const body = episodeBody('Durability', next++);
        sentTitles.add(body.title as string);
        inFlight++;
        try {
          const answer = await send(port, 'POST', '/api/v1/episodes', body);
          if (killed) answeredAfterKill++;
          if (answer.status === 201) {
            const data = answer.json().data;
            acknowledged.set(data.id, data);
          } else unexpected.push(`${answer.status} ${answer.text.slice(0, 300)}`);
        } catch (error) {
          if (killed && error instanceof NoAnswer) cut.push({ title: body.title as string, code: error.code });
          else unexpected.push(String(error));
        } finally {
          inFlight--;
        }
        if (!killed && acknowledged.size >= KILL_AFTER) {
          killed = true;
          inFlightAtKill = inFlight;
          server.kill('SIGKILL');
        }
        if (unexpected.length > 0) break;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    expect(unexpected, output()).toEqual([]);
    expect(await exited).toBe('SIGKILL');
    phases.push(`killed by ${Math.round(performance.now() - started)} ms`);

    // Straight from the table: every acknowledged id, with the values it was acknowledged with.
    const stored = await storedEpisodes(db);
    const lost = [...acknowledged.values()]
      .map((rec) => ({ id: rec.id, differences: differences(stored.get(rec.id), rec, STORED_FIELDS) }))
      .filter((d) => d.differences.length > 0);
    expect(lost).toEqual([]);
    // Nothing but what the clients sent, and of the requests cut by the kill, some may be stored.
    const storedTitles = [...stored.values()].map((row) => row.title as string);
    expect(storedTitles.filter((title) => !sentTitles.has(title))).toEqual([]);
    const cutTitles = new Set(cut.map((c) => c.title));
    const cutButStored = storedTitles.filter((title) => cutTitles.has(title)).length;
    expect(stored.size).toBe(acknowledged.size + cutButStored);

    // A server started afterwards on the same database serves each of them exactly as acknowledged.
    const secondPort = await freePort();
    const { child: second, output: secondOutput } = await start({ DATABASE_URL: db.url, PORT: String(secondPort) });
    phases.push(`second server started by ${Math.round(performance.now() - started)} ms`);
    const ids = [...acknowledged.keys()];
    const mismatches: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let i = worker; i < ids.length; i += 4) {
          const answer = await send(secondPort, 'GET', `/api/v1/episodes/${ids[i]}`);
          if (answer.status !== 200) mismatches.push(`${ids[i]}: ${answer.status} ${answer.text.slice(0, 200)}`);
          else if (JSON.stringify(answer.json().data) !== JSON.stringify(acknowledged.get(ids[i]!)))
            mismatches.push(`${ids[i]}: ${answer.text.slice(0, 400)}`);
        }
      }),
    );
    expect(mismatches, secondOutput()).toEqual([]);
    expect(await stopServer(second)).toBe(0);

    console.info(
      `SIGKILL: ${acknowledged.size} writes acknowledged by ${CLIENTS} clients; ${inFlightAtKill} in flight at the kill ` +
        `(${answeredAfterKill} of them answered before the process died, ${cut.length} cut: ` +
        `${[...new Set(cut.map((c) => c.code))].join(', ')}; ${cutButStored} of the cut ones stored); ` +
        `${stored.size} rows; ${phases.join(', ')}; ${Math.round(performance.now() - started)} ms`,
    );
  });
});

interface Instance {
  readonly index: number;
  readonly port: number;
  child: ChildProcess;
  output: () => string;
  generation: 'old' | 'new';
  /** What the last /ready poll said (and false after a refused connection, until a poll says 200). */
  ready: boolean;
}

describe('a rolling deploy of a registry change across three instances', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    databases.push(db);
    copy = copyProject();
  });

  it('serves every request, keeps every acknowledged write, and the new field from each restarted instance', {
    timeout: 120_000,
  }, async () => {
    const project = copy!;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const ports = [await freePort(), await freePort(), await freePort()];
    const envFor = (port: number) => ({ DATABASE_URL: db.url, PORT: String(port), ...project.env });

    // Three instances of 2.2.0 started at once on the empty database: one migrates, the other two
    // wait for the migration lock by polling it (src/db/migrator.ts untilLocked). Waiting in a
    // blocking pg_advisory_lock instead deadlocked with the migration's CREATE INDEX CONCURRENTLY.
    const launch = async (port: number, index: number): Promise<Instance> => {
      const { child, output } = await start(envFor(port));
      return { index, port, child, output, generation: 'old', ready: false };
    };
    const instances: Instance[] = await Promise.all(ports.map((port, index) => launch(port, index)));
    const outputs = () => instances.map((i) => `--- instance ${i.index} (${i.generation}):\n${i.output()}`).join('\n');

    // The load balancer's health checks: /ready on each instance every 200 ms.
    let running = true;
    const pollers = instances.map(async (instance) => {
      while (running) {
        instance.ready = await send(instance.port, 'GET', '/ready', undefined, 2_000).then(
          (answer) => answer.status === 200,
          () => false,
        );
        await sleep(200);
      }
    });
    const waitReady = async (instance: Instance) => {
      for (let i = 0; i < 600 && !instance.ready; i++) await sleep(50);
      if (!instance.ready) throw new Error(`instance ${instance.index} never became ready:\n${instance.output()}`);
    };
    for (const instance of instances) await waitReady(instance);

    // The clients, through the load balancer: round robin over the ready instances.
    const failures: string[] = [];
    const acknowledged = new Map<string, Rec>();
    const answered = { old: 0, new: 0 };
    let oldAnsweredAfterMigration = 0;
    let migrated = false;
    let newFieldLive = false;
    let requests = 0;
    let rerouted = 0;
    let turn = 0;
    let next = 1;
    const route = async (method: string, urlPath: string, body?: unknown): Promise<Answer | undefined> => {
      requests++;
      for (let attempt = 0; attempt < 200; attempt++) {
        const ready = instances.filter((i) => i.ready);
        if (ready.length === 0) {
          await sleep(25);
          continue;
        }
        const instance = ready[turn++ % ready.length]!;
        const generation = instance.generation;
        try {
          const answer = await send(instance.port, method, urlPath, body);
          answered[generation]++;
          if (generation === 'old' && migrated) oldAnsweredAfterMigration++;
          if (answer.status >= 500)
            failures.push(
              `${method} ${urlPath} → ${answer.status} from instance ${instance.index} (${generation}): ${answer.text.slice(0, 300)}`,
            );
          return answer;
        } catch (error) {
          if (error instanceof NoAnswer && error.code === 'ECONNREFUSED') {
            // Nothing was sent: the balancer takes the instance out and tries another one.
            instance.ready = false;
            rerouted++;
            continue;
          }
          failures.push(`${method} ${urlPath} → ${String(error)} from instance ${instance.index} (${generation})`);
          return undefined;
        }
      }
      failures.push(`${method} ${urlPath}: no ready instance for 5 s`);
      return undefined;
    };
    const client = async () => {
      while (running) {
        const n = next++;
        const kind = n % 10;
        if (kind < 5 || acknowledged.size === 0) {
          const body = episodeBody('Rolling', n);
          if (newFieldLive) body.sponsor = `Sponsor ${n}`;
          const answer = await route('POST', '/api/v1/episodes', body);
          if (answer?.status === 201) {
            const data = answer.json().data;
            acknowledged.set(data.id, data);
          } else if (answer && answer.status < 500)
            failures.push(`POST → ${answer.status}: ${answer.text.slice(0, 300)}`);
        } else if (kind < 8) {
          const ids = [...acknowledged.keys()];
          const id = ids[Math.floor(Math.random() * ids.length)];
          const answer = await route('GET', `/api/v1/episodes/${id}`);
          if (answer && answer.status !== 200 && answer.status < 500)
            failures.push(`GET ${id} → ${answer.status}: ${answer.text.slice(0, 300)}`);
        } else {
          const answer = await route('GET', '/api/v1/episodes?_limit=5&_sort=-created_at&tags=load');
          if (answer && answer.status !== 200 && answer.status < 500)
            failures.push(`list → ${answer.status}: ${answer.text.slice(0, 300)}`);
        }
        await sleep(30);
      }
    };
    const CLIENTS = 3;
    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    let probe: Rec | undefined;
    const phases: string[] = [`3 instances ready at ${elapsed()} ms`];

    try {
      await sleep(1_000);

      // The registry change, on the copy, while the load runs: one optional field, a minor bump.
      const version = bumped(REGISTRY_VERSION, 'minor');
      project.edit('registry/entities/episode.yaml', (t) =>
        t.replace(
          '  # --- Production content',
          '  sponsor:\n    type: string\n    max_length: 120\n    indexed: true\n    description: Brand sponsoring the episode.\n\n  # --- Production content',
        ),
      );
      project.edit('registry/registry.yaml', (t) =>
        t.replace(/^registry_version: .*$/m, `registry_version: ${version}`),
      );
      const codegen = await runCli(['codegen'], project.env);
      expect(codegen.code, codegen.stderr).toBe(0);
      const migration = `${NEXT_MIGRATION}_add_episodes_sponsor`;
      expect(existsSync(path.join(project.migrationsDir, `${migration}.up.sql`)), codegen.stdout).toBe(true);
      phases.push(`codegen done at ${elapsed()} ms`);

      // The deploy: one instance at a time, drained with SIGTERM, started again on its port.
      for (const instance of instances) {
        const exitCode = await stopServer(instance.child);
        expect(exitCode, instance.output()).toBe(0);
        instance.ready = false;
        const restarted = await start(envFor(instance.port));
        instance.child = restarted.child;
        instance.output = restarted.output;
        instance.generation = 'new';
        await waitReady(instance);
        phases.push(`instance ${instance.index} restarted by ${elapsed()} ms`);

        if (instance.index === 0) {
          // The first one applied the migration; the two others still run 2.2.0 on the new column.
          migrated = true;
          const [row] = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM reelmeta_migrations WHERE version = $1',
            [Number(NEXT_MIGRATION)],
          );
          expect(row!.n, outputs()).toBe(1);
          const created = await send(instance.port, 'POST', '/api/v1/episodes', {
            title: 'Sponsored, from a new instance',
            sponsor: 'Chanel',
          });
          expect(created.status, created.text).toBe(201);
          probe = created.json().data;
          expect(probe.sponsor).toBe('Chanel');
          expect(created.json().metadata.registry_version).toBe(version);
          // An old instance reads it and patches it without losing the field it does not know.
          const oldRead = await send(instances[1]!.port, 'GET', `/api/v1/episodes/${probe.id}`);
          expect(oldRead.status, oldRead.text).toBe(200);
          expect(oldRead.json().data.title).toBe('Sponsored, from a new instance');
          const oldPatch = await send(instances[2]!.port, 'PATCH', `/api/v1/episodes/${probe.id}`, {
            title: 'Sponsored, patched by an old instance',
          });
          expect(oldPatch.status, oldPatch.text).toBe(200);
          const oldWrite = await send(instances[1]!.port, 'POST', '/api/v1/episodes', { title: 'Written by 2.2.0' });
          expect(oldWrite.status, oldWrite.text).toBe(201);
          expect(oldWrite.json().metadata.registry_version).toBe(REGISTRY_VERSION);
        }
      }
      phases.push(`deploy done at ${elapsed()} ms`);

      // Every instance now has the field: the clients send it too.
      newFieldLive = true;
      await sleep(1_000);
    } finally {
      running = false;
      await load;
      await Promise.all(pollers);
    }

    expect(failures, outputs()).toEqual([]);

    // Each restarted instance serves the new field: the probe (patched by an old instance meanwhile).
    for (const instance of instances) {
      const read = await send(instance.port, 'GET', `/api/v1/episodes/${probe!.id}`);
      expect(read.status, read.text).toBe(200);
      expect(read.json().data).toMatchObject({ title: 'Sponsored, patched by an old instance', sponsor: 'Chanel' });
      expect(read.json().metadata.registry_version).toBe(bumped(REGISTRY_VERSION, 'minor'));
      const filtered = await send(instance.port, 'GET', '/api/v1/episodes?sponsor=Chanel&_fields=title,sponsor');
      expect(filtered.status, filtered.text).toBe(200);
      expect(filtered.json().data).toEqual([
        expect.objectContaining({ title: 'Sponsored, patched by an old instance', sponsor: 'Chanel' }),
      ]);
    }

    // Every acknowledged write is in the table as acknowledged (with the new field when sent).
    const stored = await storedEpisodes(db);
    const lost = [...acknowledged.values()]
      .map((rec) => ({
        id: rec.id,
        differences: differences(stored.get(rec.id), rec, [...STORED_FIELDS, ...('sponsor' in rec ? ['sponsor'] : [])]),
      }))
      .filter((d) => d.differences.length > 0);
    expect(lost).toEqual([]);
    const sponsored = [...acknowledged.values()].filter((rec) => typeof rec.sponsor === 'string');
    expect(sponsored.length).toBeGreaterThan(0);

    // The old instances kept answering while the new column existed, and the new ones answered.
    expect(oldAnsweredAfterMigration).toBeGreaterThan(0);
    expect(answered.new).toBeGreaterThan(0);

    console.info(
      `rolling deploy: ${requests} requests (${answered.old} answered by 2.2.0 instances, ${oldAnsweredAfterMigration} of ` +
        `them after the migration; ${answered.new} by 2.3.0 ones), ${rerouted} refused connections rerouted, ` +
        `${failures.length} failed; ${acknowledged.size} writes acknowledged (${sponsored.length} with the new field); ` +
        `${phases.join(', ')}; ${elapsed()} ms`,
    );
  });
});
