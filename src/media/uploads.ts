// Presigned uploads (seed 8.2), for any media field of any entity: presign (a PUT URL, or a
// multipart upload with a URL per part), complete (S3 is asked what arrived; only a file that is
// exactly what was declared is set on the record, through the entity's normal write path, in the
// same transaction as the upload row), abort, and the part URLs past the first page. No HTTP
// here: the routes (src/api/upload-routes.ts) check roles and answer; refusals are UploadRefused.
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { DatabaseConnection } from 'slonik';
import type { S3Settings } from '../config.ts';
import type { DatabasePool } from '../db/pool.ts';
import { generateId, type StoredRecord } from '../db/records.ts';
import { transact } from '../db/work.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import { keyFields, renderKey } from '../registry/media.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import { s3Uri, type MediaStorage, type ObjectInfo } from './storage.ts';
import { UPLOAD_ENTITY } from './upload-entity.ts';
import { UploadRefused } from './upload-refused.ts';
import { formatBytes, MAX_SINGLE_PUT_BYTES, type UploadRequest } from './upload-request.ts';
import { mediaFields, setAtPath, withFile } from './media-fields.ts';
import { UploadCleanup } from './upload-cleanup.ts';
import type { UploadRow, UploadStore } from './upload-store.ts';

/** S3 allows at most 10,000 parts. */
export const MAX_PARTS = 10_000;
/** Part URLs in the presign answer; the rest come from POST /uploads/{id}/parts. */
export const PART_URLS_LISTED = 100;
/** Part URLs one POST /uploads/{id}/parts may ask for. */
export const MAX_PART_URLS_PER_CALL = 1000;

type Written = { readonly record: StoredRecord; readonly warnings: readonly unknown[] };

/** What the service needs of an entity's write actions (src/records/entity-actions.ts has them). */
export interface RecordWrites {
  readonly entity: EntityDef;
  requireLive(id: string): Promise<StoredRecord>;
  checkCreate(body: unknown): Record<string, unknown>;
  create(body: unknown, db?: DatabaseConnection, meta?: WriteMeta): Promise<Written>;
  update(
    id: string,
    body: unknown,
    mode: 'replace' | 'patch',
    db?: DatabaseConnection,
    meta?: WriteMeta,
  ): Promise<Written>;
}

export interface PartUrl {
  readonly part_number: number;
  readonly size: number;
  readonly url: string;
}

/** The answer to a presign: the upload row, and how to send the file. */
export type Presigned = UploadRow &
  (
    | {
        readonly upload: {
          readonly method: 'PUT';
          readonly url: string;
          readonly headers: Readonly<Record<string, string>>;
        };
      }
    | {
        readonly multipart: {
          readonly part_size: number;
          readonly part_count: number;
          readonly parts: readonly PartUrl[];
          readonly more_parts?: string;
        };
      }
  );

export interface Completed {
  readonly record: StoredRecord;
  readonly warnings: readonly unknown[];
  /** Whether completing created the record (no id was given at presign). */
  readonly created: boolean;
  readonly upload: UploadRow;
}

/** part_size = max(the configured part size, what fits the file in 10,000 parts). */
export function partLayout(sizeBytes: number, partBytes: number): { partSize: number; partCount: number } {
  const partSize = Math.max(partBytes, Math.ceil(sizeBytes / MAX_PARTS));
  return { partSize, partCount: Math.ceil(sizeBytes / partSize) };
}

const sizeOfPart = (upload: { size_bytes: number; part_size: number | null; part_count: number | null }, n: number) =>
  n < upload.part_count! ? upload.part_size! : upload.size_bytes - upload.part_size! * (upload.part_count! - 1);

const baseType = (type: string | null) => (type ?? '').split(';')[0]!.trim().toLowerCase();

export interface UploadServiceOptions {
  readonly pool: DatabasePool;
  readonly storage: MediaStorage;
  readonly settings: S3Settings;
  readonly model: Model;
  readonly writesOf: (entity: string) => RecordWrites | undefined;
}

export class UploadService {
  readonly uploads: UploadStore;
  readonly cleanup: UploadCleanup;
  private readonly options: UploadServiceOptions;

  constructor(options: UploadServiceOptions) {
    this.options = options;
    this.cleanup = new UploadCleanup(options.pool, options.storage, options.model);
    this.uploads = this.cleanup.uploads;
  }

  private writes(entity: string): RecordWrites {
    const writes = this.options.writesOf(entity);
    if (!writes) throw new Error(`no write actions for ${entity}`);
    return writes;
  }

