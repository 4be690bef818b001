// The PostgreSQL job queue (pg-boss 10 under src/jobs/queue.ts) against a real PostgreSQL, one fresh
// database for this file: jobs complete with their output, retry, end failed with the error, fail at
// once when not retryable, survive a restart, are run exactly once by two instances, and stop()
// waits for a running job. pg-boss polls, so every wait is a bounded poll loop, never a timing check.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue, type JobQueueOptions, type JobSettled, type JobView } from '../src/jobs/queue.ts';
import { MediaProcessingError } from '../src/media/thumbnails/errors.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const POLL = 0.5; // pg-boss 10's minimum polling interval

let db: TestDatabase;
const logLines: Record<string, unknown>[] = [];
let logger: Logger;
const settled: JobSettled[] = [];
let first: JobQueue;
let second: JobQueue;
const others: JobQueue[] = [];

function options(extra: Partial<JobQueueOptions> = {}): JobQueueOptions {
  return { databaseUrl: db.url, logger, pollingIntervalSeconds: POLL, onSettled: (e) => settled.push(e), ...extra };
}

async function startQueue(extra: Partial<JobQueueOptions> = {}): Promise<JobQueue> {
  const queue = await JobQueue.start(options(extra));
  others.push(queue);
  return queue;
}

/** Polls until `check` returns a value, for at most `seconds`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, seconds = 40): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function waitForState(queue: JobQueue, name: string, id: string, state: JobView['state']): Promise<JobView> {
  return waitFor(`${name} job ${id} to be ${state}`, async () => {
    const job = await queue.get(name, id);
    return job?.state === state ? job : undefined;
  });
}

function sent(id: string | null): string {
  if (!id) throw new Error('send returned no id');
  return id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  // Two instances starting at once on a database without pg-boss's schema: both must come up.
  [first, second] = await Promise.all([JobQueue.start(options()), JobQueue.start(options())]);
});

afterAll(async () => {
  await Promise.allSettled([first?.stop(), second?.stop(), ...others.map((q) => q.stop())]);
  await db?.drop();
});

describe('JobQueue', () => {
  it('two instances starting together on a fresh database share one installed schema', async () => {
    const [row] = await db.query<{ version: string }>('SELECT version::text FROM pgboss.version');
    expect(row?.version).toMatch(/^\d+$/);
    // Both define the same queue at once too.
    await Promise.all([
      first.define('together', { retryLimit: 1, retryDelaySeconds: 0, expireInSeconds: 60 }),
      second.define('together', { retryLimit: 1, retryDelaySeconds: 0, expireInSeconds: 60 }),
    ]);
    expect(await db.query("SELECT name FROM pgboss.queue WHERE name = 'together'")).toHaveLength(1);
  });

  it('runs a job once and completes it with the handler output', async () => {
    await first.define('once', { retryLimit: 2, retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 60 });
    const calls: unknown[] = [];
    await first.work<{ n: number }>('once', { concurrency: 1 }, async (job) => {
      calls.push(job.data);
      return { double: job.data.n * 2 };
    });
    const id = sent(await first.send('once', { n: 21 }));
    const job = await waitForState(first, 'once', id, 'completed');
    expect(job).toMatchObject({
      id,
      name: 'once',
      data: { n: 21 },
      output: { double: 42 },
      retry_count: 0,
      retry_limit: 2,
    });
    expect(job.error).toBeUndefined();
    expect(job.completed_on).not.toBeNull();
    expect(Date.parse(job.created_at)).not.toBeNaN();
    expect(calls).toEqual([{ n: 21 }]);
    expect(settled.filter((e) => e.id === id).map((e) => e.state)).toEqual(['completed']);
  });

  it('retries a handler that throws twice, then completes', async () => {
    await first.define('flaky', { retryLimit: 3, retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 60 });
    const tries = new Map<string, number>();
    await first.work('flaky', {}, async (job) => {
      const n = (tries.get(job.id) ?? 0) + 1;
      tries.set(job.id, n);
      if (n <= 2) throw new Error(`flaky try ${n}`);
      return { tries: n, retryCount: job.retryCount };
    });
    const id = sent(await first.send('flaky', {}));
    const job = await waitForState(first, 'flaky', id, 'completed');
    expect(job).toMatchObject({ retry_count: 2, output: { tries: 3, retryCount: 2 } });
    expect(tries.get(id)).toBe(3);
    expect(settled.filter((e) => e.id === id).map((e) => e.state)).toEqual(['retry', 'retry', 'completed']);
  });

  it('ends failed with the error after retryLimit + 1 tries, with a warning and no stack in the log', async () => {
    await first.define('doomed', { retryLimit: 2, retryDelaySeconds: 1, retryBackoff: true, expireInSeconds: 60 });
    const tries = new Map<string, number>();
    await first.work('doomed', {}, async (job) => {
      tries.set(job.id, (tries.get(job.id) ?? 0) + 1);
      throw new Error('the thumbnail bucket said no');
    });
    const id = sent(await first.send('doomed', { clip: 'clip_1' }));
    const job = await waitForState(first, 'doomed', id, 'failed');
    expect(job).toMatchObject({
      state: 'failed',
      retry_count: 2,
      retry_limit: 2,
      error: 'the thumbnail bucket said no',
    });
    expect(tries.get(id)).toBe(3);
    expect(settled.filter((e) => e.id === id).map((e) => e.state)).toEqual(['retry', 'retry', 'failed']);
    const warnings = logLines.filter((l) => l.job === id);
    expect(warnings.map((l) => l.msg)).toEqual(['job failed; will retry', 'job failed; will retry', 'job failed']);
    expect(JSON.stringify(warnings)).not.toContain('at async');
    expect(JSON.stringify(job.output)).not.toContain('stack');
  });

  it('fails a non-retryable error (MediaProcessingError) at once', async () => {
    await first.define('corrupt', { retryLimit: 5, retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 60 });
    const tries = new Map<string, number>();
    await first.work('corrupt', {}, async (job) => {
      tries.set(job.id, (tries.get(job.id) ?? 0) + 1);
      throw new MediaProcessingError('the source is not an image sharp can read: unsupported image format');
    });
    const id = sent(await first.send('corrupt', {}));
    const job = await waitForState(first, 'corrupt', id, 'failed');
    expect(job).toMatchObject({
      retry_count: 0,
      error: 'the source is not an image sharp can read: unsupported image format',
    });
    expect(job.output).toMatchObject({ error: 'MediaProcessingError', non_retryable: true });
    expect(tries.get(id)).toBe(1);
    expect(settled.filter((e) => e.id === id).map((e) => e.state)).toEqual(['failed']);
  });

  it('keeps jobs sent while no worker runs and drains them after a restart', async () => {
    const before = await startQueue();
    await before.define('queued', { retryLimit: 1, retryDelaySeconds: 0, expireInSeconds: 60 });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(sent(await before.send('queued', { i })));
    expect((await before.counts('queued')).created).toBe(5);
    await before.stop();

    const after = await startQueue();
    await after.define('queued', { retryLimit: 1, retryDelaySeconds: 0, expireInSeconds: 60 });
    const seen: number[] = [];
    await after.work<{ i: number }>('queued', { concurrency: 2 }, async (job) => {
      seen.push(job.data.i);
      return { i: job.data.i };
    });
    for (const id of ids) await waitForState(after, 'queued', id, 'completed');
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await after.counts('queued')).toMatchObject({ created: 0, active: 0, completed: 5 });
  });

  it('two instances working one queue run each of N jobs exactly once', async () => {
    await first.define('shared', { retryLimit: 0, retryDelaySeconds: 0, expireInSeconds: 60 });
    await second.define('shared', { retryLimit: 0, retryDelaySeconds: 0, expireInSeconds: 60 });
    const calls = new Map<string, number>();
    const byInstance = new Map<string, number>();
    const handler = (instance: string) => async (job: { id: string }) => {
      calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
      byInstance.set(instance, (byInstance.get(instance) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 5));
    };
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(sent(await first.send('shared', { i })));
    await Promise.all([
      first.work('shared', { concurrency: 3 }, handler('first')),
      second.work('shared', { concurrency: 3 }, handler('second')),
    ]);
    await waitFor('all shared jobs completed', async () => (await first.counts('shared')).completed === ids.length);
    expect([...calls.keys()].sort()).toEqual([...ids].sort());
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect([...byInstance.values()].reduce((a, b) => a + b, 0)).toBe(ids.length);
  });

  it('stop() waits for the running job to finish and records it completed', async () => {
    const queue = await startQueue();
    await queue.define('slow', { retryLimit: 1, retryDelaySeconds: 0, expireInSeconds: 60 });
    let entered = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await queue.work('slow', {}, async () => {
      entered = true;
      await gate;
      return { finished: true };
    });
    const id = sent(await queue.send('slow', {}));
    await waitFor('the slow job to start', async () => entered);
    let stopped = false;
    const stopping = queue.stop().then(() => {
      stopped = true;
    });
    // The handler is held: stop() cannot have finished, whatever the scheduling.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await stopping;
    const job = await first.get('slow', id);
    expect(job).toMatchObject({ state: 'completed', output: { finished: true } });
  });

  it('stop() gives up after its timeout, aborts the handler and puts the job back to retry', async () => {
    const queue = await startQueue({ stopTimeoutSeconds: 1 });
    await queue.define('stuck', { retryLimit: 2, retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 60 });
    let signal: AbortSignal | undefined;
    await queue.work('stuck', {}, (job) => {
      signal = job.signal;
      return new Promise<void>(() => undefined); // never settles
    });
    const id = sent(await queue.send('stuck', {}));
    await waitFor('the stuck job to start', async () => signal);
    await queue.stop();
    expect(signal?.aborted).toBe(true);
    const job = await first.get('stuck', id);
    expect(job).toMatchObject({ state: 'retry', error: 'the worker stopped while the job ran' });
  });

  it('fails a try that outlives expireInSeconds and retries it', async () => {
    await first.define('expiring', { retryLimit: 1, retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 1 });
    const tries = new Map<string, number>();
    await first.work('expiring', {}, async (job) => {
      const n = (tries.get(job.id) ?? 0) + 1;
      tries.set(job.id, n);
      if (n === 1) await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      return { n };
    });
    const id = sent(await first.send('expiring', {}));
    const job = await waitForState(first, 'expiring', id, 'completed');
    expect(job).toMatchObject({ retry_count: 1, output: { n: 2 } });
    expect(settled.find((e) => e.id === id && e.state === 'retry')?.error).toMatch(/ran longer than its 1 s/);
  });

  it('counts jobs by state and feeds the /metrics job series', async () => {
    const metrics = new Metrics();
    const queue = await startQueue({ onSettled: (e) => metrics.observeJob(e) });
    metrics.watchJobQueue(queue);
    await queue.define('measured', { retryLimit: 0, retryDelaySeconds: 0, expireInSeconds: 60 });
    const ids = [
      sent(await queue.send('measured', { ok: true })),
      sent(await queue.send('measured', { ok: false })),
      sent(await queue.send('measured', { ok: true })),
    ];
    expect(await queue.counts('measured')).toEqual({
      created: 3,
      retry: 0,
      active: 0,
      completed: 0,
      cancelled: 0,
      failed: 0,
    });
    expect(await metrics.registry.metrics()).toContain('job_queue_jobs{queue="measured",state="created"} 3');

    await queue.work<{ ok: boolean }>('measured', {}, async (job) => {
      if (!job.data.ok) throw new Error('not ok');
    });
    await waitFor('measured jobs settled', async () => {
      const c = await queue.counts('measured');
      return c.completed === 2 && c.failed === 1;
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('job_duration_seconds_count{queue="measured",state="completed"} 2');
    expect(text).toContain('job_duration_seconds_count{queue="measured",state="failed"} 1');
    expect(text).toContain('jobs_failed_total{queue="measured"} 1');
    expect(text).toContain('job_queue_jobs{queue="measured",state="completed"} 2');
    expect(ids).toHaveLength(3);
  });

  it('answers null for an unknown or malformed job id, and refuses to work an undefined queue', async () => {
    expect(await first.get('once', '00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(await first.get('once', "1' OR '1'='1")).toBeNull();
    await expect(first.work('never-defined', {}, async () => undefined)).rejects.toThrow(/not defined/);
  });
});
