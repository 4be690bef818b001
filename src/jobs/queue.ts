// The PostgreSQL job queue (issue 14's asynchronous thumbnails), on pg-boss 10: jobs live in
// pg-boss's own schema, survive restarts, are taken with SKIP LOCKED (two instances never run one
// job at once), retry with pg-boss's backoff and end in its `failed` state with the error after
// retryLimit retries. This wrapper adds what the service needs around it:
// - its own fetch loop per concurrency slot (boss.fetch, then an awaited boss.complete/boss.fail)
//   instead of boss.work(): pg-boss 10's work() settles a job without awaiting it (a rejected
//   complete/fail becomes an unhandled rejection if the database drops at that moment) and tells
//   nobody what it recorded; here every job is settled before the next fetch, the outcome is
//   reported to `onSettled` (durations and failures for /metrics), and stop() knows exactly which
//   handlers are still running;
// - non-retryable errors (a corrupt image: MediaProcessingError's `retryable === false`) fail at
//   once: pg-boss 10 has no "do not retry" flag, so the job's retry_limit is lowered to its
//   retry_count (one UPDATE on pg-boss's job table, bound parameters) before boss.fail, which then
//   records `failed` instead of `retry`;
// - a plain JSON view of a job for GET /jobs/{id}, and counts by state for a queue-depth gauge.
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { databaseTarget } from '../db/tls.ts';

export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobQueueOptions {
  readonly databaseUrl: string;
  readonly logger: Logger;
  /** pg-boss's schema, created and migrated on start (default `pgboss`). */
  readonly schema?: string;
  /** How often an idle worker asks for a job (pg-boss's minimum is 0.5 s; default 2 s). */
  readonly pollingIntervalSeconds?: number;
  /** pg-boss's own connection pool (default 4). */
  readonly maxConnections?: number;
  /** How long stop() waits for running handlers before failing them back to retry (default 30 s). */
  readonly stopTimeoutSeconds?: number;
  /** Called once per settled job: feed durations and failures to /metrics here. */
  readonly onSettled?: (event: JobSettled) => void;
  /** Whether an error must fail the job at once (default: an error whose `retryable` is false). */
  readonly isNonRetryable?: (error: unknown) => boolean;
}

export interface QueueDefinition {
  /** Retries after the first try: a job runs at most retryLimit + 1 times. */
  readonly retryLimit: number;
  /** Whole seconds (pg-boss wants an integer); with backoff the n-th retry waits about delay·2ⁿ⁻¹…2ⁿ. */
  readonly retryDelaySeconds: number;
  readonly retryBackoff?: boolean;
  /** A try running longer than this is failed (and retried if tries remain). */
  readonly expireInSeconds: number;
  /** How long settled jobs stay readable through get() before pg-boss archives and deletes them. */
  readonly retentionMinutes?: number;
}

export interface SendOptions {
  /** The job's id (a uuid) chosen by the caller; sending an id that exists already queues nothing (null). */
  readonly id?: string;
  /** With a `singletonSeconds` window, one job per key and window; otherwise only recorded. */
  readonly singletonKey?: string;
  readonly singletonSeconds?: number;
  /** Run no earlier than this many seconds from now. */
  readonly startAfterSeconds?: number;
}

export interface JobContext<T> {
  readonly id: string;
  readonly name: string;
  readonly data: T;
  /** 0 on the first try. */
  readonly retryCount: number;
  readonly retryLimit: number;
  /** Aborted when the try expires (expireInSeconds) or stop() gives up waiting: stop child processes then. */
  readonly signal: AbortSignal;
}

/** What a handler returns becomes the job's output (a JSON object) */
export type JobHandler<T> = (job: JobContext<T>) => Promise<Record<string, unknown> | void>;

export interface JobSettled {
  readonly name: string;
  readonly id: string;
  /** What was recorded: completed, retry (another try is due) or failed (no more tries). */
  readonly state: 'completed' | 'retry' | 'failed';
  readonly seconds: number;
  readonly error?: string;
}

