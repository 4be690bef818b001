// The results table (terminal and Markdown) and the targets, each marked met or missed.
import type { LoadResult } from './load.ts';
import type { Scenario } from './scenarios.ts';

export type ServerName = 'reelmeta' | 'baseline';

export interface Measurement {
  readonly scenario: Scenario;
  readonly server: ServerName;
  readonly result: LoadResult;
}

export interface TargetCheck {
  readonly scenario: Scenario;
  readonly target: string;
  readonly actual: string;
  readonly met: boolean;
}

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '-');
const failed = (r: LoadResult) => r.non2xx > 0 || r.errors > 0;

/** The service's targets, and the seed's floor targets, for one scenario. */
export function checkTargets(
  scenario: Scenario,
  reelmeta: LoadResult,
  baseline: LoadResult | undefined,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, actual: string, ok: boolean) =>
    // Numbers measured on error responses say nothing about the target: a failing scenario misses them all.
    checks.push({
      scenario,
      target,
      actual: failed(reelmeta) ? `${actual} (with errors)` : actual,
      met: ok && !failed(reelmeta),
    });
  if (scenario.kind === 'single') {
    const ratio = baseline && baseline.rps > 0 ? reelmeta.rps / baseline.rps : Number.NaN;
    add(
      'req/s ≥ 80 % of baseline',
      Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)} %` : 'no baseline',
      ratio >= 0.8,
    );
    add('p99 < 20 ms', `${ms(reelmeta.p99)} ms`, reelmeta.p99 < 20);
    add('floor: p95 < 200 ms', `${ms(reelmeta.p95)} ms`, reelmeta.p95 < 200);
  } else {
    add('p95 < 50 ms', `${ms(reelmeta.p95)} ms`, reelmeta.p95 < 50);
    add('floor: p95 < 500 ms', `${ms(reelmeta.p95)} ms`, reelmeta.p95 < 500);
  }
  add('floor: ≥ 100 req/s', `${reelmeta.rps.toFixed(0)} req/s`, reelmeta.rps >= 100);
  return checks;
}

const HEADERS = [
  'scenario',
  'server',
  'req/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'non-2xx',
  'errors',
  'vs baseline',
  'targets',
];

function rows(measurements: readonly Measurement[], checks: readonly TargetCheck[]): string[][] {
  return measurements.map((m) => {
    const base = measurements.find((o) => o.scenario.key === m.scenario.key && o.server === 'baseline');
    const mine = checks.filter((c) => c.scenario.key === m.scenario.key);
    const ratio =
      m.server === 'reelmeta' && base && base.result.rps > 0
        ? `${((m.result.rps / base.result.rps) * 100).toFixed(0)} %`
        : '';
    const targets =
      m.server !== 'reelmeta'
        ? ''
        : m.scenario.informational
          ? 'informational'
          : `${mine.filter((c) => c.met).length}/${mine.length} met`;
    const statuses = Object.entries(m.result.statuses)
      .filter(([s]) => !s.startsWith('2'))
      .map(([s, n]) => `${s}×${n}`);
    return [
      `(${m.scenario.key}) ${m.scenario.title}`,
      m.server,
      m.result.rps.toFixed(0),
      ms(m.result.p50),
      ms(m.result.p95),
      ms(m.result.p99),
      m.result.non2xx > 0 ? `${m.result.non2xx} ⚠ ${statuses.join(' ')}`.trim() : '0',
      m.result.errors > 0 ? `${m.result.errors} ⚠${m.result.timeouts ? ` (${m.result.timeouts} timeouts)` : ''}` : '0',
      ratio,
      targets,
    ];
  });
}

export function textTable(measurements: readonly Measurement[], checks: readonly TargetCheck[]): string {
  const body = rows(measurements, checks);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4, 5]);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const targetLines = checks.map(
    (c) => `  (${c.scenario.key}) ${c.target.padEnd(26)} ${c.actual.padEnd(24)} ${c.met ? 'met' : 'MISSED'}`,
  );
  return [
    line(HEADERS),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    'targets (reelmeta):',
    ...targetLines,
  ].join('\n');
}

export interface RunDescription {
  readonly date: string;
  readonly machine: readonly string[];
  readonly settings: readonly string[];
  /** One line per preflight request: status, time and total of each server, whether they agree. */
  readonly preflight: readonly string[];
  readonly notes: readonly string[];
  /** The media line: thumbnails and presigns per second. */
  readonly media?: readonly string[];
}

export function markdown(
  measurements: readonly Measurement[],
  checks: readonly TargetCheck[],
  run: RunDescription,
): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const table = [HEADERS, HEADERS.map(() => '---'), ...rows(measurements, checks)].map(
    (r) => `| ${r.map(cell).join(' | ')} |`,
  );
  const targets = [
    '| scenario | target | actual | |',
    '|---|---|---|---|',
    ...checks.map(
      (c) =>
        `| (${c.scenario.key}) ${cell(c.scenario.title)} | ${cell(c.target)} | ${cell(c.actual)} | ${c.met ? 'met' : '**missed**'} |`,
    ),
  ];
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
    '## Results',
    '',
    'Latencies are measured by the load generator per response; "vs baseline" is reelmeta req/s ÷ baseline req/s. ' +
      'A non-zero non-2xx or errors count means the scenario failed (at least in part), and its targets count as missed. ' +
      'Errors include timeouts (no response within 10 s); percentiles cover completed responses only, "-" when none completed.',
    '',
    ...table,
    '',
    '## Targets',
    '',
    ...targets,
    '',
    '## Preflight',
    '',
    'One request at a time per path, before the load, on an otherwise idle machine: status, time, page size and total of ' +
      'each server, and whether both returned the same records (⚠ marks a failure or a disagreement).',
    '',
    ...run.preflight.map((l) => `- ${l}`),
    ...(run.media && run.media.length > 0 ? ['', '## Media', '', ...run.media.map((l) => `- ${l}`)] : []),
    ...(run.notes.length > 0 ? ['', '## Notes', '', ...run.notes.map((l) => `- ${l}`)] : []),
    '',
  ].join('\n');
}
