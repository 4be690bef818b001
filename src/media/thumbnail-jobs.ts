// Asynchronous thumbnails (seed §8.12, issue 14): one `thumbnails` job per request, on the
// PostgreSQL job queue (src/jobs/queue.ts). What lives here:
// - Automatic: a create or update that changes a source writes status `queued` with a job id chosen
//   here in the same transaction (a write rule), and the job is sent under that id after the commit.
// - request() (POST …/thumbnails): writes status `queued` with a new job id, then sends the job.
//   Either way the status is written before the job exists, so a worker never meets an older
//   status than its own job; a send that fails leaves `queued` with a job pg-boss does not know,
//   which the sweep (every minute) sends again under the same id (sending an existing id queues
//   nothing, so two instances sweeping at once are harmless).
// - Bursts: pg-boss 10 drops a singleton send only within a `singletonSeconds` window that also
//   counts completed jobs, so a change made just after a job finished could be lost. Instead every
//   request queues a job (singletonKey `{entity}:{id}` recorded for lookups, not throttling) and a
//   job whose id is no longer the record's status.job_id completes at once as superseded: a burst
//   of writes renders once, from the latest request.
// - The handler: the record's sources in their declared order (a custom image, a video frame, a
//   composed image), the three sizes to the thumbnail bucket at thumbnails/{plural}/{id}/{size}.jpg,
//   then status `done` and the list field. A corrupt source fails the job at once (no retries); an
//   object store that is down is retried by pg-boss with backoff, and the last failed try writes
//   status `failed` too.
// - Status writes are the record's server-owned fields, written through the entity's actions
//   (audited as `update` by `reelmeta-thumbnails`, ETag bumped) only when the record is still at
//   the version the job read, so a client's write in between is never lost nor overwritten.
import { valueAtPath } from '../registry/own.ts';
import type { Logger } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { randomUUID } from 'node:crypto';
import type { StoredRecord } from '../db/records.ts';
import { runNowAndEvery } from '../db/periodic.ts';
import type { JobContext, JobQueue } from '../jobs/queue.ts';
import type { ThumbnailSource, ThumbnailsDef } from '../registry/media.ts';
import type { EntityDef } from '../registry/model.ts';
import type { JobView, ThumbnailJobs, ThumbnailRecords } from './services.ts';
import { parseS3Uri, type MediaStorage } from './storage.ts';
import { captureFrame } from './thumbnails/frame.ts';
import { composeImage } from './thumbnails/compose.ts';
import { MediaProcessingError, messageOf } from './thumbnails/errors.ts';
import { renderThumbnails } from './thumbnails/render.ts';

export const THUMBNAIL_QUEUE = 'thumbnails';
/** The actor of the job's own status writes in the audit trail. */
export const THUMBNAIL_ACTOR = 'reelmeta-thumbnails';
/** The largest source image read into memory. */
export const SOURCE_MAX_BYTES = 60 * 1024 * 1024;
/** How often queued records whose job never reached the queue are sent again. */
export const SWEEP_EVERY_MS = 60_000;
/** Status writes tried again when the record changed in between (each try re-reads it). */
const WRITE_TRIES = 5;

/** request() for a record that is not (or no longer) live. */
export class ThumbnailRecordGone extends Error {
  override readonly name = 'ThumbnailRecordGone';
}

export interface ThumbnailJobData {
  readonly entity: string;
  readonly id: string;
  readonly at_seconds?: number;
}

export interface ThumbnailImage {
  readonly size: string;
  readonly width: number;
  readonly height: number;
  readonly uri: string;
  readonly content_type: string;
  readonly bytes: number;
}

type Status = Record<string, unknown> & { readonly state?: unknown; readonly job_id?: unknown };

/** The source image a job found, and what the status calls it. */
interface Found {
  readonly image: Buffer;
  readonly source: string;
}

/** The paths a definition reads its sources from. */
export function sourcePaths(def: ThumbnailsDef): (readonly string[])[] {
  return def.sources.flatMap((s) => (s.kind === 'compose' ? [s.over, ...(s.under ? [s.under] : [])] : [s.path]));
}

/** Whether a write changes one of the thumbnail sources (a create counts when it sets one). */
export function sourcesChanged(
  def: ThumbnailsDef,
  previous: Record<string, unknown> | null,
  record: Record<string, unknown>,
): boolean {
  return sourcePaths(def).some((path) => {
    const now = valueAtPath(record, path) ?? null;
    const before = previous === null ? null : (valueAtPath(previous, path) ?? null);
    return now !== before;
  });
}

