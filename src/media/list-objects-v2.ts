// ListObjectsV2 for the embedded S3 server. s3rver 3.7 makes its continuation tokens with DES,
// which OpenSSL 3 (Node 17+) no longer offers: any listing longer than one page failed with
// InternalError, so registering more than 1,000 keys could not work on the default set-up. The
// embedded server answers ListObjectsV2 here instead, from s3rver's own store, with a token that
// is the last key listed (opaque to clients, as S3's are). Other requests go to s3rver unchanged.
import type { ServerResponse } from 'node:http';
import { escapeXml, sendS3Error } from './s3-xml.ts';

/** The part of s3rver's filesystem store a listing reads. */
export interface ListingStore {
  getBucket(bucket: string): Promise<unknown>;
  listObjects(
    bucket: string,
    options: { prefix?: string; startAfter?: string; maxKeys?: number; delimiter?: string },
  ): Promise<{
    objects: { key: string; size: number; lastModifiedDate: Date; metadata: Record<string, string> }[];
    commonPrefixes: string[];
    isTruncated: boolean;
  }>;
}

const element = (name: string, value: string | number | boolean | undefined) =>
  value === undefined || value === '' ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;

const encodeToken = (key: string) => `rm1.${Buffer.from(key, 'utf8').toString('base64url')}`;
function decodeToken(token: string): string | null {
  if (!token.startsWith('rm1.')) return null;
  return Buffer.from(token.slice(4), 'base64url').toString('utf8');
}

/** The bucket of a `GET /{bucket}?list-type=2` (path style, no encoding-type), else null: s3rver serves it. */
export function listObjectsV2Bucket(method: string, url: string): { bucket: string; query: URLSearchParams } | null {
  if (method !== 'GET') return null;
  const parsed = new URL(url, 'http://s3.local');
  const bucket = /^\/([^/]+)\/?$/.exec(parsed.pathname)?.[1];
  if (!bucket || parsed.searchParams.get('list-type') !== '2' || parsed.searchParams.has('encoding-type')) return null;
  return { bucket: decodeURIComponent(bucket), query: parsed.searchParams };
}

/** Answers one ListObjectsV2 request from the store. */
export async function serveListObjectsV2(
  store: ListingStore,
  bucket: string,
  query: URLSearchParams,
  res: ServerResponse,
): Promise<void> {
  if (!(await store.getBucket(bucket)))
    return sendS3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  const token = query.get('continuation-token');
  const startAfter = token === null ? (query.get('start-after') ?? '') : decodeToken(token);
  if (startAfter === null)
    return sendS3Error(res, 400, 'InvalidArgument', 'The continuation token provided is incorrect');
  const requested = Number(query.get('max-keys') ?? 1000);
  if (!Number.isInteger(requested) || requested < 0)
    return sendS3Error(res, 400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
  const maxKeys = Math.min(requested, 1000);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const result =
    maxKeys === 0
      ? { objects: [], commonPrefixes: [], isTruncated: false }
      : await store.listObjects(bucket, { prefix, startAfter, maxKeys, delimiter });
  const last = result.objects.at(-1)?.key;
  const contents = result.objects
    .map(
      (o) =>
        `<Contents>${element('Key', o.key)}${element('LastModified', o.lastModifiedDate.toISOString())}${element('ETag', o.metadata.etag)}${element('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  const prefixes = result.commonPrefixes
    .map((p) => `<CommonPrefixes>${element('Prefix', p)}</CommonPrefixes>`)
    .join('');
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `${element('Name', bucket)}<Prefix>${escapeXml(prefix)}</Prefix>${element('StartAfter', token === null ? startAfter : undefined)}${element('ContinuationToken', token ?? undefined)}` +
    `${element('NextContinuationToken', result.isTruncated && last !== undefined ? encodeToken(last) : undefined)}<KeyCount>${result.objects.length}</KeyCount>` +
    `<MaxKeys>${requested}</MaxKeys>${element('Delimiter', delimiter)}<IsTruncated>${result.isTruncated}</IsTruncated>${contents}${prefixes}</ListBucketResult>`;
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