  /** The placeholder values of the key template: the fixed ones, then the record's (or defaults') columns. */
  private keyValues(request: UploadRequest, uploadId: string, values: Record<string, unknown>): Map<string, unknown> {
    const map = new Map<string, unknown>();
    for (const field of keyFields(request.entity.fields)) map.set(field.name, ownValue(values, field.name) ?? null);
    map.set('id', request.id ?? 'new');
    map.set('upload_id', uploadId);
    map.set('filename', request.filename);
    map.set('entity', request.entity.name);
    map.set('plural', request.entity.plural);
    map.set('field', request.target.name);
    map.set('date', new Date().toISOString().slice(0, 10));
    return map;
  }

  /**
   * Signs the upload and stores its row. With an id the record must exist; without, `defaults`
   * plus the file must be a valid create now, so a bad default is refused before any bytes move.
   */
  async presign(request: UploadRequest, actor: string | null): Promise<Presigned> {
    const { storage, settings } = this.options;
    const writes = this.writes(request.entity.name);
    const uploadId = generateId(UPLOAD_ENTITY.idPrefix);
    const bucket = storage.bucket;
    let values: Record<string, unknown>;
    if (request.id !== null) {
      values = await writes.requireLive(request.id);
    } else {
      // Validated with a stand-in URI of the right shape: the real one needs the values for its key.
      values = writes.checkCreate(
        setAtPath(
          structuredClone(request.defaults ?? {}),
          request.target.path,
          s3Uri(bucket, `${request.target.media.prefix}${uploadId}`),
        ),
      );
    }
    const key = renderKey(request.target.media, this.keyValues(request, uploadId, values));
    if (!key.startsWith(request.target.media.prefix))
      throw new Error(`the key ${key} left the prefix ${request.target.media.prefix}`);
    const uri = s3Uri(bucket, key);
    const multipart = request.sizeBytes > settings.multipartThresholdBytes;
    if (!multipart && request.sizeBytes > MAX_SINGLE_PUT_BYTES) {
      throw new UploadRefused(
        422,
        'MEDIA_TOO_LARGE',
        `one PUT takes at most ${formatBytes(MAX_SINGLE_PUT_BYTES)}; lower UPLOAD_MULTIPART_THRESHOLD_MB so this file is sent in parts`,
        'size_bytes',
      );
    }
    const layout = multipart ? partLayout(request.sizeBytes, settings.partBytes) : null;
    // A single PUT is signed locally: ask S3 (cheaply, cached) so a presign never hands out a dead URL.
    if (!multipart) await storage.checkReachable();
    const multipartUploadId = multipart ? await storage.createMultipart(key, request.contentType) : null;
    const row = await this.uploads.insert({
      id: uploadId,
      entity: request.entity.name,
      recordId: request.id,
      field: request.target.name,
      filename: request.filename,
      contentType: request.contentType,
      sizeBytes: request.sizeBytes,
      sha256: request.sha256,
      bucket,
      key,
      uri,
      multipartUploadId,
      partSize: layout?.partSize ?? null,
      partCount: layout?.partCount ?? null,
      defaults: request.defaults,
      createdBy: actor,
      expiresInSeconds: settings.uploadExpiresSeconds,
    });
    if (!layout) {
      const url = await storage.presignPut(key, request.contentType, request.sizeBytes);
      return {
        ...row,
        upload: {
          method: 'PUT',
          url,
          headers: { 'Content-Type': request.contentType, 'Content-Length': String(request.sizeBytes) },
        },
      };
    }
    const listed = Array.from({ length: Math.min(PART_URLS_LISTED, layout.partCount) }, (_, i) => i + 1);
    const parts = await this.partUrls(row, listed);
    return {
      ...row,
      multipart: {
        part_size: layout.partSize,
        part_count: layout.partCount,
        parts,
        ...(layout.partCount > PART_URLS_LISTED
          ? {
              more_parts: `POST /uploads/${row.id}/parts {"part_numbers": [${PART_URLS_LISTED + 1}, …]} (at most ${MAX_PART_URLS_PER_CALL} a call)`,
            }
          : {}),
      },
    };
  }

  private partUrls(row: UploadRow, numbers: readonly number[]): Promise<PartUrl[]> {
    return Promise.all(
      numbers.map(async (n) => {
        const size = sizeOfPart(row, n);
        return {
          part_number: n,
          size,
          url: await this.options.storage.presignPart(row.key, row.multipart_upload_id!, n, size),
        };
      }),
    );
  }

  /** The upload, when it is the caller's and still pending (and not past its time). */
  private async pendingOwn(id: string, actor: string | null, doing: string): Promise<UploadRow> {
    const row = await this.uploads.get(id);
    if (!row) throw new UploadRefused(404, 'NOT_FOUND', `upload ${id} not found`);
    checkPending(row, actor, doing);
    return row;
  }

