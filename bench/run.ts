// `npm run bench`: seed a bench database, start the service and a hand-written baseline as child
// processes, load both with the same requests, print and write bench/RESULTS.md.
//
// Environment: BENCH_DATABASE_URL (a server to create reelmeta_bench on; default: embedded
// PostgreSQL in .data/bench), BENCH_N (episodes, default 1,000,000), BENCH_DURATION (measured
// seconds, default 10), BENCH_WARMUP (default 3), BENCH_CONNECTIONS (default 20), BENCH_SEED_ONLY
// (set to 1 to stop after seeding).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { startServer, type ServerChild } from './children.ts';
import {
  forgetBenchUploads,
  migrateBenchDatabase,
  openBenchDatabase,
  postgresVersion,
  sampleIds,
  waitForIdle,
} from './database.ts';
import { probe, runLoad, stopCurrentLoad, type LoadOptions, type Probe } from './load.ts';
import { checkTargets, markdown, textTable, type Measurement, type ServerName } from './report.ts';
import { buildScenarios, type Scenario } from './scenarios.ts';
import { ensureSeeded } from './seed.ts';
import { benchMedia } from './media.ts';

const POOL_SIZE = '20';
const SAMPLE_IDS = 10_000;

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
}

const log = (line: string) => console.log(line);

/** Cleanup steps, run newest first, each bounded so a stuck one cannot hang the exit. */
const cleanups: { name: string; run: () => Promise<void> }[] = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) {
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 20_000).unref());
    await Promise.race([
      step.run().catch((error: unknown) => console.error(`cleanup: ${step.name}: ${(error as Error).message}`)),
      timeout,
    ]);
  }
}

let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) {
    // A second Ctrl-C: stop waiting for a graceful shutdown (embedded.ts's exit hook still stops PostgreSQL).
    process.exit(130);
  }
  interrupted = true;
  console.error(`\n${signal}: stopping the load, the servers and the database ...`);
  stopCurrentLoad();
  void cleanup().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

interface ProbeNote {
  readonly scenario: Scenario;
  readonly line: string;
  /** A non-200 answer, or the two servers disagreeing on the records. */
  readonly problem: boolean;
}

function describeProbe(server: ServerName, { status, body, ms }: Probe): string {
  const label = `${server} ${status} in ${ms.toFixed(0)} ms`;
  if (typeof body !== 'object' || body === null) return `${label}: ${String(body).slice(0, 200)}`;
  const envelope = body as {
    data?: unknown;
    metadata?: { total?: unknown; total_is_estimate?: unknown };
    errors?: { code?: string; message?: string }[];
  };
  if (status < 200 || status > 299) {
    const error = envelope.errors?.[0];
    return `${label}: ${error ? `${error.code ?? ''} ${error.message ?? ''}`.trim() : JSON.stringify(body).slice(0, 200)}`;
  }
  const count = Array.isArray(envelope.data)
    ? `${envelope.data.length} records, `
    : `record ${String((envelope.data as { id?: unknown } | null)?.id)}`;
  const total =
    envelope.metadata?.total !== undefined
      ? `total ${String(envelope.metadata.total)}${envelope.metadata.total_is_estimate ? ' (estimate)' : ''}`
      : '';
  return `${label}: ${count}${total}`.replace(/, $/, '');
}

const ids = (body: unknown): string[] | undefined => {
  const data = (body as { data?: unknown } | null)?.data;
  if (Array.isArray(data)) return data.map((r) => String((r as { id?: unknown }).id));
  if (data && typeof data === 'object') return [String((data as { id?: unknown }).id)];
  return undefined;
};

/** One request per path (three for the id list) to both servers: what works, and whether they agree. */
async function preflight(
  scenarios: readonly Scenario[],
  servers: Record<ServerName, ServerChild>,
): Promise<ProbeNote[]> {
  const notes: ProbeNote[] = [];
  for (const scenario of scenarios) {
    for (const p of scenario.paths.slice(0, scenario.kind === 'single' ? 3 : undefined)) {
      // One after the other, so each time is that of a request on an otherwise idle machine.
      const mine = await probe(servers.reelmeta.url, p);
      const base = await probe(servers.baseline.url, p);
      const agree =
        mine.status === 200 && base.status === 200
          ? JSON.stringify(ids(mine.body)) === JSON.stringify(ids(base.body))
            ? 'same ids'
            : 'DIFFERENT ids'
          : '';
      const line = `${decodeURIComponent(p)} → ${describeProbe('reelmeta', mine)}; ${describeProbe('baseline', base)}${agree ? `; ${agree}` : ''}`;
      log(`  (${scenario.key}) ${line}`);
      notes.push({ scenario, line, problem: mine.status !== 200 || base.status !== 200 || agree === 'DIFFERENT ids' });
    }
  }
  return notes;
}

