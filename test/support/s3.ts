// The run's S3-compatible server (started once by global-setup.ts, like the PostgreSQL): settings
// that point a service at it, and a client to put objects in place before a test writes their URIs.
import { inject } from 'vitest';
import { loadConfig, type Config, type S3Settings } from '../../src/config.ts';
import { MediaStorage, parseS3Uri } from '../../src/media/storage.ts';

/** The buckets every test service uses; Appendix B and C records name `s3://bucket/…`. */
export const TEST_BUCKET = 'bucket';
export const TEST_THUMBNAIL_BUCKET = 'thumbnails';

/** The shared server's address and keys, also as the SDK's environment credentials. */
export function testS3Server(): { endpoint: string; accessKeyId: string; secretAccessKey: string } {
  const server = inject('s3');
  // The services find the keys through the SDK's default credential chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  return server;
}

export function testS3Settings(overrides: Partial<S3Settings> = {}): S3Settings {
  return {
    ...loadConfig({}).s3,
    endpoint: testS3Server().endpoint,
    bucket: TEST_BUCKET,
    thumbnailBucket: TEST_THUMBNAIL_BUCKET,
    forcePathStyle: true,
    ...overrides,
  };
}

/** The environment a spawned `reelmeta serve` needs to use the shared server. */
export function testS3Env(): Record<string, string> {
  const server = testS3Server();
  return {
    S3_ENDPOINT: server.endpoint,
    S3_BUCKET: TEST_BUCKET,
    S3_THUMBNAIL_BUCKET: TEST_THUMBNAIL_BUCKET,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
}

/** loadConfig's defaults with the shared S3 server: for tests that start the service themselves. */
export function testConfig(): Config {
  return { ...loadConfig({}), s3: testS3Settings() };
}

let storage: MediaStorage | undefined;
export function testStorage(): MediaStorage {
  const server = testS3Server();
  storage ??= new MediaStorage({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: server,
    bucket: TEST_BUCKET,
    thumbnailBucket: TEST_THUMBNAIL_BUCKET,
    presignExpiresSeconds: 300,
  });
  return storage;
}

/** Puts a small object at each s3:// URI (its bucket made if missing), so writes naming them pass the HEAD check. */
export async function putTestObjects(
  uris: readonly string[],
  body: Buffer = Buffer.from('test media'),
  contentType = 'application/octet-stream',
): Promise<void> {
  const s3 = testStorage();
  for (const uri of uris) {
    const parsed = parseS3Uri(uri);
    if (!parsed) throw new Error(`not an s3:// URI: ${uri}`);
    await s3.putObject(parsed.bucket, parsed.key, body, contentType);
  }
}

/** Every s3:// URI in the media bucket that a JSON value holds, at any depth. */
export function mediaUrisIn(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (parseS3Uri(value)?.bucket === TEST_BUCKET) found.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) mediaUrisIn(item, found);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) mediaUrisIn(item, found);
  }
  return found;
}

/** Puts an object at each media-bucket URI a body names, so the body's media fields pass the HEAD check. */
export async function putMediaOf(...bodies: unknown[]): Promise<void> {
  const uris = new Set<string>();
  for (const body of bodies) mediaUrisIn(body, uris);
  await putTestObjects([...uris]);
}

/**
 * Waits until a presigned URL has surely expired, by its own X-Amz-Date and X-Amz-Expires. The date is
 * whole seconds, so a URL signed for n seconds may live only n - 1: tests sign for a few seconds (room on a
 * loaded machine for the requests that must still pass) and wait here rather than for a fixed time.
 */
export async function waitPastPresignedExpiry(presignedUrl: string): Promise<void> {
  const params = new URL(presignedUrl).searchParams;
  const date = params.get('X-Amz-Date') ?? '';
  const signedAt = Date.parse(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const expiresIn = Number(params.get('X-Amz-Expires'));
  if (!Number.isFinite(signedAt) || !Number.isFinite(expiresIn))
    throw new Error(`not a presigned URL: ${presignedUrl}`);
  const wait = signedAt + (expiresIn + 1) * 1000 + 100 - Date.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
}
