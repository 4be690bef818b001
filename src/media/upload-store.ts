// The rows of the uploads table: one is written when a URL is presigned, locked and moved on
// (completed, aborted, expired) later. Reads and lists go through the generic RecordStore; the
// writes here are the few the upload service makes, as bound parameters.
import { sql, type CommonQueryMethods, type DatabaseConnection } from 'slonik';
import type { DatabasePool } from '../db/pool.ts';
import { RecordStore, type StoredRecord } from '../db/records.ts';
import { UPLOAD_ENTITY, type UploadState } from './upload-entity.ts';

const TABLE = sql.identifier([UPLOAD_ENTITY.table]);

/** An upload row as the service reads it. */
export interface UploadRow extends StoredRecord {
  readonly entity: string;
  readonly record_id: string | null;
  readonly field: string;
  readonly filename: string;
  readonly content_type: string;
  readonly size_bytes: number;
  readonly sha256: string | null;
  readonly bucket: string;
  readonly key: string;
  readonly uri: string;
  readonly state: UploadState;
  readonly multipart_upload_id: string | null;
  readonly part_size: number | null;
  readonly part_count: number | null;
  readonly defaults: Record<string, unknown> | null;
  readonly etag: string | null;
  readonly created_by: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly expires_at: string;
  readonly completed_at: string | null;
}

export interface NewUpload {
  readonly id: string;
  readonly entity: string;
  readonly recordId: string | null;
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly sha256: string | null;
  readonly bucket: string;
  readonly key: string;
  readonly uri: string;
  readonly multipartUploadId: string | null;
  readonly partSize: number | null;
  readonly partCount: number | null;
  readonly defaults: Record<string, unknown> | null;
  readonly createdBy: string | null;
  readonly expiresInSeconds: number;
}

export class UploadStore {
  readonly records: RecordStore;

  constructor(private readonly pool: DatabasePool) {
    this.records = new RecordStore(pool, UPLOAD_ENTITY);
  }

  /** Inserts a pending upload with its id (chosen first: the key template may hold it). */
  async insert(upload: NewUpload): Promise<UploadRow> {
    await this.pool.query(sql.unsafe`
      INSERT INTO ${TABLE} (id, schema_version, entity, record_id, field, filename, content_type, size_bytes, sha256, bucket, key, uri, state,
        multipart_upload_id, part_size, part_count, defaults, created_by, created_at, updated_at, expires_at)
      VALUES (${upload.id}, ${UPLOAD_ENTITY.schemaVersion}, ${upload.entity}, ${upload.recordId}, ${upload.field}, ${upload.filename}, ${upload.contentType},
        ${upload.sizeBytes}, ${upload.sha256}, ${upload.bucket}, ${upload.key}, ${upload.uri}, 'pending',
        ${upload.multipartUploadId}, ${upload.partSize}, ${upload.partCount}, ${upload.defaults === null ? null : sql.jsonb(upload.defaults as Parameters<typeof sql.jsonb>[0])},
        ${upload.createdBy}, now(), now(), now() + make_interval(secs => ${upload.expiresInSeconds}))`);
    return (await this.get(upload.id))!;
  }

  async get(id: string, db: CommonQueryMethods = this.pool): Promise<UploadRow | null> {
    return (await this.records.get(id, {}, db)) as UploadRow | null;
  }

  /** The row locked until `tx` ends, so one complete (or abort, or the sweep) moves it at a time. */
  async lock(id: string, tx: DatabaseConnection): Promise<UploadRow | null> {
    return (await this.records.lock(id, {}, tx)) as UploadRow | null;
  }

  async markCompleted(id: string, recordId: string, etag: string, tx: CommonQueryMethods): Promise<UploadRow> {
    await tx.query(sql.unsafe`
      UPDATE ${TABLE} SET state = 'completed', record_id = ${recordId}, etag = ${etag}, completed_at = now(), updated_at = now()
      WHERE id = ${id} AND state = 'pending'`);
    return (await this.get(id, tx))!;
  }

  async markAborted(id: string, tx: CommonQueryMethods): Promise<UploadRow> {
    await tx.query(
      sql.unsafe`UPDATE ${TABLE} SET state = 'aborted', updated_at = now() WHERE id = ${id} AND state = 'pending'`,
    );
    return (await this.get(id, tx))!;
  }

  /**
   * Marks up to `limit` pending uploads past their time expired, skipping rows a complete holds
   * locked (it will see them expired itself); the rows as marked.
   */
  async expireDue(limit: number): Promise<UploadRow[]> {
    const rows = await this.pool.any(sql.unsafe`
      WITH due AS (
        SELECT id FROM ${TABLE} WHERE state = 'pending' AND expires_at <= now()
        ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      UPDATE ${TABLE} AS u SET state = 'expired', updated_at = now() FROM due WHERE u.id = due.id
      RETURNING u.id`);
    const expired: UploadRow[] = [];
    for (const row of rows) expired.push((await this.get(row.id as string))!);
    return expired;
  }

  /** Whether another upload, completed or still pending, lands at this bucket and key. */
  async keyInUse(bucket: string, key: string, exceptId: string): Promise<boolean> {
    return (await this.pool.oneFirst(sql.unsafe`
      SELECT EXISTS (SELECT 1 FROM ${TABLE} WHERE bucket = ${bucket} AND key = ${key} AND id <> ${exceptId} AND state IN ('completed', 'pending'))`)) as boolean;
  }
}
