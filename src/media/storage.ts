// The object store as Reelmeta uses it: presigned PUT/GET/part URLs, HEAD, listing, and reading
// and writing objects, over @aws-sdk/client-s3 against S3 or any S3-compatible server. S3 being
// unreachable or failing is one error, MediaUnavailable (503 with Retry-After); a missing object
// is `null`, never an error.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { RETRY_AFTER_SECONDS } from '../db/unavailable.ts';
import { ClassifiedError, type Classified } from '../records/errors.ts';

/** S3 could not be reached or answered with a server error: try again later. */
export class MediaUnavailable extends ClassifiedError {
  override readonly name = 'MediaUnavailable';
  constructor(operation: string, cause: unknown) {
    super(
      `the object store is unavailable (${operation}): ${cause instanceof Error ? cause.message || cause.name : String(cause)}`,
      { cause },
    );
  }

  get classified(): Classified {
    return {
      status: 503,
      retryAfter: RETRY_AFTER_SECONDS,
      problems: [
        { code: 'S3_UNAVAILABLE', message: `${this.message}; nothing was changed, try again later`, field: null },
      ],
    };
  }
}

export interface ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly contentType: string | null;
  /** Without quotes. A multipart object's ETag ends in `-<parts>`. */
  readonly etag: string;
  readonly lastModified: string | null;
}

export interface StorageSettings {
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** Explicit keys (the embedded server's); absent: the SDK's default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly bucket: string;
  readonly thumbnailBucket: string;
  readonly presignExpiresSeconds: number;
  /** Each S3 call's bound, so a hanging server answers 503 promptly. */
  readonly requestTimeoutMs?: number;
}

// The SDK warns once per process that its releases after January 2027 need Node 22; the
// package-lock pins a release that runs on Node 20 (see docs/media.md), so the warning is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } | null {
  const m = S3_URI.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : null;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** A client error S3 answered (4xx) is the caller's to handle; anything else is S3 being away. */
function unavailableUnlessClientError(operation: string, error: unknown): never {
  const status = statusOf(error);
  if (error instanceof S3ServiceException && status !== undefined && status >= 400 && status < 500) throw error;
  throw new MediaUnavailable(operation, error);
}

type Presignable = Parameters<typeof getSignedUrl>[1];
/** getSignedUrl's command type is generic per command; each of ours is one of them. */
const asPresignable = (command: PutObjectCommand | GetObjectCommand | UploadPartCommand): Presignable =>
  command as unknown as Presignable;

export class MediaStorage {
  readonly client: S3Client;
  readonly bucket: string;
  readonly thumbnailBucket: string;
  readonly presignExpiresSeconds: number;
  /** Until when (epoch ms) the last successful reachability check counts; see checkReachable. */
  private reachableUntil = 0;

  constructor(settings: StorageSettings) {
    const config: S3ClientConfig = {
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      // Without these the SDK adds checksum framing that S3-compatible servers store as content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      requestHandler: {
        requestTimeout: settings.requestTimeoutMs ?? 10_000,
        connectionTimeout: Math.min(settings.requestTimeoutMs ?? 10_000, 3000),
      },
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      // A copy: the SDK marks the credentials object it is given.
      ...(settings.credentials
        ? {
            credentials: {
              accessKeyId: settings.credentials.accessKeyId,
              secretAccessKey: settings.credentials.secretAccessKey,
            },
          }
        : {}),
    };
    this.client = new S3Client(config);
    this.bucket = settings.bucket;
    this.thumbnailBucket = settings.thumbnailBucket;
    this.presignExpiresSeconds = settings.presignExpiresSeconds;
  }