/** A job as GET /jobs/{id} shows it; timestamps are ISO strings. */
export interface JobView {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly data: unknown;
  readonly output: unknown;
  readonly retry_count: number;
  readonly retry_limit: number;
  readonly created_at: string;
  readonly started_on: string | null;
  readonly completed_on: string | null;
  /** The last try's error message, while retrying or once failed. */
  readonly error?: string;
}

export type JobCounts = Record<JobState, number>;

const DEFAULT_SCHEMA = 'pgboss';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function defaultNonRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** A delay that stop() can cut short. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

interface Running {
  readonly name: string;
  readonly id: string;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

export class JobQueue {
  private readonly stopping = new AbortController();
  private readonly loops = new Set<Promise<void>>();
  private readonly running = new Map<string, Running>();
  /** Jobs stop() gave up on and failed back to retry: a late result must not be recorded. */
  private readonly abandoned = new Set<string>();
  private readonly defined = new Map<string, QueueDefinition>();
  private readonly wakers = new Map<string, Set<() => void>>();
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly boss: PgBoss,
    private readonly schema: string,
    private readonly options: JobQueueOptions,
  ) {}

  /** Connects, creates or migrates pg-boss's schema (under its advisory lock: safe for instances starting together) and starts its maintenance. */
  static async start(options: JobQueueOptions): Promise<JobQueue> {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    if (!SCHEMA_NAME.test(schema))
      throw new Error(`job queue schema must be a plain lower-case identifier, not ${JSON.stringify(schema)}`);
    // DATABASE_URL's TLS parameters with libpq's meaning, as the pool and the migrator read them.
    const target = databaseTarget(options.databaseUrl);
    const boss = new PgBoss({
      connectionString: target.url,
      ...(target.ssl ? { ssl: target.ssl } : {}),
      schema,
      max: options.maxConnections ?? 4,
      application_name: 'reelmeta-jobs',
      // Cron scheduling is unused; pg-boss's supervisor (expiry, archive, retention) stays on.
      schedule: false,
    });
    const queue = new JobQueue(boss, schema, options);
    boss.on('error', (error) =>
      options.logger.warn({ err: { message: messageOf(error) } }, 'job queue: pg-boss error'),
    );
    await boss.start();
    return queue;
  }

  /** Creates the queue or updates its options (idempotent; concurrent calls from several instances are safe). */
  async define(name: string, definition: QueueDefinition): Promise<void> {
    if (!Number.isInteger(definition.retryDelaySeconds) || definition.retryDelaySeconds < 0) {
      throw new RangeError('retryDelaySeconds must be a whole number of seconds ≥ 0');
    }
    const options = {
      name,
      policy: 'standard' as const,
      retryLimit: definition.retryLimit,
      retryDelay: definition.retryDelaySeconds,
      retryBackoff: definition.retryBackoff ?? true,
      expireInSeconds: definition.expireInSeconds,
      ...(definition.retentionMinutes === undefined ? {} : { retentionMinutes: definition.retentionMinutes }),
    };
    await this.createQueueOnce(name, options);
    await this.boss.updateQueue(name, options);
    this.defined.set(name, definition);
  }

