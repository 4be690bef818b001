// What the API layer is given for media: the object store, its settings, and (when the job queue
// runs) the thumbnail jobs. One object, so routes and write checks take the same parts.
import type { S3Settings } from '../config.ts';
import type { EntityDef } from '../registry/model.ts';
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

export interface ThumbnailJobs {
  /** Queues (or re-queues) the thumbnails of a record; the job id. `atSeconds`: a frame source's time. */
  request(entity: EntityDef, id: string, options?: { readonly atSeconds?: number; readonly actor?: string | null }): Promise<string>;
  job(id: string): Promise<JobView | null>;
}

export interface MediaServices {
  readonly storage: MediaStorage;
  readonly settings: S3Settings;
  readonly thumbnails?: ThumbnailJobs;
}
