// What an upload that will never complete leaves behind, and its removal: the parts of its
// multipart upload, and an object a client PUT at its key. The sweep (every few minutes while the
// service runs) expires pending uploads past their time and cleans up after them; abort cleans
// up after one at once. An object is only deleted when nothing else uses its key: no other
// completed or pending upload, and no record (deleted ones included) whose field holds its URI.
import type { Logger } from 'pino';
import type { DatabasePool } from '../db/pool.ts';
import { runNowAndEvery } from '../db/periodic.ts';
import { RecordStore } from '../db/records.ts';
import { parseListQuery } from '../query/list-query.ts';
import type { Model } from '../registry/model.ts';
import type { MediaStorage } from './storage.ts';
import { UploadStore, type UploadRow } from './upload-store.ts';

/** How often the sweep runs, and how many uploads one pass expires at most. */
export const SWEEP_EVERY_MS = 5 * 60 * 1000;
const SWEEP_BATCH = 200;

export class UploadCleanup {
  readonly uploads: UploadStore;
  private readonly stores = new Map<string, RecordStore>();

  constructor(
    pool: DatabasePool,
    private readonly storage: MediaStorage,
    private readonly model: Model,
  ) {
    this.uploads = new UploadStore(pool);
    for (const entity of model.entities) this.stores.set(entity.name, new RecordStore(pool, entity, model.entities));
  }

  /** Whether a record of the upload's entity (live or deleted) holds the upload's URI in its field. */
  private async recordUses(upload: UploadRow): Promise<boolean> {
    const store = this.stores.get(upload.entity);
    if (!store) return false;
    const params = new URLSearchParams({ [upload.field]: upload.uri, _limit: '1', _count: 'none', _fields: 'id' });
    if (store.supportsSoftDelete) params.set('include_deleted', 'true');
    const page = await store.list(parseListQuery(store.entity, params.toString(), this.model.entities));
    return page.records.length > 0;
  }

  /** Drops the multipart parts and any object left at the key (when nothing else uses it). */
  async removeLeftovers(upload: UploadRow): Promise<void> {
    if (upload.multipart_upload_id) await this.storage.abortMultipart(upload.key, upload.multipart_upload_id);
    if (await this.uploads.keyInUse(upload.bucket, upload.key, upload.id)) return;
    if (await this.recordUses(upload)) return;
    await this.storage.deleteObject(upload.bucket, upload.key);
  }

  /**
   * One pass: pending uploads past expires_at become `expired` (committed first, so a complete
   * racing it sees the state), then their leftovers go. How many were expired.
   */
  async sweep(logger?: Logger): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await this.uploads.expireDue(SWEEP_BATCH);
      total += expired.length;
      for (const upload of expired) {
        try {
          await this.removeLeftovers(upload);
        } catch (error) {
          // The row stays expired; the object (if any) stays until removed by hand or a lifecycle rule.
          logger?.warn(
            { err: error, upload: upload.id, key: upload.key },
            'could not remove what an expired upload left in S3',
          );
        }
      }
      if (expired.length < SWEEP_BATCH) return total;
    }
  }
}

/** Sweeps now and every SWEEP_EVERY_MS while the service runs; the returned function stops it. */
export async function scheduleUploadSweep(
  cleanup: UploadCleanup,
  logger: Logger,
  everyMs = SWEEP_EVERY_MS,
): Promise<() => void> {
  const pass = async () => {
    try {
      const expired = await cleanup.sweep(logger);
      if (expired > 0) logger.info({ expired }, 'abandoned uploads expired');
    } catch (error) {
      logger.error({ err: error }, 'the upload sweep failed; it runs again in a few minutes');
    }
  };
  return runNowAndEvery(everyMs, pass);
}
