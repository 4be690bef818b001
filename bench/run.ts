// `npm run bench`: for each data size, seed a bench database, start the service and a hand-written
// baseline as child processes, load both with the same requests at each connection count, export
// once from each, then print and write bench/RESULTS.md.
//
// Environment: BENCH_DATABASE_URL (a server to create reelmeta_bench_<size> on; default: embedded
// PostgreSQL in .data/bench), BENCH_SIZES (episodes per data size, default 100000,1000000; BENCH_N
// runs one size), BENCH_CLIPS (clips at 1,000,000 episodes, scaled with the size; default
// 5,000,000), BENCH_CONNECTIONS (default 20,100), BENCH_DURATION (measured seconds, default 10),
// BENCH_WARMUP (default 3), BENCH_SEED_ONLY (1: stop after seeding).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { POOL_SIZE, buildReelmeta, serverEnv, startReelmeta, startServer, type ServerChild } from './children.ts';
import { compareAnswers } from './compare.ts';
import {
  benchDatabaseName,
  forgetBenchUploads,
  migrateBenchDatabase,
  openBenchServer,
  postgresVersion,
  rememberWritten,
  restoreWritten,
  sampleIds,
  waitForIdle,
} from './database.ts';
import { measureExport, probe, runLoad, stopCurrentLoad, type LoadOptions, type Probe } from './load.ts';
import {
  checkTargets,
  markdown,
  sizeLabel,
  textTable,
  type ExportMeasurement,
  type Measurement,
  type ServerName,
  type TargetCheck,
} from './report.ts';
import { EXPORT_PATH, buildScenarios, type Scenario } from './scenarios.ts';
import { ensureSeeded } from './seed.ts';
import { envInt, envInts } from './env.ts';
import { benchMedia } from './media.ts';

const SAMPLE_IDS = 10_000;
const WRITE_IDS = 2_000;

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
  /** A non-2xx answer, or the two servers answering differently. */
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

/** The answer to a PATCH minus what two writes cannot share (the time of the write). */
const withoutWriteTime = (body: unknown) => {
  const data = (body as { data?: Record<string, unknown> } | null)?.data;
  return data ? { ...(body as object), data: { ...data, updated_at: null } } : body;
};

/**
 * One request per path (three for the long id lists) to both servers, one after the other:
 * what works, and whether the whole answers agree. The write scenario PATCHes one episode with
 * the same body on both; only updated_at may differ.
 */
async function preflight(
  scenarios: readonly Scenario[],
  servers: Record<ServerName, ServerChild>,
): Promise<ProbeNote[]> {
  const notes: ProbeNote[] = [];
  for (const scenario of scenarios) {
    const requests =
      scenario.kind === 'write'
        ? [scenario.request!()]
        : scenario.paths
            .slice(0, scenario.paths.length > 10 ? 3 : undefined)
            .map((p) => ({ method: 'GET' as const, path: p }));
    for (const request of requests) {
      // One after the other, so each time is that of a request on an otherwise idle machine.
      const mine = await probe(servers.reelmeta.url, request);
      const base = await probe(servers.baseline.url, request);
      const ok = (p: Probe) => p.status >= 200 && p.status <= 299;
      const difference =
        ok(mine) && ok(base)
          ? request.method === 'PATCH'
            ? compareAnswers(withoutWriteTime(mine.body), withoutWriteTime(base.body))
            : compareAnswers(mine.body, base.body)
          : undefined;
      const agree = ok(mine) && ok(base) ? (difference ? `DIFFERENT: ${difference}` : 'same answers') : '';
      const line = `${request.method} ${decodeURIComponent(request.path)} → ${describeProbe('reelmeta', mine)}; ${describeProbe('baseline', base)}${agree ? `; ${agree}` : ''}`;
      log(`  (${scenario.key}) ${line}`);
      notes.push({ scenario, line, problem: !ok(mine) || !ok(base) || difference !== undefined });
    }
  }
  return notes;
}