  /** The object's size, type and ETag, or null when there is none. */
  async head(bucket: string, key: string): Promise<ObjectInfo | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        bucket,
        key,
        size: out.ContentLength ?? 0,
        contentType: out.ContentType ?? null,
        etag: unquote(out.ETag),
        lastModified: out.LastModified?.toISOString() ?? null,
      };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 403) return null;
      return unavailableUnlessClientError('HeadObject', error);
    }
  }

  /**
   * Throws MediaUnavailable unless the media bucket answers a HeadBucket within `timeoutMs`. A
   * presigned PUT is signed locally and never touches S3, so this is how a presign learns S3 is
   * down; a success counts for `cacheMs`, so presigns in a row pay for one call, not one each.
   */
  async checkReachable(timeoutMs = 2000, cacheMs = 5000): Promise<void> {
    if (Date.now() < this.reachableUntil) return;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // S3 answered: credentials allowed to PutObject may still lack s3:ListBucket, which HeadBucket needs.
      if (statusOf(error) !== 403) throw new MediaUnavailable('HeadBucket', error);
    }
    this.reachableUntil = Date.now() + cacheMs;
  }

  /** The SHA-256 (hex) of the object's bytes, read as a stream; null when there is no object. */
  async sha256(bucket: string, key: string): Promise<string | null> {
    let body: Readable;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = out.Body as Readable;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      return unavailableUnlessClientError('GetObject', error);
    }
    const hash = createHash('sha256');
    try {
      for await (const chunk of body) hash.update(chunk as Uint8Array);
    } catch (error) {
      throw new MediaUnavailable('GetObject (reading)', error);
    }
    return hash.digest('hex');
  }

  /** Removes an object; one already gone is fine. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (statusOf(error) === 404) return;
      unavailableUnlessClientError('DeleteObject', error);
    }
  }

  /** A PUT URL that only takes a body of exactly this length and type. */
  async presignPut(
    key: string,
    contentType: string,
    contentLength: number,
    expiresIn = this.presignExpiresSeconds,
  ): Promise<string> {
    return this.presign(
      'PutObject',
      asPresignable(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType, ContentLength: contentLength }),
      ),
      expiresIn,
      ['content-type', 'content-length'],
    );
  }

  /** A GET URL; `filename` makes browsers save it under that name. */
  async presignGet(
    bucket: string,
    key: string,
    options: { filename?: string; expiresIn?: number } = {},
  ): Promise<string> {
    const disposition = options.filename
      ? `inline; filename="${options.filename.replace(/[^A-Za-z0-9._ -]/g, '_')}"`
      : undefined;
    return this.presign(
      'GetObject',
      asPresignable(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(disposition ? { ResponseContentDisposition: disposition } : {}),
        }),
      ),
      options.expiresIn ?? this.presignExpiresSeconds,
      [],
    );
  }

  async createMultipart(key: string, contentType: string): Promise<string> {
    try {
      const out = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
      );
      if (!out.UploadId) throw new Error('no UploadId in the answer');
      return out.UploadId;
    } catch (error) {
      return unavailableUnlessClientError('CreateMultipartUpload', error);
    }
  }

  /** A PUT URL for one part, taking exactly `contentLength` bytes. */
  async presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    contentLength: number,
    expiresIn = this.presignExpiresSeconds,
  ): Promise<string> {
    return this.presign(
      'UploadPart',
      asPresignable(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          ContentLength: contentLength,
        }),
      ),
      expiresIn,
      ['content-length'],
    );
  }

  /** Joins the parts; S3 refuses (a 4xx S3ServiceException) when a part is missing or its ETag differs. */
  async completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag.replace(/^"|"$/g, '')}"` })),
          },
        }),
      );
    } catch (error) {
      return unavailableUnlessClientError('CompleteMultipartUpload', error);
    }
  }

  /** Drops a multipart upload's parts; one already gone is fine. */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if (statusOf(error) === 404) return;
      unavailableUnlessClientError('AbortMultipartUpload', error);
    }
  }

  /** One page of the objects under a prefix (at most 1000), and where the next starts. */
  async listPage(
    bucket: string,
    prefix: string,
    continuationToken?: string,
    maxKeys = 1000,
  ): Promise<{ objects: ObjectInfo[]; next?: string }> {
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          MaxKeys: maxKeys,
          ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
        }),
      );
      const objects = (out.Contents ?? []).map((o) => ({
        bucket,
        key: o.Key!,
        size: o.Size ?? 0,
        contentType: null,
        etag: unquote(o.ETag),
        lastModified: o.LastModified?.toISOString() ?? null,
      }));
      return { objects, ...(out.IsTruncated && out.NextContinuationToken ? { next: out.NextContinuationToken } : {}) };
    } catch (error) {
      return unavailableUnlessClientError('ListObjectsV2', error);
    }
  }

  async putObject(bucket: string, key: string, body: Buffer, contentType: string): Promise<ObjectInfo> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
        }),
      );
      return {
        bucket,
        key,
        size: body.length,
        contentType,
        etag: unquote(out.ETag),
        lastModified: new Date().toISOString(),
      };
    } catch (error) {
      return unavailableUnlessClientError('PutObject', error);
    }
  }

  /** The whole object, when it is at most `maxBytes` (larger: an error); null when missing. */
  async getObject(bucket: string, key: string, maxBytes: number): Promise<Buffer | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((out.ContentLength ?? 0) > maxBytes)
        throw new Error(`s3://${bucket}/${key} is ${out.ContentLength} bytes, more than the ${maxBytes} read`);
      const chunks: Buffer[] = [];
      for await (const chunk of out.Body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return null;
      if (error instanceof Error && !(error instanceof S3ServiceException) && error.message.includes('more than the'))
        throw error;
      return unavailableUnlessClientError('GetObject', error);
    }
  }

  private async presign(
    operation: string,
    command: Parameters<typeof getSignedUrl>[1],
    expiresIn: number,
    signed: string[],
  ): Promise<string> {
    try {
      return await getSignedUrl(this.client, command, {
        expiresIn,
        ...(signed.length > 0 ? { signableHeaders: new Set(signed) } : {}),
      });
    } catch (error) {
      throw new MediaUnavailable(`presign ${operation}`, error);
    }
  }
}
