// `npm run bench:profile -- a g b`: where the time of a request goes, Reelmeta beside the baseline.
// For each named scenario (default a g b) it starts each server under `node --cpu-prof`, loads it
// as `npm run bench` does, and reads three things for the measured seconds only: the server
// process's CPU and its PostgreSQL backends' CPU (from /proc, per request), and the profile's self
// time grouped by package or src/ folder, plus Reelmeta's costliest functions. Prints the tables
// and writes bench/PROFILE.md.
//
// Environment: as `npm run bench` (BENCH_DATABASE_URL, BENCH_CLIPS, BENCH_WARMUP, BENCH_DURATION),
// plus BENCH_N (the data size, default 1,000,000; seeded first when missing) and BENCH_CONNECTIONS
// (the first count is used, default 20). The CPU per process needs the servers and PostgreSQL on
// this machine (Linux /proc); without it those rows say "-".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { buildReelmeta, serverEnv, startReelmeta, startServer, type ServerChild } from './children.ts';
import {
  benchDatabaseName,
  connectClient,
  migrateBenchDatabase,
  openBenchServer,
  postgresVersion,
  restoreWritten,
  rememberWritten,
  sampleIds,
  waitForIdle,
} from './database.ts';
import { envInt, envInts } from './env.ts';
import { runLoad } from './load.ts';
import { sizeLabel, type ServerName } from './report.ts';
import { buildScenarios, type Scenario } from './scenarios.ts';
import { ensureSeeded } from './seed.ts';

const log = (line: string) => console.log(line);
const TOP_GROUPS = 14;
const TOP_FUNCTIONS = 12;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time in µs per group and per function, over the samples inside [from, to] (µs, monotonic). */
interface SelfTimes {
  readonly groups: Map<string, number>;
  readonly functions: Map<string, number>;
  readonly totalMicros: number;
  /** False when the profile's clock did not match this process's: then the whole profile was read. */
  readonly windowed: boolean;
}

