// The embedded S3-compatible server checks Signature V4 as S3 does (s3rver alone accepts any V4
// signature): a presigned PUT takes exactly the signed length and type, an edited or expired URL
// and an unsigned request are refused, and the SDK's own header-signed calls work. Also: its
// access key is made once per data folder and kept, and objects survive a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/media/embedded-s3.ts';
import { MediaStorage } from '../src/media/storage.ts';
import { waitPastPresignedExpiry } from './support/s3.ts';

let directory: string;
let s3: EmbeddedS3;
let storage: MediaStorage;

const storageFor = (server: EmbeddedS3, credentials = server.credentials) =>
  new MediaStorage({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    bucket: 'media',
    thumbnailBucket: 'thumbs',
    presignExpiresSeconds: 60,
  });

beforeAll(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'reelmeta-s3-test-'));
  s3 = await startEmbeddedS3({ directory, buckets: ['media', 'thumbs'] });
  storage = storageFor(s3);
});

afterAll(async () => {
  await s3?.stop();
  rmSync(directory, { recursive: true, force: true });
});

const put = (url: string, body: string | Buffer, type?: string) =>
  fetch(url, {
    method: 'PUT',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: type ? { 'content-type': type } : {},
  });
const code = async (response: Response) => /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];

describe('the embedded S3 server', () => {
  it('takes a presigned PUT of exactly the signed length and type, and refuses any other', async () => {
    const url = await storage.presignPut('raw/a b+(1).jpg', 'image/jpeg', 5);
    const larger = await put(url, 'hello world', 'image/jpeg');
    expect([larger.status, await code(larger)]).toEqual([403, 'SignatureDoesNotMatch']);
    const otherType = await put(url, 'hello', 'image/png');
    expect([otherType.status, await code(otherType)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await storage.head('media', 'raw/a b+(1).jpg')).toBeNull();

    const right = await put(url, 'hello', 'image/jpeg');
    expect(right.status).toBe(200);
    expect(await storage.head('media', 'raw/a b+(1).jpg')).toMatchObject({
      size: 5,
      contentType: 'image/jpeg',
      etag: '5d41402abc4b2a76b9719d911017c592',
    });
  });

  it('refuses an edited URL, an unsigned request and an unknown key, and an expired URL', async () => {
    const url = await storage.presignPut('raw/edited.jpg', 'image/jpeg', 5);
    expect((await put(url.replace('raw/edited', 'raw/elsewhere'), 'hello', 'image/jpeg')).status).toBe(403);
    const unsigned = await fetch(`${s3.endpoint}/media/raw/a%20b%2B%281%29.jpg`);
    expect([unsigned.status, await code(unsigned)]).toEqual([403, 'AccessDenied']);
    const stranger = storageFor(s3, { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'not-the-key' });
    await expect(stranger.putObject('media', 'x.txt', Buffer.from('x'), 'text/plain')).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
    });
    const wrongSecret = storageFor(s3, { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: 'not-the-key' });
    await expect(wrongSecret.putObject('media', 'x.txt', Buffer.from('x'), 'text/plain')).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });

    const short = await storage.presignGet('media', 'raw/a b+(1).jpg', { expiresIn: 3 });
    expect(await (await fetch(short)).text()).toBe('hello');
    await waitPastPresignedExpiry(short);
    const expired = await fetch(short);
    expect([expired.status, await code(expired)]).toEqual([403, 'AccessDenied']);
  });

  it('signs multipart parts by length, and joins them', async () => {
    const uploadId = await storage.createMultipart('big/video.mp4', 'video/mp4');
    const first = Buffer.alloc(5 * 1024 * 1024, 1);
    const partOne = await storage.presignPart('big/video.mp4', uploadId, 1, first.length);
    const partTwo = await storage.presignPart('big/video.mp4', uploadId, 2, 4);
    expect((await put(partTwo, 'tail+')).status).toBe(403);
    const one = await put(partOne, first);
    const two = await put(partTwo, 'tail');
    expect([one.status, two.status]).toEqual([200, 200]);
    await storage.completeMultipart('big/video.mp4', uploadId, [
      { partNumber: 1, etag: one.headers.get('etag')! },
      { partNumber: 2, etag: two.headers.get('etag')! },
    ]);
    expect(await storage.head('media', 'big/video.mp4')).toMatchObject({
      size: first.length + 4,
      contentType: 'video/mp4',
    });
  });

  it('keeps its access key and its objects across a restart on the same folder', async () => {
    await storage.putObject('media', 'kept/note.txt', Buffer.from('still here'), 'text/plain');
    const { credentials, port } = s3;
    await s3.stop();
    s3 = await startEmbeddedS3({ directory, buckets: ['media', 'thumbs'], port });
    expect(s3.credentials).toEqual(credentials);
    storage = storageFor(s3);
    expect((await storage.getObject('media', 'kept/note.txt', 1000))?.toString()).toBe('still here');
    expect((await storage.listPage('media', 'kept/')).objects.map((o) => o.key)).toEqual(['kept/note.txt']);
  });

  it('is reported unavailable, not missing, when it is down', async () => {
    await s3.stop();
    try {
      await expect(storage.head('media', 'kept/note.txt')).rejects.toMatchObject({ name: 'MediaUnavailable' });
    } finally {
      s3 = await startEmbeddedS3({ directory, buckets: ['media', 'thumbs'], port: s3.port });
    }
  });
});

describe('browser uploads to the embedded S3 server', () => {
  it('answer a CORS preflight for a presigned PUT and expose the ETag', async () => {
    const url = await storage.presignPut('cors/photo.jpg', 'image/jpeg', 5);
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    const upload = await fetch(url, {
      method: 'PUT',
      body: 'hello',
      headers: { 'content-type': 'image/jpeg', origin: 'http://localhost:3000' },
    });
    expect(upload.status).toBe(200);
    expect(upload.headers.get('access-control-expose-headers')).toContain('ETag');
  });
});