async function main(): Promise<void> {
  const single = process.env.BENCH_N ? envInt('BENCH_N', 1_000_000, 1) : undefined;
  const sizes = single !== undefined ? [single] : envInts('BENCH_SIZES', [100_000, 1_000_000], 1);
  const clipsPerMillion = envInt('BENCH_CLIPS', 5_000_000, 0);
  const connections = envInts('BENCH_CONNECTIONS', [20, 100], 1);
  const load = {
    warmupSeconds: envInt('BENCH_WARMUP', 3, 0),
    durationSeconds: envInt('BENCH_DURATION', 10, 1),
  };
  const seedOnly = ['1', 'true', 'yes'].includes((process.env.BENCH_SEED_ONLY ?? '').toLowerCase());

  if (!seedOnly) buildReelmeta(log);
  const server = await openBenchServer(log);
  cleanups.push({ name: 'database', run: () => server.stop() });
  const measurements: Measurement[] = [];
  const exports: ExportMeasurement[] = [];
  const checks: TargetCheck[] = [];
  const preflights = new Map<number, string[]>();
  const seeds = new Map<number, string>();
  const notes: string[] = [];
  let media: readonly string[] | undefined;
  let pgVersion = 'unknown';
  let scenarios: Scenario[] = [];

  for (const size of sizes) {
    const name = benchDatabaseName(size);
    const url = await server.database(name);
    log(`\n== ${sizeLabel(size)} (${name}) ==`);
    await migrateBenchDatabase(url, path.join(PROJECT_ROOT, 'migrations'), log);
    const clips = Math.round((clipsPerMillion * size) / 1_000_000);
    const seed = await ensureSeeded(url, size, clips, log);
    seeds.set(
      size,
      `${sizeLabel(size)} and ${clips.toLocaleString('en-US')} clips in \`${name}\`; seed ${seed.reused ? 'reused, originally took' : 'took'} ${seed.seconds.toFixed(1)} s`,
    );
    if (seedOnly || interrupted) continue;
    pgVersion = await postgresVersion(url);
    await restoreWritten(url); // what an interrupted run left PATCHed
    const sampled = await sampleIds(url, SAMPLE_IDS + WRITE_IDS);
    const writeCount = Math.max(1, Math.min(WRITE_IDS, Math.floor(sampled.length / 5)));
    const writeIds = sampled.slice(0, writeCount);
    const readIds = sampled.slice(writeCount);
    scenarios = buildScenarios(readIds.length > 0 ? readIds : writeIds, writeIds);
    await rememberWritten(url, writeIds);
    const env = serverEnv(url);
    log('servers: starting reelmeta and the baseline ...');
    const reelmeta = await startReelmeta(env);
    const stopReelmeta = { name: 'reelmeta', run: () => reelmeta.stop() };
    cleanups.push(stopReelmeta);
    const baseline = await startServer({ name: 'baseline', script: ['bench/baseline-server.ts'], env });
    const stopBaseline = { name: 'baseline', run: () => baseline.stop() };
    cleanups.push(stopBaseline);
    cleanups.push({ name: 'restore written', run: () => restoreWritten(url) });
    const servers = { reelmeta, baseline };
    log(`servers: reelmeta ${reelmeta.url}, baseline ${baseline.url}`);

    log('preflight: one request per path to both servers');
    const probeNotes = await preflight(scenarios, servers);
    preflights.set(
      size,
      probeNotes.map((p) => `(${p.scenario.key}) \`${p.line}\`${p.problem ? ' ⚠' : ''}`),
    );

    // Writes last: they change what the reads would see (titles, tags, updated_at) until restored.
    const ordered = [...scenarios.filter((s) => s.kind !== 'write'), ...scenarios.filter((s) => s.kind === 'write')];
    for (const scenario of ordered) {
      for (const c of connections) {
        for (const which of ['reelmeta', 'baseline'] as const) {
          if (interrupted) return;
          const options: LoadOptions = { ...load, connections: c };
          log(
            `load: ${sizeLabel(size)} (${scenario.key}) ${scenario.title} on ${which}: ${load.warmupSeconds} s warm-up + ${load.durationSeconds} s, ${c} connections`,
          );
          await waitForIdle(url, 30, log);
          const result = await runLoad(servers[which].url, scenario, options);
          if (interrupted) return;
          const flag =
            result.non2xx > 0 || result.errors > 0
              ? `  ⚠ ${result.non2xx} non-2xx, ${result.errors} errors (${result.timeouts} timeouts)`
              : '';
          log(
            `      ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms${flag}`,
          );
          measurements.push({ size, scenario, connections: c, server: which, result });
        }
      }
    }
    await waitForIdle(url, 30, log);
    await restoreWritten(url);

    for (const which of ['reelmeta', 'baseline'] as const) {
      if (interrupted) return;
      log(`export: ${sizeLabel(size)} ${EXPORT_PATH} on ${which} ...`);
      await waitForIdle(url, 30, log);
      const result = await measureExport(servers[which].url, EXPORT_PATH, servers[which].pid);
      log(
        `      ${result.status}: ${result.rows.toLocaleString('en-US')} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s), peak RSS ${result.peakRssMiB?.toFixed(0) ?? '-'} MiB${result.error ? ` ⚠ ${result.error}` : ''}`,
      );
      exports.push({ size, server: which, result });
    }

    if (size === sizes.at(-1) && !interrupted) {
      await waitForIdle(url, 30, log);
      const low = Math.min(...connections);
      media = (
        await benchMedia(
          reelmeta.url,
          readIds[0] ?? writeIds[0]!,
          { connections: low, seconds: load.durationSeconds },
          log,
        )
      ).lines;
      await waitForIdle(url, 30, log); // presigns autocannon abandoned still insert their rows
      await forgetBenchUploads(url);
    }
    checks.push(...checkTargets(size, scenarios, measurements, exports, connections));
    log(`\n${textTable(size, scenarios, measurements, exports, checks, connections)}\n`);
    for (const s of Object.values(servers) as ServerChild[]) {
      if (s.lines() > 0)
        notes.push(
          `${sizeLabel(size)}: ${s.name} wrote ${s.lines()} log line(s) at warn or above; the last: \`${s.output.at(-1)?.slice(0, 300) ?? ''}\``,
        );
    }
    await reelmeta.stop();
    await baseline.stop();
    cleanups.splice(cleanups.indexOf(stopReelmeta));
  }
  if (seedOnly || interrupted) return;
  for (const line of notes) log(line);
  const cpus = os.cpus();
  const report = markdown(sizes, scenarios, measurements, exports, checks, connections, {
    date: new Date().toISOString(),
    machine: [
      `CPU: ${cpus[0]?.model.trim() ?? 'unknown'} × ${cpus.length}`,
      `memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      `Node.js ${process.version} on ${os.type()} ${os.release()}`,
      `PostgreSQL: ${pgVersion}`,
      `database: ${server.label}`,
    ],
    settings: [
      `sizes: ${sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} episodes (BENCH_SIZES), each its own database; clips: ${clipsPerMillion.toLocaleString('en-US')} per million episodes (BENCH_CLIPS)`,
      `load: autocannon, ${connections.join(' and ')} connections, ${load.warmupSeconds} s warm-up then ${load.durationSeconds} s measured, per scenario, connection count and server`,
      `servers: child processes, DB pool of ${POOL_SIZE} connections each, LOG_LEVEL=warn; (a), (g) read ${SAMPLE_IDS.toLocaleString('en-US')} sampled ids at random, (u3) the clips of 2,000 of them; (w) PATCHes ${WRITE_IDS.toLocaleString('en-US')} other sampled episodes, put back as seeded afterwards`,
      'baseline: bench/baseline-server.ts, hono + pg with hand-written named prepared statements building the JSON in PostgreSQL; the preflight checks it gives the same answers',
    ],
    preflight: preflights,
    seeds,
    notes,
    ...(media ? { media } : {}),
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