/** Where a frame's code lives: a package, a src/ or bench/ folder, a Node.js module, or V8 itself. */
function groupOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName.startsWith('(') && url === '') return functionName; // (idle), (program), (garbage collector)
  if (url === '') return '(native: syscalls, V8 builtins)';
  if (url.startsWith('node:')) {
    const name = url.slice('node:'.length).replace(/^internal\//, '');
    return `node:${name.startsWith('streams/') ? 'streams' : name.split('/')[0]}`;
  }
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const inModules = file.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = file.slice(inModules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const relative = path.relative(PROJECT_ROOT, file);
  if (relative.startsWith('..')) return file;
  // The build's dist/src/db/records.js is src/db, as in the source.
  const parts = relative.split(path.sep).filter((part, index) => index > 0 || part !== 'dist');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : relative;
}

function functionOf(frame: ProfileNode['callFrame']): string {
  const where = frame.url ? groupOf(frame) : '';
  const file = frame.url
    ? path.basename(frame.url.startsWith('file://') ? new URL(frame.url).pathname : frame.url)
    : '';
  const name = frame.functionName || '(anonymous)';
  return file ? `${name} (${where === file ? file : `${where}: ${file}`}:${frame.lineNumber + 1})` : `${name} (native)`;
}

function selfTimes(profile: CpuProfile, from: number, to: number): SelfTimes {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  let time = profile.startTime;
  const first = profile.startTime + (profile.timeDeltas[0] ?? 0);
  const windowed = first <= to && profile.startTime + profile.timeDeltas.reduce((a, b) => a + b, 0) >= from;
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMicros = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (windowed && (time < from || time > to)) continue;
    const frame = byId.get(profile.samples[i]!);
    if (!frame) continue;
    // A sample stands for the time until the next one.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    totalMicros += micros;
    const group = groupOf(frame);
    groups.set(group, (groups.get(group) ?? 0) + micros);
    if (frame.url !== '' || !frame.functionName.startsWith('(')) {
      const key = functionOf(frame);
      functions.set(key, (functions.get(key) ?? 0) + micros);
    }
  }
  return { groups, functions, totalMicros, windowed };
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of a process, from /proc/<pid>/stat; undefined when unreadable. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** CPU seconds per process, of those whose /proc entry could be read. */
function cpuOf(pids: readonly number[]): Map<number, number> {
  const found = new Map<number, number>();
  for (const pid of pids) {
    const seconds = cpuSeconds(pid);
    if (seconds !== undefined) found.set(pid, seconds);
  }
  return found;
}

/**
 * The CPU the backends used between two readings: a backend seen at both counts its difference, one
 * that appeared in between all of its CPU (a pool may replace a connection). Undefined when none
 * could be read (PostgreSQL elsewhere).
 */
function backendCpu(before: Map<number, number>, after: Map<number, number>): number | undefined {
  if (after.size === 0) return undefined;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

async function backendPids(url: string): Promise<number[]> {
  const client = await connectClient(url);
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

interface ServerProfile {
  readonly rps: number;
  readonly requests: number;
  readonly serverMicrosPerRequest?: number;
  readonly postgresMicrosPerRequest?: number;
  readonly self: SelfTimes;
}

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

async function profileOne(
  which: ServerName,
  scenario: Scenario,
  url: string,
  options: { connections: number; warmupSeconds: number; durationSeconds: number },
): Promise<ServerProfile> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `reelmeta-profile-${which}-`));
  const env = serverEnv(url);
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  let server: ServerChild | undefined;
  try {
    server =
      which === 'reelmeta'
        ? await startReelmeta(env, nodeArgs)
        : await startServer({ name: 'baseline', script: ['bench/baseline-server.ts'], nodeArgs, env });
    await waitForIdle(url, 30, log);
    if (options.warmupSeconds > 0)
      await runLoad(server.url, scenario, { ...options, durationSeconds: options.warmupSeconds, warmupSeconds: 0 });
    const backends = await backendPids(url);
    const pid = server.pid;
    const serverBefore = pid === undefined ? undefined : cpuSeconds(pid);
    const postgresBefore = cpuOf(backends);
    const from = nowMicros();
    const result = await runLoad(server.url, scenario, { ...options, warmupSeconds: 0 });
    const to = nowMicros();
    const serverAfter = pid === undefined ? undefined : cpuSeconds(pid);
    const postgresAfter = cpuOf(await backendPids(url));
    await server.stop();
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${which} wrote no .cpuprofile into ${dir}`);
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const perRequest = (seconds: number | undefined) =>
      seconds === undefined || result.requests === 0 ? undefined : (seconds * 1e6) / result.requests;
    const serverSeconds =
      serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore;
    return {
      rps: result.rps,
      requests: result.requests,
      ...optional('serverMicrosPerRequest', perRequest(serverSeconds)),
      ...optional('postgresMicrosPerRequest', perRequest(backendCpu(postgresBefore, postgresAfter))),
      self: selfTimes(profile, from, to),
    };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

const micros = (value: number | undefined) =>
  value === undefined ? '-' : `${Math.round(value).toLocaleString('en-US')}`;

function scenarioReport(scenario: Scenario, connections: number, results: Record<ServerName, ServerProfile>): string[] {
  const { reelmeta, baseline } = results;
  const per = (p: ServerProfile, micro: number) => (p.requests > 0 ? micro / p.requests : 0);
  const busy = (p: ServerProfile) => p.self.totalMicros - (p.self.groups.get('(idle)') ?? 0);
  const lines = [
    `## (${scenario.key}) ${scenario.title}`,
    '',
    `${connections} connections. CPU is µs per request: the server process and its PostgreSQL backends from /proc; the rest is the profile's self time (sampled, so rows add up to the profiled busy time, not exactly to the measured CPU).`,
    '',
    '|  | reelmeta | baseline |',
    '| --- | ---: | ---: |',
    `| requests/s | ${Math.round(reelmeta.rps).toLocaleString('en-US')} | ${Math.round(baseline.rps).toLocaleString('en-US')} |`,
    `| server CPU per request (µs) | ${micros(reelmeta.serverMicrosPerRequest)} | ${micros(baseline.serverMicrosPerRequest)} |`,
    `| PostgreSQL CPU per request (µs) | ${micros(reelmeta.postgresMicrosPerRequest)} | ${micros(baseline.postgresMicrosPerRequest)} |`,
    `| server idle in the profile | ${percent(reelmeta.self.groups.get('(idle)') ?? 0, reelmeta.self.totalMicros)} | ${percent(baseline.self.groups.get('(idle)') ?? 0, baseline.self.totalMicros)} |`,
    `| profiled busy time per request (µs) | ${micros(per(reelmeta, busy(reelmeta)))} | ${micros(per(baseline, busy(baseline)))} |`,
  ];
  const ranked = new Map<string, number>();
  for (const p of [reelmeta, baseline])
    for (const [group, value] of p.self.groups)
      if (group !== '(idle)') ranked.set(group, Math.max(ranked.get(group) ?? 0, per(p, value)));
  const top = [...ranked].sort((a, b) => b[1] - a[1]).slice(0, TOP_GROUPS);
  lines.push(
    '',
    '| self time by where the code lives (µs per request) | reelmeta | baseline |',
    '| --- | ---: | ---: |',
  );
  for (const [group] of top)
    lines.push(
      `| ${group} | ${micros(per(reelmeta, reelmeta.self.groups.get(group) ?? 0))} | ${micros(per(baseline, baseline.self.groups.get(group) ?? 0))} |`,
    );
  const functions = [...reelmeta.self.functions].sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS);
  lines.push('', "| Reelmeta's costliest functions (self, µs per request) | µs |", '| --- | ---: |');
  for (const [name, value] of functions)
    lines.push(`| \`${name.replace(/\|/g, '\\|')}\` | ${micros(per(reelmeta, value))} |`);
  for (const [which, p] of Object.entries(results))
    if (!p.self.windowed)
      lines.push('', `⚠ ${which}: the profile's clock did not match; the whole profile (start-up included) was read.`);
  return [...lines, ''];
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((100 * part) / whole)} %` : '-';
}

async function main(): Promise<void> {
  const size = envInt('BENCH_N', 1_000_000, 1);
  const connections = envInts('BENCH_CONNECTIONS', [20], 1)[0]!;
  const options = {
    connections,
    warmupSeconds: envInt('BENCH_WARMUP', 3, 0),
    durationSeconds: envInt('BENCH_DURATION', 10, 1),
  };
  const clips = Math.round((envInt('BENCH_CLIPS', 5_000_000, 0) * size) / 1_000_000);
  const keys = process.argv.slice(2).filter((arg) => arg !== '--');
  buildReelmeta(log);
  const server = await openBenchServer(log);
  try {
    const name = benchDatabaseName(size);
    const url = await server.database(name);
    await migrateBenchDatabase(url, path.join(PROJECT_ROOT, 'migrations'), log);
    await ensureSeeded(url, size, clips, log);
    await restoreWritten(url);
    const sampled = await sampleIds(url, 12_000);
    const writeIds = sampled.slice(0, 2_000);
    const all = buildScenarios(sampled.slice(2_000), writeIds);
    const wanted = keys.length > 0 ? keys : ['a', 'g', 'b'];
    const unknown = wanted.filter((key) => !all.some((s) => s.key === key));
    if (unknown.length > 0)
      throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((s) => s.key).join(', ')}`);
    await rememberWritten(url, writeIds);
    const sections: string[] = [];
    for (const scenario of all.filter((s) => wanted.includes(s.key))) {
      const results = {} as Record<ServerName, ServerProfile>;
      for (const which of ['reelmeta', 'baseline'] as const) {
        log(`profile: ${sizeLabel(size)} (${scenario.key}) ${scenario.title} on ${which} ...`);
        results[which] = await profileOne(which, scenario, url, options);
        if (scenario.kind === 'write') await restoreWritten(url);
      }
      const section = scenarioReport(scenario, connections, results);
      log(`\n${section.join('\n')}`);
      sections.push(...section);
    }
    const header = [
      '# Where the time goes (`npm run bench:profile`)',
      '',
      `Written by \`npm run bench:profile -- ${wanted.join(' ')}\` on ${new Date().toISOString()}: ${sizeLabel(size)}, ${options.warmupSeconds} s warm-up then ${options.durationSeconds} s profiled per server, both under \`node --cpu-prof\`, one at a time, autocannon in the same machine. ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}, ${await postgresVersion(url)}.`,
      '',
    ];
    const file = path.join(PROJECT_ROOT, 'bench', 'PROFILE.md');
    writeFileSync(file, [...header, ...sections].join('\n'));
    log(`wrote ${path.relative(process.cwd(), file) || file}`);
  } finally {
    await server.stop();
  }
}

await main();
