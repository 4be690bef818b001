// The results: per data size, one row per scenario and connection count with both servers side
// by side and the ratio, the export line, and issue 16's targets marked met or missed.
import type { ExportResult, LoadResult } from './load.ts';
import type { Scenario } from './scenarios.ts';

export type ServerName = 'reelmeta' | 'baseline';

export interface Measurement {
  readonly size: number;
  readonly scenario: Scenario;
  readonly connections: number;
  readonly server: ServerName;
  readonly result: LoadResult;
}

export interface ExportMeasurement {
  readonly size: number;
  readonly server: ServerName;
  readonly result: ExportResult;
}

export interface TargetCheck {
  readonly size: number;
  readonly label: string;
  readonly target: string;
  readonly actual: string;
  readonly met: boolean;
}

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '-');
const failed = (r: LoadResult) => r.non2xx > 0 || r.errors > 0;
const count = (n: number) => n.toLocaleString('en-US');
export const sizeLabel = (n: number) => `${count(n)} episodes`;

function find(
  measurements: readonly Measurement[],
  size: number,
  key: string,
  connections: number,
  server: ServerName,
): LoadResult | undefined {
  return measurements.find(
    (m) => m.size === size && m.scenario.key === key && m.connections === connections && m.server === server,
  )?.result;
}

const ratioOf = (mine: number | undefined, base: number | undefined) =>
  mine !== undefined && base !== undefined && base > 0 ? mine / base : Number.NaN;
const ratioText = (r: number) => (Number.isFinite(r) ? r.toFixed(2) : '-');