  /** Part URLs for a multipart upload, by number (1 to part_count, at most 1,000 a call). */
  async moreParts(id: string, body: unknown, actor: string | null): Promise<PartUrl[]> {
    const row = await this.pendingOwn(id, actor, 'get part URLs for');
    if (!row.multipart_upload_id)
      throw new UploadRefused(409, 'NOT_MULTIPART', `upload ${id} is a single PUT: its URL came with the presign`);
    const numbers =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? ownValue(body as Record<string, unknown>, 'part_numbers')
        : undefined;
    const count = row.part_count!;
    if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > MAX_PART_URLS_PER_CALL) {
      throw new UploadRefused(
        422,
        'VALIDATION_ERROR',
        `send {"part_numbers": [...]}: 1 to ${MAX_PART_URLS_PER_CALL} part numbers from 1 to ${count}`,
        'part_numbers',
      );
    }
    const bad = numbers.findIndex((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > count);
    if (bad >= 0)
      throw new UploadRefused(
        422,
        'VALIDATION_ERROR',
        `part_numbers[${bad}] must be an integer from 1 to ${count}`,
        `part_numbers[${bad}]`,
      );
    return this.partUrls(row, [...new Set(numbers as number[])]);
  }

  /** The parts of a multipart complete, checked: `[{part_number, etag}]` for every part, each once. */
  private partsOf(row: UploadRow, body: unknown): { partNumber: number; etag: string }[] {
    const parts =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? ownValue(body as Record<string, unknown>, 'parts')
        : undefined;
    const count = row.part_count!;
    const shape = `send {"parts": [{"part_number": 1, "etag": "…"}, …]} with the ETag header each part PUT answered, for all ${count} parts`;
    if (!Array.isArray(parts) || parts.length !== count)
      throw new UploadRefused(422, 'VALIDATION_ERROR', shape, 'parts');
    const out = parts.map((part, index) => {
      const n =
        typeof part === 'object' && part !== null
          ? ownValue(part as Record<string, unknown>, 'part_number')
          : undefined;
      const etag =
        typeof part === 'object' && part !== null ? ownValue(part as Record<string, unknown>, 'etag') : undefined;
      if (
        typeof n !== 'number' ||
        !Number.isInteger(n) ||
        n < 1 ||
        n > count ||
        typeof etag !== 'string' ||
        etag === '' ||
        etag.length > 200
      ) {
        throw new UploadRefused(422, 'VALIDATION_ERROR', `parts[${index}]: ${shape}`, `parts[${index}]`);
      }
      return { partNumber: n, etag };
    });
    out.sort((a, b) => a.partNumber - b.partNumber);
    if (out.some((p, i) => p.partNumber !== i + 1))
      throw new UploadRefused(
        422,
        'VALIDATION_ERROR',
        `each part number from 1 to ${count} must be sent once`,
        'parts',
      );
    return out;
  }

  /** Asks S3 to join the parts; a part S3 does not have (or another ETag) is the client's to fix. */
  private async joinParts(row: UploadRow, body: unknown): Promise<void> {
    const parts = this.partsOf(row, body);
    try {
      await this.options.storage.completeMultipart(row.key, row.multipart_upload_id!, parts);
    } catch (error) {
      // Joined by an earlier complete that then failed a check: the HEAD below says what is there.
      if (error instanceof S3ServiceException && error.name === 'NoSuchUpload') return;
      if (error instanceof S3ServiceException) {
        throw new UploadRefused(
          409,
          'UPLOAD_INCOMPLETE',
          `S3 could not join the parts of s3://${row.bucket}/${row.key} (${error.name}: ${error.message}); PUT every part to its URL and send the ETag each answered`,
          'parts',
        );
      }
      throw error;
    }
  }

  /** Refuses an object that is not exactly the declared file. */
  private async checkObject(row: UploadRow): Promise<ObjectInfo> {
    const { storage } = this.options;
    const object = await storage.head(row.bucket, row.key);
    if (!object)
      throw new UploadRefused(
        409,
        'UPLOAD_INCOMPLETE',
        `no object at ${row.uri}; PUT the file to the presigned URL first`,
      );
    if (object.size !== row.size_bytes) {
      throw new UploadRefused(
        409,
        'UPLOAD_MISMATCH',
        `${row.uri} is ${object.size} bytes; the upload declared ${row.size_bytes}`,
        'size_bytes',
      );
    }
    if (baseType(object.contentType) !== baseType(row.content_type)) {
      throw new UploadRefused(
        409,
        'UPLOAD_MISMATCH',
        `${row.uri} has content type ${object.contentType ?? '(none)'}; the upload declared ${row.content_type}`,
        'content_type',
      );
    }
    if (row.sha256) {
      const found = await storage.sha256(row.bucket, row.key);
      if (found !== row.sha256)
        throw new UploadRefused(
          409,
          'UPLOAD_MISMATCH',
          `${row.uri} has SHA-256 ${found ?? '(gone)'}; the upload declared ${row.sha256}`,
          'sha256',
        );
    }
    return object;
  }