  /**
   * pg-boss's create_queue inserts the queue row ON CONFLICT DO NOTHING, but then creates its
   * partition table and foreign keys: two instances creating one queue at once were seen to deadlock
   * (40P01) here. The loser tries again and finds the queue there.
   */
  private async createQueueOnce(name: string, options: PgBoss.Queue): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (await this.boss.getQueue(name)) return;
      try {
        await this.boss.createQueue(name, options);
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const race = code === '40P01' || code === '23505' || code === '42P07';
        if (!race || attempt >= 5) throw error;
        this.options.logger.debug(
          { queue: name, code },
          'job queue: creating the queue raced another instance; checking again',
        );
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      }
    }
  }

  /** Queues a job; its id, or null when a singleton window already holds one for the key. */
  async send<T extends object>(name: string, data: T, options: SendOptions = {}): Promise<string | null> {
    const id = await this.boss.send(name, data, {
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.singletonKey === undefined ? {} : { singletonKey: options.singletonKey }),
      ...(options.singletonSeconds === undefined ? {} : { singletonSeconds: options.singletonSeconds }),
      ...(options.startAfterSeconds === undefined ? {} : { startAfter: options.startAfterSeconds }),
    });
    // A worker of this instance need not wait for its next poll.
    for (const wake of this.wakers.get(name) ?? []) wake();
    return id;
  }

  /** Runs `handler` for the queue's jobs, `concurrency` at a time in this instance. */
  async work<T>(name: string, options: { concurrency?: number }, handler: JobHandler<T>): Promise<void> {
    if (this.stopping.signal.aborted) throw new Error('the job queue is stopping');
    if (!(await this.boss.getQueue(name))) throw new Error(`job queue ${name} is not defined: call define() first`);
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    for (let slot = 0; slot < concurrency; slot++) {
      const loop = this.loop(name, handler).finally(() => this.loops.delete(loop));
      this.loops.add(loop);
    }
  }

  private async loop<T>(name: string, handler: JobHandler<T>): Promise<void> {
    const intervalMs = (this.options.pollingIntervalSeconds ?? 2) * 1000;
    const wakers = this.wakers.get(name) ?? new Set<() => void>();
    this.wakers.set(name, wakers);
    while (!this.stopping.signal.aborted) {
      let jobs: PgBoss.JobWithMetadata<T>[];
      try {
        jobs = await this.boss.fetch<T>(name, { batchSize: 1, includeMetadata: true });
      } catch (error) {
        this.options.logger.warn(
          { queue: name, err: { message: messageOf(error) } },
          'job queue: fetch failed; trying again',
        );
        await pause(intervalMs, this.stopping.signal);
        continue;
      }
      const job = jobs[0];
      if (job) {
        await this.runOne(name, job, handler);
        continue;
      }
      const woken = new AbortController();
      const wake = (): void => woken.abort();
      wakers.add(wake);
      await pause(intervalMs, AbortSignal.any([this.stopping.signal, woken.signal]));
      wakers.delete(wake);
    }
  }

  private async runOne<T>(name: string, job: PgBoss.JobWithMetadata<T>, handler: JobHandler<T>): Promise<void> {
    const abort = new AbortController();
    const started = performance.now();
    const expireSeconds = Number(job.expireInSeconds); // EXTRACT(epoch …) arrives as a numeric string
    const expireMs = Math.max(1, Number.isFinite(expireSeconds) ? expireSeconds : 900) * 1000;
    let expiry: NodeJS.Timeout | undefined;
    const work = async (): Promise<void> => {
      try {
        const expired = new Promise<never>((_, reject) => {
          expiry = setTimeout(() => {
            abort.abort();
            reject(new Error(`the job ran longer than its ${expireMs / 1000} s`));
          }, expireMs);
          expiry.unref(); // an abandoned try must not hold the process open
        });
        const context: JobContext<T> = {
          id: job.id,
          name,
          data: job.data,
          retryCount: job.retryCount,
          retryLimit: job.retryLimit,
          signal: abort.signal,
        };
        const output = await Promise.race([handler(context), expired]);
        clearTimeout(expiry);
        if (this.abandoned.has(job.id)) return;
        await this.boss.complete(name, job.id, output ?? {});
        this.settled({ name, id: job.id, state: 'completed', seconds: (performance.now() - started) / 1000 });
      } catch (error) {
        clearTimeout(expiry);
        if (this.abandoned.has(job.id)) return;
        await this.recordFailure(name, job, error, started);
      }
    };
    const done = work();
    this.running.set(job.id, { name, id: job.id, abort, done });
    try {
      await done;
    } finally {
      this.running.delete(job.id);
    }
  }

  private async recordFailure<T>(
    name: string,
    job: PgBoss.JobWithMetadata<T>,
    error: unknown,
    started: number,
  ): Promise<void> {
    const message = messageOf(error);
    const nonRetryable = (this.options.isNonRetryable ?? defaultNonRetryable)(error);
    const state = nonRetryable || job.retryCount >= job.retryLimit ? 'failed' : 'retry';
    try {
      if (nonRetryable) {
        // pg-boss fails a job when retry_count = retry_limit; only this (active, ours) job is touched.
        await this.boss
          .getDb()
          .executeSql(
            `UPDATE ${this.schema}.job SET retry_limit = retry_count WHERE name = $1 AND id = $2 AND state = 'active'`,
            [name, job.id],
          );
      }
      // The message and the error's name, not its stack: the output is what GET /jobs/{id} shows.
      await this.boss.fail(name, job.id, {
        message,
        error: error instanceof Error ? error.name : 'Error',
        non_retryable: nonRetryable,
      });
    } catch (recordError) {
      // The database is gone: the job stays active until pg-boss's expiry fails it back to retry.
      this.options.logger.warn(
        { queue: name, job: job.id, err: { message: messageOf(recordError) } },
        'job queue: could not record a failure',
      );
      return;
    }
    this.options.logger.warn(
      {
        queue: name,
        job: job.id,
        try: job.retryCount + 1,
        of: job.retryLimit + 1,
        state,
        err: { name: error instanceof Error ? error.name : 'Error', message },
      },
      state === 'failed' ? 'job failed' : 'job failed; will retry',
    );
    this.settled({ name, id: job.id, state, seconds: (performance.now() - started) / 1000, error: message });
  }

  private settled(event: JobSettled): void {
    try {
      this.options.onSettled?.(event);
    } catch (error) {
      this.options.logger.warn({ err: { message: messageOf(error) } }, 'job queue: onSettled threw');
    }
  }

  /** One job (also after pg-boss archived it), or null. */
  async get(name: string, id: string): Promise<JobView | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null; // not a uuid: no job, not a SQL error
    const job = await this.boss.getJobById<unknown>(name, id, { includeArchive: true });
    if (!job) return null;
    const output: unknown = job.output ?? null;
    const error =
      (job.state === 'failed' || job.state === 'retry') &&
      typeof output === 'object' &&
      output !== null &&
      typeof (output as { message?: unknown }).message === 'string'
        ? (output as { message: string }).message
        : undefined;
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      data: job.data,
      output,
      retry_count: job.retryCount,
      retry_limit: job.retryLimit,
      created_at: iso(job.createdOn) ?? '',
      started_on: iso(job.startedOn),
      completed_on: iso(job.completedOn),
      ...(error === undefined ? {} : { error }),
    };
  }

  /** Jobs of the queue by state, in pg-boss's live table (settled jobs leave it when archived). */
  async counts(name: string): Promise<JobCounts> {
    const counts: JobCounts = { created: 0, retry: 0, active: 0, completed: 0, cancelled: 0, failed: 0 };
    const result = await this.boss
      .getDb()
      .executeSql(
        `SELECT state::text AS state, count(*)::int AS count FROM ${this.schema}.job WHERE name = $1 GROUP BY state`,
        [name],
      );
    for (const row of result.rows as { state: string; count: number }[]) {
      const state = JOB_STATES.find((s) => s === row.state);
      if (state) counts[state] = row.count;
    }
    return counts;
  }

  /** The queues define() was called for in this instance (for a depth gauge). */
  queueNames(): string[] {
    return [...this.defined.keys()];
  }

  /**
   * Stops fetching, waits up to stopTimeoutSeconds for running handlers, then fails the ones still
   * running back to retry (another instance or the next start takes them) and closes pg-boss.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping.abort();
    const timeoutMs = (this.options.stopTimeoutSeconds ?? 30) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([Promise.all([...this.loops]).then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const job of this.running.values()) {
        this.abandoned.add(job.id);
        job.abort.abort();
        this.options.logger.warn(
          { queue: job.name, job: job.id },
          'job queue: stopped while a job ran; it goes back to retry',
        );
        await this.boss
          .fail(job.name, job.id, { message: 'the worker stopped while the job ran' })
          .catch(() => undefined);
      }
    }
    await this.boss.stop({ graceful: false, close: true });
  }
}