/** Issue 16's targets for one size. */
export function checkTargets(
  size: number,
  scenarios: readonly Scenario[],
  measurements: readonly Measurement[],
  exports: readonly ExportMeasurement[],
  connections: readonly number[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (label: string, target: string, actual: string, ok: boolean, result?: LoadResult) =>
    // Numbers measured on error responses say nothing about the target: a failing run misses them.
    checks.push({
      size,
      label,
      target,
      actual: result && failed(result) ? `${actual} (with errors)` : actual,
      met: ok && !(result && failed(result)),
    });
  const low = Math.min(...connections);
  const high = Math.max(...connections);
  for (const s of scenarios) {
    const label = `(${s.key}) ${s.title}`;
    if (s.ratioTarget) {
      const mine = find(measurements, size, s.key, low, 'reelmeta');
      const ratio = ratioOf(mine?.rps, find(measurements, size, s.key, low, 'baseline')?.rps);
      if (mine) add(label, `req/s ≥ 0.8 × baseline (${low} conn.)`, ratioText(ratio), ratio >= 0.8, mine);
    }
    if (s.kind === 'list') {
      const mine = find(measurements, size, s.key, low, 'reelmeta');
      if (mine) add(label, `p95 < 50 ms (${low} conn.)`, `${ms(mine.p95)} ms`, mine.p95 < 50, mine);
    }
    const loaded = find(measurements, size, s.key, high, 'reelmeta');
    if (loaded) add(label, `p95 < 500 ms (${high} conn.)`, `${ms(loaded.p95)} ms`, loaded.p95 < 500, loaded);
  }
  const mine = exports.find((e) => e.size === size && e.server === 'reelmeta')?.result;
  const base = exports.find((e) => e.size === size && e.server === 'baseline')?.result;
  if (mine) {
    const ratio = ratioOf(mine.rowsPerSecond, base?.rowsPerSecond);
    checks.push({
      size,
      label: '(i) NDJSON export of status=published',
      target: 'rows/s ≥ 0.8 × baseline',
      actual: ratioText(ratio),
      met: ratio >= 0.8 && mine.status === 200 && !mine.error,
    });
  }
  return checks;
}

const HEADERS = [
  'scenario',
  'conn.',
  'reelmeta req/s',
  'p50',
  'p95',
  'p99',
  'errors',
  'baseline req/s',
  'p50',
  'p95',
  'p99',
  'errors',
  'ratio',
];

function problems(r: LoadResult | undefined): string {
  if (!r) return '-';
  if (r.non2xx === 0 && r.errors === 0) return '0';
  const statuses = Object.entries(r.statuses)
    .filter(([s]) => !s.startsWith('2'))
    .map(([s, n]) => `${s}×${n}`);
  return `⚠ ${r.non2xx} non-2xx ${statuses.join(' ')}${r.errors ? `, ${r.errors} errors (${r.timeouts} timeouts)` : ''}`.trim();
}

function rows(
  size: number,
  scenarios: readonly Scenario[],
  measurements: readonly Measurement[],
  connections: readonly number[],
): string[][] {
  const out: string[][] = [];
  for (const s of scenarios) {
    for (const c of connections) {
      const mine = find(measurements, size, s.key, c, 'reelmeta');
      const base = find(measurements, size, s.key, c, 'baseline');
      if (!mine && !base) continue;
      out.push([
        `(${s.key}) ${s.title}`,
        String(c),
        mine ? mine.rps.toFixed(0) : '-',
        mine ? ms(mine.p50) : '-',
        mine ? ms(mine.p95) : '-',
        mine ? ms(mine.p99) : '-',
        problems(mine),
        base ? base.rps.toFixed(0) : '-',
        base ? ms(base.p50) : '-',
        base ? ms(base.p95) : '-',
        base ? ms(base.p99) : '-',
        problems(base),
        ratioText(ratioOf(mine?.rps, base?.rps)),
      ]);
    }
  }
  return out;
}

function exportRows(size: number, exports: readonly ExportMeasurement[]): string[][] {
  const base = exports.find((e) => e.size === size && e.server === 'baseline')?.result;
  return exports
    .filter((e) => e.size === size)
    .map(({ server, result: r }) => [
      server,
      String(r.status),
      count(r.rows),
      r.seconds.toFixed(1),
      count(Math.round(r.rowsPerSecond)),
      r.peakRssMiB === undefined ? '-' : `${r.peakRssMiB.toFixed(0)} MiB`,
      server === 'reelmeta' ? ratioText(ratioOf(r.rowsPerSecond, base?.rowsPerSecond)) : '',
      r.error ?? '',
    ]);
}
const EXPORT_HEADERS = ['server', 'status', 'rows', 'seconds', 'rows/s', 'peak RSS', 'ratio', 'error'];

export function textTable(
  size: number,
  scenarios: readonly Scenario[],
  measurements: readonly Measurement[],
  exports: readonly ExportMeasurement[],
  checks: readonly TargetCheck[],
  connections: readonly number[],
): string {
  const render = (headers: readonly string[], body: readonly string[][]) => {
    const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (cells: readonly string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  };
  return [
    `${sizeLabel(size)}:`,
    ...render(HEADERS, rows(size, scenarios, measurements, connections)),
    '',
    ...render(EXPORT_HEADERS, exportRows(size, exports)),
    '',
    'targets (reelmeta):',
    ...checks
      .filter((c) => c.size === size)
      .map((c) => `  ${c.label.padEnd(58)} ${c.target.padEnd(34)} ${c.actual.padEnd(22)} ${c.met ? 'met' : 'MISSED'}`),
  ].join('\n');
}

export interface RunDescription {
  readonly date: string;
  readonly machine: readonly string[];
  readonly settings: readonly string[];
  /** Per size: one line per preflight request (status, time, total, whether both answers agree). */
  readonly preflight: ReadonlyMap<number, readonly string[]>;
  /** Per size: how the seed went. */
  readonly seeds: ReadonlyMap<number, string>;
  readonly notes: readonly string[];
  readonly media?: readonly string[];
}

export function markdown(
  sizes: readonly number[],
  scenarios: readonly Scenario[],
  measurements: readonly Measurement[],
  exports: readonly ExportMeasurement[],
  checks: readonly TargetCheck[],
  connections: readonly number[],
  run: RunDescription,
): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const table = (headers: readonly string[], body: readonly string[][]) =>
    [headers, headers.map(() => '---'), ...body].map((r) => `| ${r.map(cell).join(' | ')} |`);
  const perSize = sizes.flatMap((size) => [
    `## ${sizeLabel(size)}`,
    '',
    `- ${run.seeds.get(size) ?? ''}`,
    '',
    ...table(HEADERS, rows(size, scenarios, measurements, connections)),
    '',
    '(i) NDJSON export of `status=published`, once per server:',
    '',
    ...table(EXPORT_HEADERS, exportRows(size, exports)),
    '',
    '### Targets (issue 16)',
    '',
    ...table(
      ['scenario', 'target', 'actual', ''],
      checks.filter((c) => c.size === size).map((c) => [c.label, c.target, c.actual, c.met ? 'met' : '**missed**']),
    ),
    '',
    '### Preflight',
    '',
    'One request at a time per path, before the load, on an otherwise idle machine: status, time, page size and total of ' +
      'each server, and whether the two answers are the same (the whole `data` and metadata, timestamp and registry_version aside; ⚠ marks a failure or a difference).',
    '',
    ...(run.preflight.get(size) ?? []).map((l) => `- ${l}`),
    '',
  ]);
  return [
    '# Reelmeta benchmark results',
    '',
    `Generated by \`npm run bench\` on ${run.date}.`,
    '',
    '## Machine',
    '',
    ...run.machine.map((l) => `- ${l}`),
    '',
    '## Run',
    '',
    ...run.settings.map((l) => `- ${l}`),
    '',
    'Latencies (ms) are measured by the load generator per response; "ratio" is reelmeta req/s ÷ baseline req/s. ' +
      'A non-zero errors cell means the run failed (at least in part), and its targets count as missed. ' +
      'Errors include timeouts (no response within 10 s); percentiles cover completed responses only, "-" when none completed.',
    '',
    '## Where the time went',
    '',
    'The misses above, why, and what changed the figures so far: `docs/performance.md`. The profile behind it: ' +
      '`npm run bench:profile -- <scenario keys>` runs each server under `node --cpu-prof` and writes `bench/PROFILE.md`, ' +
      "the server's and PostgreSQL's CPU per request and where the server's time goes, beside the baseline's.",
    '',
    ...perSize,
    ...(run.media && run.media.length > 0 ? ['## Media', '', ...run.media.map((l) => `- ${l}`), ''] : []),
    ...(run.notes.length > 0 ? ['## Notes', '', ...run.notes.map((l) => `- ${l}`), ''] : []),
  ].join('\n');
}