function statusOf(def: ThumbnailsDef, record: Record<string, unknown>): Status {
  const status = valueAtPath(record, [def.status]);
  return typeof status === 'object' && status !== null && !Array.isArray(status) ? (status as Status) : {};
}

function label(source: ThumbnailSource): string {
  if (source.kind === 'compose') return 'compose';
  return `${source.kind}:${source.path.join('.')}`;
}

export interface ThumbnailServiceOptions {
  readonly queue: JobQueue;
  readonly storage: MediaStorage;
  readonly pool: DatabasePool;
  readonly logger: Logger;
}

export class ThumbnailService implements ThumbnailJobs {
  private readonly targets = new Map<string, ThumbnailRecords>();
  private stopSweep: (() => void) | undefined;

  constructor(private readonly options: ThumbnailServiceOptions) {}

  /**
   * Registers an entity with a `thumbnails` block. A create or update that changes a source gets
   * status `queued` with a new job id in the same write (so the record the client is answered
   * with, and its ETag, already hold it); once the write has committed the job is sent. A send
   * that fails is logged, not thrown: the write stands and the sweep sends the job later.
   */
  attach(records: ThumbnailRecords): void {
    const def = records.entity.thumbnails;
    if (!def || this.targets.has(records.entity.name)) return;
    this.targets.set(records.entity.name, records);
    records.onWriting((values, current) => {
      if (!sourcesChanged(def, current, values)) return;
      values[def.status] = { state: 'queued', job_id: randomUUID(), requested_at: new Date().toISOString() };
    });
    records.onCommitted((previous, record) => {
      const status = statusOf(def, record);
      const before = previous === null ? {} : statusOf(def, previous);
      if (status.state !== 'queued' || typeof status.job_id !== 'string' || status.job_id === before.job_id) return;
      this.send({ entity: records.entity.name, id: record.id }, status.job_id).catch((error: unknown) =>
        this.options.logger.warn(
          { entity: records.entity.name, id: record.id, job: status.job_id, err: { message: messageOf(error) } },
          'thumbnails: could not queue the job; the sweep will send it',
        ),
      );
    });
  }

  private target(entity: string): ThumbnailRecords | undefined {
    return this.targets.get(entity);
  }

  async request(
    entity: EntityDef,
    id: string,
    options: { readonly atSeconds?: number; readonly actor?: string | null } = {},
  ): Promise<string> {
    const records = this.target(entity.name);
    const def = entity.thumbnails;
    if (!records || !def) throw new Error(`${entity.name} has no thumbnails`);
    const jobId = randomUUID();
    const status = {
      state: 'queued',
      job_id: jobId,
      requested_at: new Date().toISOString(),
      ...(options.atSeconds === undefined ? {} : { at_seconds: options.atSeconds }),
    };
    const written = await this.writeStatus(records, id, () => status, options.actor ?? THUMBNAIL_ACTOR);
    if (!written) throw new ThumbnailRecordGone(`${entity.name} ${id} is gone`);
    await this.send(
      { entity: entity.name, id, ...(options.atSeconds === undefined ? {} : { at_seconds: options.atSeconds }) },
      jobId,
    );
    return jobId;
  }

  private async send(data: ThumbnailJobData, jobId: string): Promise<void> {
    await this.options.queue.send(THUMBNAIL_QUEUE, data, { id: jobId, singletonKey: `${data.entity}:${data.id}` });
  }

