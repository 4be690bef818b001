// Drives one server with autocannon: a warm-up run that is thrown away, then the measured run.
// Latencies are collected per response so p95 is exact (autocannon reports p90 and p97.5 only).
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { Request } from './scenarios.ts';

export interface LoadOptions {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly non2xx: number;
  /** Connection errors, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  /** Responses per status code, e.g. { "200": 51234, "404": 12 }. */
  readonly statuses: Readonly<Record<string, number>>;
}

let current: autocannon.Instance | undefined;

/** For Ctrl-C: ends the run in progress, whose promise then settles. */
export function stopCurrentLoad(): void {
  current?.stop();
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** What to send: a random one of `paths` (GET), or what `request` builds. */
export interface Requests {
  readonly paths: readonly string[];
  readonly request?: () => Request;
}

function once(
  baseUrl: string,
  requests: Requests,
  connections: number,
  seconds: number,
  onResponse?: (status: number, ms: number) => void,
) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    const { paths } = requests;
    const next: () => Request =
      requests.request ?? (() => ({ method: 'GET', path: paths[Math.floor(Math.random() * paths.length)]! }));
    current = autocannon(
      {
        url: baseUrl,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              const r = next();
              return {
                ...request,
                method: r.method,
                path: r.path,
                ...(r.body === undefined ? {} : { body: r.body }),
                headers: { ...request.headers, ...r.headers },
              };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    if (onResponse) current.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  }).finally(() => {
    current = undefined;
  });
}

export async function runLoad(baseUrl: string, requests: Requests, options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await once(baseUrl, requests, options.connections, options.warmupSeconds);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const result = await once(baseUrl, requests, options.connections, options.durationSeconds, (status, ms) => {
    latencies.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    rps: latencies.length / Math.max(result.duration, 0.001),
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
  };
}

export interface Probe {
  readonly status: number;
  readonly body: unknown;
  /** Time to the whole response body. */
  readonly ms: number;
}

/** One plain request, to check a scenario works before loading it and to explain failures. */
export async function probe(baseUrl: string, request: Request): Promise<Probe> {
  const started = performance.now();
  try {
    const response = await fetch(baseUrl + request.path, {
      method: request.method,
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(request.headers ? { headers: request.headers } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body, ms };
  } catch (error) {
    // A timeout or a dropped connection is a finding to report, not a reason to stop the bench.
    return { status: 0, body: `no response: ${(error as Error).message}`, ms: performance.now() - started };
  }
}

export interface ExportResult {
  readonly status: number;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** The server process's peak resident memory during the export (VmHWM, reset before), MiB. */
  readonly peakRssMiB: number | undefined;
  readonly error?: string;
}

const statusKiB = (pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined => {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // not Linux
  }
};

/** Streams the whole export once, counting lines; the peak RSS is the child's, reset first when the kernel allows. */
export async function measureExport(baseUrl: string, path: string, pid: number | undefined): Promise<ExportResult> {
  if (pid !== undefined) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5'); // 5: reset the peak RSS to the current RSS
    } catch {
      // older kernels: the peak then covers the process's whole life
    }
  }
  const started = performance.now();
  let rows = 0;
  let status = 0;
  try {
    const response = await fetch(baseUrl + path);
    status = response.status;
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = value.indexOf(10); at !== -1; at = value.indexOf(10, at + 1)) rows += 1;
    }
  } catch (error) {
    const seconds = (performance.now() - started) / 1000;
    return {
      status,
      rows,
      seconds,
      rowsPerSecond: rows / seconds,
      peakRssMiB: undefined,
      error: (error as Error).message,
    };
  }
  const seconds = (performance.now() - started) / 1000;
  const peak = pid === undefined ? undefined : statusKiB(pid, 'VmHWM');
  return {
    status,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    peakRssMiB: peak === undefined ? undefined : peak / 1024,
  };
}
