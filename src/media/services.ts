// What the API layer is given for media: the object store, its settings, and (when the job queue
// runs) the thumbnail jobs. One object, so routes and write checks take the same parts.
import type { S3Settings } from '../config.ts';
import type { EntityDef } from '../registry/model.ts';
import type { StoredRecord } from '../db/records.ts';
import type { MediaStorage } from './storage.ts';

/** A job as clients see it (GET /api/v1/jobs/{id}). */
export interface JobView {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly data: unknown;
  readonly output: unknown;
  readonly retry_count: number;
  readonly retry_limit: number;
  readonly created_at: string | null;
  readonly started_at: string | null;
  readonly completed_at: string | null;
  readonly error?: string;
}

/**
 * What the thumbnail jobs need of an entity's records (the API layer builds it from the entity's
 * actions and store): read a live record and its version, write server-owned fields if it is still
 * at that version, and hear of committed creates and updates.
 */
export interface ThumbnailRecords {
  readonly entity: EntityDef;
  get(id: string): Promise<{ readonly record: StoredRecord; readonly version: string | undefined } | null>;
  /** False when the record changed since `version` (or is gone); audited as an `update` by `actor`. */
  writeServerOwned(
    id: string,
    values: Record<string, unknown>,
    version: string | undefined,
    actor: string,
  ): Promise<boolean>;
  /** Runs `hook` on the values of every create and update, inside its transaction, before they are stored. */
  onWriting(hook: (values: Record<string, unknown>, current: StoredRecord | null) => void): void;
  /** Calls `listener` after each create or update has committed. */
  onCommitted(listener: (previous: StoredRecord | null, record: StoredRecord) => void): void;
}

export interface ThumbnailJobs {
  /** Registers an entity with a `thumbnails` block (once per entity; later calls are ignored). */
  attach(records: ThumbnailRecords): void;
  /** Queues (or re-queues) the thumbnails of a record; the job id. `atSeconds`: a frame source's time. */
  request(
    entity: EntityDef,
    id: string,
    options?: { readonly atSeconds?: number; readonly actor?: string | null },
  ): Promise<string>;
  job(id: string): Promise<JobView | null>;
}

export interface MediaServices {
  readonly storage: MediaStorage;
  readonly settings: S3Settings;
  readonly thumbnails?: ThumbnailJobs;
}