  async job(id: string): Promise<JobView | null> {
    const job = await this.options.queue.get(THUMBNAIL_QUEUE, id);
    if (!job) return null;
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      data: job.data,
      output: job.output,
      retry_count: job.retry_count,
      retry_limit: job.retry_limit,
      created_at: job.created_at,
      started_at: job.started_on,
      completed_at: job.completed_on,
      ...(job.error === undefined ? {} : { error: job.error }),
    };
  }

  /**
   * Writes the status `next` computes from the live record, unless a newer request took the record
   * over (`next` returns null). A client's write in between makes the write fail and be tried again
   * on the new version. False: the record is gone (or `next` declined).
   */
  private async writeStatus(
    records: ThumbnailRecords,
    id: string,
    next: (current: StoredRecord, status: Status) => Record<string, unknown> | null,
    actor: string,
    extra: (status: Record<string, unknown>) => Record<string, unknown> = () => ({}),
  ): Promise<boolean> {
    const def = records.entity.thumbnails!;
    for (let attempt = 1; ; attempt++) {
      const live = await records.get(id);
      if (!live) return false;
      const status = next(live.record, statusOf(def, live.record));
      if (status === null) return false;
      if (await records.writeServerOwned(id, { [def.status]: status, ...extra(status) }, live.version, actor))
        return true;
      if (attempt >= WRITE_TRIES)
        throw new Error(`${records.entity.name} ${id} kept changing while its thumbnail status was written`);
    }
  }

  /** The job handler (see the opening comment). */
  async handle(job: JobContext<ThumbnailJobData>): Promise<Record<string, unknown>> {
    const records = this.target(job.data.entity);
    const def = records?.entity.thumbnails;
    if (!records || !def) throw new MediaProcessingError(`${job.data.entity} has no thumbnails`);
    const id = job.data.id;
    const ours = (status: Status) => status.job_id === job.id;
    const live = await records.get(id);
    if (!live) return { skipped: 'record deleted' };
    const current = statusOf(def, live.record);
    if (!ours(current)) return { skipped: `superseded by job ${String(current.job_id)}` };
    const started: Record<string, unknown> = {
      ...current,
      state: 'running',
      job_id: job.id,
      started_at: new Date().toISOString(),
      try: job.retryCount + 1,
    };
    delete started.error;
    delete started.retry_after_error_at;
    if (!(await this.writeStatus(records, id, (_, s) => (ours(s) ? started : null), THUMBNAIL_ACTOR))) {
      return { skipped: 'record deleted or superseded' };
    }
    try {
      const again = await records.get(id);
      if (!again) return { skipped: 'record deleted' };
      const found = await this.findSource(records.entity, def, again.record, job.data);
      if (!found.image) throw new MediaProcessingError(`no source image: ${found.tried.join('; ')}`);
      const rendered = await renderThumbnails(found.image.image);
      const images: ThumbnailImage[] = [];
      const bucket = this.options.storage.thumbnailBucket;
      for (const thumb of rendered) {
        const key = `thumbnails/${records.entity.plural}/${id}/${thumb.size}.${thumb.extension}`;
        await this.options.storage.putObject(bucket, key, thumb.body, thumb.contentType);
        images.push({
          size: thumb.size,
          width: thumb.width,
          height: thumb.height,
          uri: `s3://${bucket}/${key}`,
          content_type: thumb.contentType,
          bytes: thumb.body.length,
        });
      }
      const done = {
        state: 'done',
        job_id: job.id,
        source: found.image.source,
        ...(started.requested_at === undefined ? {} : { requested_at: started.requested_at }),
        started_at: started.started_at,
        finished_at: new Date().toISOString(),
        images,
      };
      const uris = images.map((image) => image.uri);
      const wrote = await this.writeStatus(
        records,
        id,
        (_, s) => (ours(s) ? done : null),
        THUMBNAIL_ACTOR,
        () => ({ [def.field]: uris }),
      );
      if (!wrote) return { skipped: 'record deleted or superseded while rendering', images: uris };
      return { source: found.image.source, images: uris };
    } catch (error) {
      const final = (error as { retryable?: unknown }).retryable === false || job.retryCount >= job.retryLimit;
      const failed = {
        ...started,
        state: final ? 'failed' : 'retrying',
        error: messageOf(error),
        [final ? 'failed_at' : 'retry_after_error_at']: new Date().toISOString(),
      };
      await this.writeStatus(records, id, (_, s) => (ours(s) ? failed : null), THUMBNAIL_ACTOR).catch(
        (writeError: unknown) =>
          this.options.logger.warn(
            { job: job.id, err: { message: messageOf(writeError) } },
            'thumbnails: could not record the failure in the status',
          ),
      );
      throw error;
    }
  }

  /** The first declared source that yields an image; what was tried otherwise. */
  private async findSource(
    entity: EntityDef,
    def: ThumbnailsDef,
    record: StoredRecord,
    data: ThumbnailJobData,
  ): Promise<{ image: Found | null; tried: string[] }> {
    const tried: string[] = [];
    for (const source of def.sources) {
      const name = label(source);
      if (source.kind === 'image') {
        const image = await this.read(valueAtPath(record, source.path));
        if (image.buffer) return { image: { image: image.buffer, source: name }, tried };
        tried.push(`${source.path.join('.')} ${image.why}`);
      } else if (source.kind === 'frame') {
        const uri = valueAtPath(record, source.path);
        const parsed = typeof uri === 'string' ? parseS3Uri(uri) : null;
        if (!parsed) {
          tried.push(`${source.path.join('.')} ${typeof uri === 'string' ? 'is not an s3:// URI' : 'is empty'}`);
          continue;
        }
        if (!(await this.options.storage.head(parsed.bucket, parsed.key))) {
          tried.push(`${source.path.join('.')} ${String(uri)} is not in the object store`);
          continue;
        }
        const url = await this.options.storage.presignGet(parsed.bucket, parsed.key);
        const frame = await captureFrame(url, data.at_seconds ?? source.atSeconds);
        return { image: { image: frame, source: name }, tried };
      } else {
        const over = await this.read(valueAtPath(record, source.over));
        const under = source.under ? await this.read(valueAtPath(record, source.under)) : { buffer: null, why: '' };
        if (over.buffer || under.buffer)
          return { image: { image: await composeImage(over.buffer, under.buffer), source: name }, tried };
        tried.push(
          `compose: ${source.over.join('.')} ${over.why}${source.under ? `, ${source.under.join('.')} ${under.why}` : ''}`,
        );
      }
    }
    if (def.sources.length === 0) tried.push(`${entity.name} declares no sources`);
    return { image: null, tried };
  }

  /** The object at an s3:// URI value, or why there is none. */
  private async read(uri: unknown): Promise<{ buffer: Buffer | null; why: string }> {
    if (typeof uri !== 'string' || uri === '') return { buffer: null, why: 'is empty' };
    const parsed = parseS3Uri(uri);
    if (!parsed) return { buffer: null, why: `${uri} is not an s3:// URI` };
    let buffer: Buffer | null;
    try {
      buffer = await this.options.storage.getObject(parsed.bucket, parsed.key, SOURCE_MAX_BYTES);
    } catch (error) {
      // Too large is a property of the input: no retry would help.
      if (messageOf(error).includes('more than the'))
        throw new MediaProcessingError(messageOf(error), { cause: error });
      throw error;
    }
    return buffer ? { buffer, why: '' } : { buffer: null, why: `${uri} is not in the object store` };
  }

  /**
   * Records whose status is `queued` but whose job pg-boss does not know (the send failed after
   * the status was written, e.g. the database dropped): their job is sent again under its id.
   */
  async sweep(): Promise<number> {
    let sent = 0;
    for (const records of this.targets.values()) {
      const entity = records.entity;
      const def = entity.thumbnails!;
      const status = sql.identifier([def.status]);
      const live = entity.fields.some((f) => f.name === 'deleted_at')
        ? sql.fragment`AND deleted_at IS NULL`
        : sql.fragment``;
      const rows = await this.options.pool.any(sql.unsafe`
        SELECT id, ${status} AS status FROM ${sql.identifier([entity.table])}
        WHERE (${status} #>> ${sql.literalValue('{state}')}) = 'queued' ${live} ORDER BY id LIMIT 1000`);
      for (const row of rows as readonly { id: string; status: Status }[]) {
        const jobId = row.status.job_id;
        if (typeof jobId !== 'string' || (await this.options.queue.get(THUMBNAIL_QUEUE, jobId))) continue;
        const at = row.status.at_seconds;
        await this.send(
          { entity: entity.name, id: row.id, ...(typeof at === 'number' ? { at_seconds: at } : {}) },
          jobId,
        );
        this.options.logger.info(
          { entity: entity.name, id: row.id, job: jobId },
          'thumbnails: sent a queued job that had not reached the queue',
        );
        sent++;
      }
    }
    return sent;
  }

  /** Starts the sweep (at once, then every SWEEP_EVERY_MS); errors are logged, not thrown. */
  async startSweep(everyMs = SWEEP_EVERY_MS): Promise<void> {
    this.stopSweep = await runNowAndEvery(everyMs, async () => {
      await this.sweep().catch((error: unknown) =>
        this.options.logger.warn({ err: { message: messageOf(error) } }, 'thumbnails: sweep failed'),
      );
    });
  }

  /** Starts this instance's workers for the queue. */
  async work(concurrency: number): Promise<void> {
    await this.options.queue.work<ThumbnailJobData>(THUMBNAIL_QUEUE, { concurrency }, (job) => this.handle(job));
  }

  stop(): void {
    this.stopSweep?.();
    this.stopSweep = undefined;
  }
}