  /**
   * Completes the caller's pending upload: S3 joins the parts (multipart), the object is HEADed
   * (and hashed when a SHA-256 was declared), and only then, in one transaction, the upload row
   * is locked and checked again, the record written through its entity's actions (validated,
   * audited, If-Match in `meta` checked), and the upload marked completed. Nothing is written when
   * any check fails.
   */
  async complete(id: string, body: unknown, actor: string | null, meta: WriteMeta): Promise<Completed> {
    const row = await this.pendingOwn(id, actor, 'complete');
    if (row.multipart_upload_id) await this.joinParts(row, body);
    const object = await this.checkObject(row);
    const entity = this.options.model.entities.find((e) => e.name === row.entity);
    const target = entity && mediaFields(entity).find((f) => f.name === row.field);
    if (!entity || !target)
      throw new UploadRefused(
        409,
        'CONFLICT',
        `${row.entity}.${row.field} no longer takes uploads (the registry changed since upload ${id} was presigned)`,
      );
    const writes = this.writes(entity.name);
    const fileValues = (values: Record<string, unknown>) => withFile(values, target, row.uri, object);
    const writeMeta: WriteMeta = { ...meta, verifiedMedia: new Set([...(meta.verifiedMedia ?? []), row.uri]) };
    return transact(this.options.pool, async (tx) => {
      const locked = await this.uploads.lock(id, tx);
      if (!locked) throw new UploadRefused(404, 'NOT_FOUND', `upload ${id} not found`);
      checkPending(locked, actor, 'complete');
      const written = locked.record_id
        ? await writes.update(locked.record_id, fileValues({}), 'patch', tx, writeMeta)
        : await writes.create(fileValues(structuredClone(locked.defaults ?? {})), tx, { ...writeMeta, ifMatch: null });
      const upload = await this.uploads.markCompleted(id, written.record.id, object.etag, tx);
      return { record: written.record, warnings: written.warnings, created: locked.record_id === null, upload };
    });
  }

  /** The values with the file set at the field's path, and its size and ETag where the media asks. */
  /**
   * Aborts the caller's pending upload, then S3 drops its parts and an object left at its key
   * (marked first, so a complete cannot set the file while it is being removed). S3 failing the
   * clean-up leaves the upload aborted; `leftover` says what could not be removed.
   */
  async abort(id: string, actor: string | null): Promise<{ upload: UploadRow; leftover?: string }> {
    await this.pendingOwn(id, actor, 'abort');
    const upload = await transact(this.options.pool, async (tx) => {
      const locked = await this.uploads.lock(id, tx);
      if (!locked) throw new UploadRefused(404, 'NOT_FOUND', `upload ${id} not found`);
      checkPending(locked, actor, 'abort');
      return this.uploads.markAborted(id, tx);
    });
    try {
      await this.cleanup.removeLeftovers(upload);
      return { upload };
    } catch (error) {
      return {
        upload,
        leftover: `${upload.uri} (or its parts) could not be removed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}

/** Only the one who asked may move an upload on, and only a pending one before its time. */
function checkPending(row: UploadRow, actor: string | null, doing: string): void {
  if ((row.created_by ?? null) !== actor) {
    throw new UploadRefused(
      403,
      'FORBIDDEN',
      `upload ${row.id} was presigned by ${row.created_by ?? 'an anonymous caller'}; only they may ${doing} it`,
    );
  }
  if (row.state === 'completed')
    throw new UploadRefused(
      409,
      'UPLOAD_COMPLETED',
      `upload ${row.id} is already completed (${row.record_id ?? ''} holds it); presign a new upload for another file`,
    );
  if (row.state === 'aborted')
    throw new UploadRefused(409, 'UPLOAD_ABORTED', `upload ${row.id} was aborted; presign a new upload`);
  if (row.state === 'expired' || Date.parse(row.expires_at) <= Date.now()) {
    throw new UploadRefused(
      410,
      'UPLOAD_EXPIRED',
      `upload ${row.id} expired at ${row.expires_at}; presign a new upload`,
    );
  }
}
