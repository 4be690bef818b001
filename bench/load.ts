// Drives one server with autocannon: a warm-up run that is thrown away, then the measured run.
// Latencies are collected per response so p95 is exact (autocannon reports p90 and p97.5 only).
import autocannon from 'autocannon';

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

function once(
  baseUrl: string,
  paths: readonly string[],
  connections: number,
  seconds: number,
  onResponse?: (status: number, ms: number) => void,
) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    const pickPath = () => paths[Math.floor(Math.random() * paths.length)]!;
    current = autocannon(
      {
        url: baseUrl,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: pickPath() }) }],
      },
      (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    if (onResponse) current.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  }).finally(() => {
    current = undefined;
  });
}

export async function runLoad(baseUrl: string, paths: readonly string[], options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await once(baseUrl, paths, options.connections, options.warmupSeconds);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const result = await once(baseUrl, paths, options.connections, options.durationSeconds, (status, ms) => {
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
export async function probe(baseUrl: string, path: string): Promise<Probe> {
  const started = performance.now();
  try {
    const response = await fetch(baseUrl + path, { signal: AbortSignal.timeout(60_000) });
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