async function main(): Promise<void> {
  const n = envInt('BENCH_N', 1_000_000, 1);
  const load: LoadOptions = {
    connections: envInt('BENCH_CONNECTIONS', 20, 1),
    warmupSeconds: envInt('BENCH_WARMUP', 3, 0),
    durationSeconds: envInt('BENCH_DURATION', 10, 1),
  };
  const seedOnly = ['1', 'true', 'yes'].includes((process.env.BENCH_SEED_ONLY ?? '').toLowerCase());

  const database = await openBenchDatabase(log);
  cleanups.push({ name: 'database', run: () => database.stop() });
  await migrateBenchDatabase(database.url, path.join(PROJECT_ROOT, 'migrations'), log);
  const seed = await ensureSeeded(
    database.url,
    n,
    Math.round((envInt('BENCH_CLIPS', 5_000_000, 0) * n) / 1_000_000),
    log,
  );
  if (seedOnly || interrupted) return;

  const pgVersion = await postgresVersion(database.url);
  const ids = await sampleIds(database.url, SAMPLE_IDS);
  const scenarios = buildScenarios(ids);
  const env = { DATABASE_URL: database.url, DB_POOL_SIZE: POOL_SIZE, LOG_LEVEL: 'warn', AUTH_MODE: 'off' };
  log('servers: starting reelmeta and the baseline ...');
  // Rate limiting off: the load comes from one address at far more than an anonymous caller's limit.
  // Its embedded S3 server (for the media line) keeps its files beside the bench database.
  const reelmeta = await startServer({
    name: 'reelmeta',
    script: ['src/cli.ts', 'serve'],
    env: {
      ...env,
      MIGRATE_ON_START: 'false',
      RATE_LIMIT_ENABLED: 'false',
      DATA_DIR: path.join(PROJECT_ROOT, '.data', 'bench-media'),
      JOBS_WORKER: 'false',
    },
  });
  cleanups.push({ name: 'reelmeta', run: () => reelmeta.stop() });
  const baseline = await startServer({ name: 'baseline', script: ['bench/baseline-server.ts'], env });
  cleanups.push({ name: 'baseline', run: () => baseline.stop() });
  const servers = { reelmeta, baseline };
  log(`servers: reelmeta ${reelmeta.url}, baseline ${baseline.url}`);

  log('preflight: one request per path to both servers');
  const probeNotes = await preflight(scenarios, servers);

  const measurements: Measurement[] = [];
  for (const scenario of scenarios) {
    for (const name of ['reelmeta', 'baseline'] as const) {
      if (interrupted) return;
      log(
        `load: (${scenario.key}) ${scenario.title} on ${name}: ${load.warmupSeconds} s warm-up + ${load.durationSeconds} s, ${load.connections} connections`,
      );
      await waitForIdle(database.url, 30, log);
      const result = await runLoad(servers[name].url, scenario.paths, load);
      if (interrupted) return;
      const flag =
        result.non2xx > 0 || result.errors > 0
          ? `  ⚠ ${result.non2xx} non-2xx, ${result.errors} errors (${result.timeouts} timeouts)`
          : '';
      log(
        `      ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms${flag}`,
      );
      measurements.push({ scenario, server: name, result });
    }
  }
  if (interrupted) return;
  await waitForIdle(database.url, 30, log);
  const media = await benchMedia(
    reelmeta.url,
    ids[0]!,
    { connections: load.connections, seconds: load.durationSeconds },
    log,
  );
  await forgetBenchUploads(database.url);
  if (interrupted) return;

  const checks = scenarios
    .filter((s) => !s.informational)
    .flatMap((s) => {
      const mine = measurements.find((m) => m.scenario.key === s.key && m.server === 'reelmeta');
      const base = measurements.find((m) => m.scenario.key === s.key && m.server === 'baseline');
      return mine ? checkTargets(s, mine.result, base?.result) : [];
    });
  const table = textTable(measurements, checks);
  log(`\n${table}\n`);

  const serverLogs = (Object.values(servers) as ServerChild[])
    .filter((s) => s.lines() > 0)
    .map(
      (s) =>
        `${s.name} wrote ${s.lines()} log line(s) at warn or above; the last: \`${s.output.at(-1)?.slice(0, 300) ?? ''}\``,
    );
  for (const line of serverLogs) log(line);
  const cpus = os.cpus();
  const report = markdown(measurements, checks, {
    date: new Date().toISOString(),
    machine: [
      `CPU: ${cpus[0]?.model.trim() ?? 'unknown'} × ${cpus.length}`,
      `memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      `Node.js ${process.version} on ${os.type()} ${os.release()}`,
      `PostgreSQL: ${pgVersion}`,
      `database: ${database.label}`,
    ],
    settings: [
      `BENCH_N = ${n.toLocaleString('en-US')} episodes; seed ${seed.reused ? 'reused, originally took' : 'took'} ${seed.seconds.toFixed(1)} s (${Math.round(n / seed.seconds).toLocaleString('en-US')} rows/s)`,
      `load: autocannon, ${load.connections} connections, ${load.warmupSeconds} s warm-up then ${load.durationSeconds} s measured, per scenario and server`,
      `servers: child processes, DB pool of ${POOL_SIZE} connections each, LOG_LEVEL=warn; (a) reads ${scenarios[0]!.paths.length.toLocaleString('en-US')} sampled ids at random`,
    ],
    preflight: probeNotes.map((p) => `(${p.scenario.key}) \`${p.line}\`${p.problem ? ' ⚠' : ''}`),
    notes: serverLogs,
    media: media.lines,
  });
  const file = path.join(PROJECT_ROOT, 'bench', 'RESULTS.md');
  writeFileSync(file, report);
  log(`wrote ${path.relative(process.cwd(), file) || file}`);
}

try {
  await main();
} catch (error) {
  // After Ctrl-C, failures are just the database going away under us: the signal handler exits.
  if (!interrupted) {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.DEBUG && error instanceof Error) console.error(error.stack);
    process.exitCode = 1;
  }
}
if (!interrupted) {
  await cleanup();
  process.exit(process.exitCode ?? 0);
}
