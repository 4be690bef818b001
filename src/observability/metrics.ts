// Prometheus metrics (NFR-10), one registry per service instance: HTTP request durations by route
// template, method and status; error answers; database query timings and errors; the pool's
// connections; requests refused by the rate limiter; background jobs (durations by queue and
// outcome, failures, queue depth by state read at scrape time); and Node's process metrics. GET /metrics serves them in the text format.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabasePool } from 'slonik';
import type { Interceptor } from 'slonik';

/** What the replica gauges read of each read replica (db/replicas.ts gives it). */
interface ReplicaGaugeSource {
  status(): readonly { readonly name: string; readonly state: string; readonly lag_ms: number | null }[];
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** What the queue-depth gauge reads on each scrape (src/jobs/queue.ts JobQueue fits it). */
export interface JobDepthSource {
  queueNames(): readonly string[];
  counts(name: string): Promise<Readonly<Record<string, number>>>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly httpErrors: Counter<'method' | 'route' | 'status'>;
  private readonly queryDuration: Histogram;
  private readonly queryErrors: Counter;
  private readonly rateLimited: Counter<'role'>;
  private readonly rateLimitStoreFailures: Counter;
  private readonly jobDuration: Histogram<'queue' | 'state'>;
  private readonly jobsFailed: Counter<'queue'>;
  private readonly reads: Counter<'target'>;
  private pool: DatabasePool | undefined;
  private replicaSource: ReplicaGaugeSource | undefined;
  private jobSource: JobDepthSource | undefined;

  constructor() {
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.httpErrors = new Counter({
      name: 'http_request_errors_total',
      help: 'HTTP answers with a 4xx or 5xx status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.queryDuration = new Histogram({
      name: 'db_query_duration_seconds',
      help: 'Database query duration',
      buckets: QUERY_BUCKETS,
      registers,
    });
    this.queryErrors = new Counter({ name: 'db_query_errors_total', help: 'Database queries that failed', registers });
    this.rateLimited = new Counter({
      name: 'http_requests_rate_limited_total',
      help: 'Requests answered 429 by the rate limiter, by the limit that applied (anonymous or a role)',
      labelNames: ['role'],
      registers,
    });
    this.rateLimitStoreFailures = new Counter({
      name: 'rate_limit_store_failures_total',
      help: 'Requests served without a limit because the rate-limit store (Redis) failed or was unreachable',
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (acquired, idle, pending) and clients waiting for one',
      labelNames: ['state'],
      registers,
      collect() {
        const state = metrics.pool?.state();
        if (!state) return;
        this.set({ state: 'acquired' }, state.acquiredConnections);
        this.set({ state: 'idle' }, state.idleConnections);
        this.set({ state: 'pending' }, state.pendingConnections);
        this.set({ state: 'waiting_clients' }, state.waitingClients);
      },
    });
    this.jobDuration = new Histogram({
      name: 'job_duration_seconds',
      help: 'Background job tries by queue and what was recorded (completed, retry, failed)',
      labelNames: ['queue', 'state'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.jobsFailed = new Counter({
      name: 'jobs_failed_total',
      help: 'Background jobs that ended failed (no tries left, or a non-retryable error)',
      labelNames: ['queue'],
      registers,
    });
    new Gauge({
      name: 'job_queue_jobs',
      help: 'Jobs in the queue table by queue and state (created and retry are the depth waiting to run)',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const source = metrics.jobSource;
        if (!source) return;
        this.reset();
        for (const queue of source.queueNames()) {
          // A database hiccup must not fail the whole scrape: the gauge is then empty for this scrape.
          const counts = await source.counts(queue).catch(() => undefined);
          for (const [state, value] of Object.entries(counts ?? {})) this.set({ queue, state }, value);
        }
      },
    });
    this.reads = new Counter({
      name: 'db_reads_total',
      help: 'Single-query reads of read-only requests (GET, HEAD) by where they ran (primary, replica); only counted with DATABASE_REPLICA_URLS',
      labelNames: ['target'],
      registers,
    });
    new Gauge({
      name: 'db_replica_in_rotation',
      help: 'Per read replica: 1 while reads go to it, 0 while it is down, lagging or not a replica',
      labelNames: ['replica', 'state'],
      registers,
      collect() {
        this.reset();
        for (const r of metrics.replicaSource?.status() ?? [])
          this.set({ replica: r.name, state: r.state }, r.state === 'in_rotation' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'db_replica_lag_seconds',
      help: 'Per read replica: how long ago the primary wrote the first WAL it has not replayed (0: caught up); absent while it is down',
      labelNames: ['replica'],
      registers,
      collect() {
        this.reset();
        for (const r of metrics.replicaSource?.status() ?? [])
          if (r.lag_ms !== null) this.set({ replica: r.name }, r.lag_ms / 1000);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** A single-query read and where it ran (db/read-routing.ts). */
  countRead(target: 'primary' | 'replica'): void {
    this.reads.inc({ target });
  }

  /** The read replicas whose state the gauges report. */
  watchReplicas(source: ReplicaGaugeSource): void {
    this.replicaSource = source;
  }

  /** One answered request; `route` is the matched template (`/api/v1/episodes/:id`), never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpDuration.observe(labels, seconds);
    if (status >= 400) this.httpErrors.inc(labels);
  }

  /** A request refused with 429; `role` is `anonymous` or the role whose limit applied. */
  observeRateLimited(role: string): void {
    this.rateLimited.inc({ role });
  }

  /** A request served without a limit because the rate-limit store failed (fail open). */
  observeRateLimitStoreFailure(): void {
    this.rateLimitStoreFailures.inc();
  }

  /** One settled job try (wire to JobQueueOptions.onSettled). */
  observeJob(event: { name: string; state: string; seconds: number }): void {
    this.jobDuration.observe({ queue: event.name, state: event.state }, event.seconds);
    if (event.state === 'failed') this.jobsFailed.inc({ queue: event.name });
  }

  /** The job queue whose depth the gauge reports. */
  watchJobQueue(source: JobDepthSource): void {
    this.jobSource = source;
  }

  /** The pool whose connections the gauge reports. */
  watchPool(pool: DatabasePool): void {
    this.pool = pool;
  }

  /** A slonik interceptor timing every query. */
  queryInterceptor(): Interceptor {
    const started = new WeakMap<object, number>();
    return {
      name: 'reelmeta-metrics',
      beforeQueryExecution: (context) => {
        started.set(context.sandbox, performance.now());
        return null;
      },
      afterQueryExecution: (context) => {
        const start = started.get(context.sandbox);
        if (start !== undefined) this.queryDuration.observe((performance.now() - start) / 1000);
        return null;
      },
      queryExecutionError: () => {
        this.queryErrors.inc();
        return null;
      },
    };
  }
}
