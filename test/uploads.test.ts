// Presigned uploads (seed 8.2, issue 14) against the real service, the run's S3-compatible server
// and real HTTP to the presigned URLs: a file PUT to its URL and completed is set on the record
// through the normal write path (audited); the S3 server itself refuses a larger body or another
// type; nothing is written when what arrived is not what was declared; multipart, abort, expiry,
// S3 down, and every bad input of the issue get a clear answer.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabasePool } from '../src/db/pool.ts';
import { parseS3Uri } from '../src/media/storage.ts';
import { UploadCleanup } from '../src/media/upload-cleanup.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { putTestObjects, testS3Settings, testStorage } from './support/s3.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';
import { startRoleService, type Caller } from './support/role-service.ts';
import { shippedModel } from './support/fixtures.ts';

interface Presigned extends Rec {
  state: string;
  key: string;
  uri: string;
  bucket: string;
  upload?: { method: string; url: string; headers: Record<string, string> };
  multipart?: { part_size: number; part_count: number; parts: { part_number: number; size: number; url: string }[] };
}

const MiB = 1024 * 1024;
let db: TestDatabase;
let service: TestService;
let episode: Rec;

beforeAll(async () => {
  db = await createTestDatabase();
  service = await startTestService({ databaseUrl: db.url });
  episode = (await service.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'Uploads' } })).body.data;
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

const as = (actor: string) => ({ 'x-actor': actor });

/** A clip whose file is already in S3 (a direct write of a media field checks the object exists). */
async function clip(on: TestService = service): Promise<Rec> {
  const uri = `s3://bucket/raw/${episode.id}/existing-${Math.random().toString(36).slice(2)}.mp4`;
  await putTestObjects([uri], Buffer.from('old footage'), 'video/mp4');
  const reply = await on.request<Rec>('POST', '/api/v1/clips', {
    body: { episode_id: episode.id, talent_source: 'Lala', file_reference: uri },
  });
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
  return reply.body.data;
}

function presign(body: Record<string, unknown>, actor = 'lala', on: TestService = service) {
  return on.request<Presigned>('POST', '/api/v1/uploads', { body, headers: as(actor) });
}

function complete(id: string, actor = 'lala', body?: unknown, on: TestService = service) {
  return on.request<Rec>('POST', `/api/v1/uploads/${id}/complete`, {
    headers: as(actor),
    ...(body === undefined ? {} : { body }),
  });
}

/** PUT to a presigned URL, as a browser or curl would. */
function put(url: string, body: Buffer, contentType?: string) {
  return fetch(url, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: contentType ? { 'content-type': contentType } : {},
  });
}

const video = (size: number, fill = 7) => Buffer.alloc(size, fill);

describe('a single presigned PUT', () => {
  it('lands the file, and complete sets it on the record through the audited write path', async () => {
    const record = await clip();
    const body = video(2048);
    const presigned = await presign({
      entity: 'clips',
      id: record.id,
      field: 'file_reference',
      filename: 'take 1.mp4',
      content_type: 'video/mp4',
      size_bytes: body.length,
    });
    expect(presigned.status, JSON.stringify(presigned.body.errors)).toBe(201);
    const upload = presigned.body.data;
    expect(upload).toMatchObject({
      state: 'pending',
      entity: 'clip',
      record_id: record.id,
      field: 'file_reference',
      bucket: 'bucket',
      created_by: 'lala',
      size_bytes: 2048,
    });
    // The key is the field's template: raw/{episode_id}/{upload_id}-{filename}.
    expect(upload.key).toBe(`raw/${episode.id}/${upload.id}-take_1.mp4`);
    expect(upload.uri).toBe(`s3://bucket/${upload.key}`);
    expect(upload.upload).toMatchObject({
      method: 'PUT',
      headers: { 'Content-Type': 'video/mp4', 'Content-Length': '2048' },
    });
    expect(presigned.headers.get('location')).toBe(`/api/v1/uploads/${upload.id}`);
    expect(Date.parse(upload.expires_at as string)).toBeGreaterThan(Date.now());

    const sent = await put(upload.upload!.url, body, 'video/mp4');
    expect(sent.status).toBe(200);

    const done = await complete(upload.id);
    expect(done.status, JSON.stringify(done.body.errors)).toBe(200);
    const head = await testStorage().head('bucket', upload.key);
    expect(done.body.data).toMatchObject({
      id: record.id,
      file_reference: upload.uri,
      file_size_bytes: 2048,
      file_etag: head!.etag,
    });
    expect(done.body.metadata.upload).toMatchObject({
      id: upload.id,
      state: 'completed',
      record_id: record.id,
      etag: head!.etag,
    });
    expect(done.headers.get('etag')).toMatch(/^"/);

    const read = await service.request<Rec>('GET', `/api/v1/clips/${record.id}`);
    expect(read.body.data.file_reference).toBe(upload.uri);
    const history = await service.request<{ operation: string; actor: string; changes: { path: string }[] }[]>(
      'GET',
      `/api/v1/clips/${record.id}/history`,
    );
    // The clip's thumbnail job writes its status as updates too (actor reelmeta-thumbnails): the upload's is the one that set the file.
    const change = history.body.data.find(
      (entry) => entry.operation === 'update' && entry.changes.some((c) => c.path === 'file_reference'),
    );
    expect(change?.actor).toBe('lala');
    expect(change?.changes.map((c) => c.path)).toEqual(expect.arrayContaining(['file_reference', 'file_size_bytes']));
    const stored = await service.request<Rec>('GET', `/api/v1/uploads/${upload.id}`);
    expect(stored.body.data).toMatchObject({ state: 'completed', etag: head!.etag });

    // Completed twice: the second is refused and changes nothing.
    const again = await complete(upload.id);
    expect(again.status).toBe(409);
    expect(again.body.errors[0]!.code).toBe('UPLOAD_COMPLETED');
  });

  it('is refused by the S3 server for a larger body or another type; complete then answers 409 and writes nothing', async () => {
    const record = await clip();
    const presigned = await presign({
      entity: 'clip',
      id: record.id,
      field: 'file_reference',
      filename: 'big.mp4',
      content_type: 'video/mp4',
      size_bytes: 1000,
    });
    expect(presigned.status).toBe(201);
    const { url } = presigned.body.data.upload!;
    const larger = await put(url, video(1001), 'video/mp4');
    expect(larger.status).toBe(403);
    const otherType = await put(url, video(1000), 'video/webm');
    expect(otherType.status).toBe(403);
    expect(await testStorage().head('bucket', presigned.body.data.key)).toBeNull();

    const done = await complete(presigned.body.data.id);
    expect(done.status).toBe(409);
    expect(done.body.errors[0]).toMatchObject({ code: 'UPLOAD_INCOMPLETE' });
    expect(done.body.errors[0]!.message).toContain(
      `no object at ${presigned.body.data.uri}; PUT the file to the presigned URL first`,
    );
    const read = await service.request<Rec>('GET', `/api/v1/clips/${record.id}`);
    expect(read.body.data.file_reference).toBe(record.file_reference);
    expect((await service.request<Rec>('GET', `/api/v1/uploads/${presigned.body.data.id}`)).body.data.state).toBe(
      'pending',
    );
  });

  it('refuses to complete when the object differs from what was declared (size, type, SHA-256)', async () => {
    const record = await clip();
    const presigned = await presign({
      entity: 'clip',
      id: record.id,
      field: 'file_reference',
      filename: 'a.mp4',
      content_type: 'video/mp4',
      size_bytes: 100,
    });
    // Something else put another object at the key (not through the URL).
    await testStorage().putObject('bucket', presigned.body.data.key, video(99), 'video/mp4');
    const size = await complete(presigned.body.data.id);
    expect(size.status).toBe(409);
    expect(size.body.errors[0]).toMatchObject({ code: 'UPLOAD_MISMATCH', field: 'size_bytes' });
    expect(size.body.errors[0]!.message).toMatch(/is 99 bytes; the upload declared 100/);
    await testStorage().putObject('bucket', presigned.body.data.key, video(100), 'video/quicktime');
    const type = await complete(presigned.body.data.id);
    expect(type.body.errors[0]).toMatchObject({ code: 'UPLOAD_MISMATCH', field: 'content_type' });
    expect(type.body.errors[0]!.message).toMatch(/video\/quicktime; the upload declared video\/mp4/);

    const declared = video(64, 1);
    const hashed = await presign({
      entity: 'clip',
      id: record.id,
      field: 'file_reference',
      filename: 'h.mp4',
      content_type: 'video/mp4',
      size_bytes: 64,
      sha256: createHash('sha256').update(declared).digest('hex'),
    });
    expect((await put(hashed.body.data.upload!.url, video(64, 2), 'video/mp4')).status).toBe(200);
    const wrong = await complete(hashed.body.data.id);
    expect(wrong.status).toBe(409);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'UPLOAD_MISMATCH', field: 'sha256' });
    expect((await service.request<Rec>('GET', `/api/v1/clips/${record.id}`)).body.data.file_reference).toBe(
      record.file_reference,
    );
    // The right bytes at the same URL: now it completes.
    expect((await put(hashed.body.data.upload!.url, declared, 'video/mp4')).status).toBe(200);
    expect((await complete(hashed.body.data.id)).status).toBe(200);
  });

  it('creates the record on complete when no id was given, from defaults validated at presign', async () => {
    const bad = await presign({
      entity: 'clip',
      field: 'file_reference',
      filename: 'x.mp3',
      content_type: 'audio/mpeg',
      size_bytes: 10,
      defaults: { talent_source: 'Nobody' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]!.field).toBe('talent_source');
    const missing = await presign({
      entity: 'clip',
      field: 'file_reference',
      filename: 'x.mp3',
      content_type: 'audio/mpeg',
      size_bytes: 10,
    });
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e) => e.field)).toContain('talent_source');

    const body = Buffer.from('ID3 audio bytes');
    const presigned = await presign({
      entity: 'clip',
      field: 'file_reference',
      filename: 'vo.mp3',
      content_type: 'audio/mpeg',
      size_bytes: body.length,
      defaults: { talent_source: 'lala', episode_id: episode.id, clip_type: 'voiceover' },
    });
    expect(presigned.status, JSON.stringify(presigned.body.errors)).toBe(201);
    expect(presigned.body.data).toMatchObject({
      record_id: null,
      defaults: { talent_source: 'lala', episode_id: episode.id },
    });
    expect(presigned.body.data.key).toBe(`raw/${episode.id}/${presigned.body.data.id}-vo.mp3`);
    expect((await put(presigned.body.data.upload!.url, body, 'audio/mpeg')).status).toBe(200);
    const done = await complete(presigned.body.data.id);
    expect(done.status, JSON.stringify(done.body.errors)).toBe(201);
    expect(done.body.data).toMatchObject({
      talent_source: 'Lala',
      clip_type: 'voiceover',
      episode_id: episode.id,
      file_reference: presigned.body.data.uri,
      file_size_bytes: body.length,
    });
    expect(done.headers.get('location')).toBe(`/api/v1/clips/${done.body.data.id}`);
    expect(done.body.metadata.upload).toMatchObject({ state: 'completed', record_id: done.body.data.id });
    const history = await service.request<{ operation: string }[]>('GET', `/api/v1/clips/${done.body.data.id}/history`);
    expect(history.body.data.map((e) => e.operation)).toEqual(['create']);
  });

  it('sets a media field of another entity by its own key template ({plural}/{id})', async () => {
    const body = Buffer.from('fake png bytes');
    const presigned = await presign({
      entity: 'episode',
      id: episode.id,
      field: 'custom_thumbnail',
      filename: 'cover.png',
      content_type: 'image/png',
      size_bytes: body.length,
    });
    expect(presigned.status, JSON.stringify(presigned.body.errors)).toBe(201);
    expect(
      presigned.body.data.key.startsWith(
        `custom-thumbnails/episodes/${episode.id}/${presigned.body.data.id}-cover.png`,
      ),
    ).toBe(true);
    expect((await put(presigned.body.data.upload!.url, body, 'image/png')).status).toBe(200);
    const done = await complete(presigned.body.data.id);
    expect(done.status, JSON.stringify(done.body.errors)).toBe(200);
    expect(done.body.data.custom_thumbnail).toBe(presigned.body.data.uri);
  });

  it('aborts a pending upload and removes what was PUT; it cannot be completed after', async () => {
    const record = await clip();
    const presigned = await presign({
      entity: 'clip',
      id: record.id,
      field: 'file_reference',
      filename: 'gone.mp4',
      content_type: 'video/mp4',
      size_bytes: 10,
    });
    expect((await put(presigned.body.data.upload!.url, video(10), 'video/mp4')).status).toBe(200);
    const someoneElse = await service.request<Rec>('POST', `/api/v1/uploads/${presigned.body.data.id}/abort`, {
      headers: as('prime'),
    });
    expect(someoneElse.status).toBe(403);
    const aborted = await service.request<Rec>('POST', `/api/v1/uploads/${presigned.body.data.id}/abort`, {
      headers: as('lala'),
    });
    expect(aborted.status).toBe(200);
    expect(aborted.body.data.state).toBe('aborted');
    expect(await testStorage().head('bucket', presigned.body.data.key)).toBeNull();
    const done = await complete(presigned.body.data.id);
    expect(done.status).toBe(409);
    expect(done.body.errors[0]!.code).toBe('UPLOAD_ABORTED');
  });
});

describe('bad input', () => {
  const base = {
    entity: 'clip',
    field: 'file_reference',
    filename: 'ok.mp4',
    content_type: 'video/mp4',
    size_bytes: 10,
    defaults: { talent_source: 'Lala' },
  };
  const refused = async (body: Record<string, unknown>, status: number, code: string) => {
    const reply = await presign(body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(status);
    expect(reply.body.data).toBeNull();
    expect(reply.body.errors[0]!.code).toBe(code);
    return reply.body.errors[0]!;
  };

  it('names what the field takes: the content type, the size limit', async () => {
    const type = await refused({ ...base, content_type: 'image/png' }, 422, 'MEDIA_TYPE_NOT_ALLOWED');
    expect(type).toMatchObject({ field: 'content_type' });
    expect(type.message).toContain('video/*, audio/*');
    const thumb = await refused(
      {
        entity: 'episode',
        id: episode.id,
        field: 'custom_thumbnail',
        filename: 'a.gif',
        content_type: 'image/gif',
        size_bytes: 5,
      },
      422,
      'MEDIA_TYPE_NOT_ALLOWED',
    );
    expect(thumb.message).toContain('image/jpeg, image/png, image/webp');
    const large = await refused(
      {
        entity: 'episode',
        id: episode.id,
        field: 'custom_thumbnail',
        filename: 'a.png',
        content_type: 'image/png',
        size_bytes: 50 * MiB + 1,
      },
      422,
      'MEDIA_TOO_LARGE',
    );
    expect(large.message).toContain(`at most ${50 * MiB} bytes (50 MiB)`);
    await refused({ ...base, size_bytes: 0 }, 422, 'VALIDATION_ERROR');
    await refused({ ...base, size_bytes: 1.5 }, 422, 'VALIDATION_ERROR');
    await refused({ ...base, sha256: 'abc' }, 422, 'VALIDATION_ERROR');
  });

  it('refuses file names that are paths, dots, control characters or lone surrogates', async () => {
    for (const filename of [
      '../x',
      'a/b',
      'a\\b',
      '.',
      '..',
      '',
      'a\u0001b',
      'tab\there',
      'del\u007f',
      'c1\u0085',
      'x'.repeat(256),
    ]) {
      const problem = await refused({ ...base, filename }, 422, 'INVALID_FILENAME');
      expect(problem.field).toBe('filename');
    }
    const surrogate = await service.request('POST', '/api/v1/uploads', {
      raw: JSON.stringify({ ...base, filename: 'PLACEHOLDER' }).replace('PLACEHOLDER', 'a\\ud800b'),
      headers: as('lala'),
    });
    expect(surrogate.status).toBe(422);
    expect(surrogate.body.errors[0]!.message).toMatch(/surrogate/);
  });

  it('never lets a filename leave the key prefix', async () => {
    for (const filename of ['....passwd', '%2e%2e%2fetc', '.hidden', '..x', 'a..b', ' ..  ', '\u2025evil']) {
      const reply = await presign({ ...base, filename, defaults: { talent_source: 'Lala', episode_id: episode.id } });
      expect(reply.status, filename).toBe(201);
      const key = reply.body.data.key;
      expect(key.startsWith(`raw/${episode.id}/${reply.body.data.id}-`), key).toBe(true);
      expect(key.split('/')).toHaveLength(3);
      expect(key.split('/').some((segment) => segment === '..' || segment === '.' || segment.startsWith('.'))).toBe(
        false,
      );
      expect(key).not.toContain('..');
    }
  });

  it('names the entities and fields that take uploads', async () => {
    const entity = await refused({ ...base, entity: 'shows' }, 422, 'UNKNOWN_ENTITY');
    expect(entity.message).toMatch(/use one of .*clip/);
    expect(entity.message).toContain('episode');
    await refused({ ...base, entity: 'nothing' }, 422, 'UNKNOWN_ENTITY');
    const field = await refused({ ...base, field: 'notes' }, 422, 'UNKNOWN_FIELD');
    expect(field.message).toContain('file_reference, custom_thumbnail');
    await refused({ ...base, field: '__proto__' }, 422, 'UNKNOWN_FIELD');
    await refused({ ...base, extra: 1 }, 422, 'VALIDATION_ERROR');
    const unknownId = await presign({
      entity: 'clip',
      id: 'clip_20250101_aaaaaaaaaa',
      field: 'file_reference',
      filename: 'a.mp4',
      content_type: 'video/mp4',
      size_bytes: 5,
    });
    expect(unknownId.status).toBe(404);
    const withDefaults = await refused({ ...base, id: 'clip_20250101_aaaaaaaaaa' }, 422, 'VALIDATION_ERROR');
    expect(withDefaults.field).toBe('defaults');
  });

  it("refuses completing someone else's upload, and unknown ids", async () => {
    const record = await clip();
    const presigned = await presign(
      {
        entity: 'clip',
        id: record.id,
        field: 'file_reference',
        filename: 'mine.mp4',
        content_type: 'video/mp4',
        size_bytes: 10,
      },
      'lala',
    );
    expect((await put(presigned.body.data.upload!.url, video(10), 'video/mp4')).status).toBe(200);
    const theirs = await complete(presigned.body.data.id, 'prime');
    expect(theirs.status).toBe(403);
    expect(theirs.body.errors[0]).toMatchObject({ code: 'FORBIDDEN' });
    expect(theirs.body.errors[0]!.message).toContain('presigned by lala; only they may complete it');
    expect((await service.request<Rec>('GET', `/api/v1/clips/${record.id}`)).body.data.file_reference).toBe(
      record.file_reference,
    );
    expect((await complete('upl_20250101_aaaaaaaaaa')).status).toBe(404);
    expect((await complete('nonsense')).status).toBe(404);
    expect((await service.request('GET', '/api/v1/uploads/upl_20250101_aaaaaaaaaa')).status).toBe(404);
    expect((await complete(presigned.body.data.id, 'lala')).status).toBe(200);
  });

  it('answers 405 for other methods', async () => {
    const reply = await service.request('DELETE', '/api/v1/uploads');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, POST');
    expect((await service.request('GET', '/api/v1/uploads/upl_20250101_aaaaaaaaaa/complete')).status).toBe(405);
  });
});

describe('the upload list', () => {
  it('filters with the list query language', async () => {
    const completed = await service.request<Rec[]>('GET', '/api/v1/uploads?state=completed&entity=clip&_count=exact');
    expect(completed.status, JSON.stringify(completed.body.errors)).toBe(200);
    expect(completed.body.data.length).toBeGreaterThanOrEqual(3);
    expect(completed.body.data.every((u) => u.state === 'completed' && u.entity === 'clip')).toBe(true);
    const pending = await service.request<Rec[]>('GET', '/api/v1/uploads?state=pending');
    expect(pending.body.data.length).toBeGreaterThan(0);
    expect(pending.body.data.every((u) => u.state === 'pending')).toBe(true);
    const bad = await service.request('GET', '/api/v1/uploads?colour=red');
    expect(bad.status).toBe(400);
  });
});

describe('multipart uploads', () => {
  let multipart: TestService;
  beforeAll(async () => {
    multipart = await startTestService({
      databaseUrl: db.url,
      s3: testS3Settings({ multipartThresholdBytes: 5 * MiB, partBytes: 5 * MiB }),
    });
  });
  afterAll(async () => {
    await multipart?.stop();
  });

  it('sends a file past the threshold in parts, completed with the ETags the part PUTs answered', async () => {
    const record = await clip(multipart);
    const size = 5 * MiB + 1024;
    const presigned = await presign(
      {
        entity: 'clip',
        id: record.id,
        field: 'file_reference',
        filename: 'long.mp4',
        content_type: 'video/mp4',
        size_bytes: size,
      },
      'lala',
      multipart,
    );
    expect(presigned.status, JSON.stringify(presigned.body.errors)).toBe(201);
    const { multipart: layout, upload } = presigned.body.data;
    expect(upload).toBeUndefined();
    expect(layout).toMatchObject({ part_size: 5 * MiB, part_count: 2 });
    expect(layout!.parts.map((p) => [p.part_number, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 1024],
    ]);
    const more = await multipart.request<{ part_number: number; size: number; url: string }[]>(
      'POST',
      `/api/v1/uploads/${presigned.body.data.id}/parts`,
      { body: { part_numbers: [2] }, headers: as('lala') },
    );
    expect(more.status).toBe(200);
    expect(more.body.data).toMatchObject([{ part_number: 2, size: 1024 }]);
    const outOfRange = await multipart.request('POST', `/api/v1/uploads/${presigned.body.data.id}/parts`, {
      body: { part_numbers: [3] },
      headers: as('lala'),
    });
    expect(outOfRange.status).toBe(422);

    const file = Buffer.concat([video(5 * MiB, 1), video(1024, 2)]);
    // A part larger than its URL signed is refused by S3.
    expect((await put(layout!.parts[1]!.url, video(1025, 2))).status).toBe(403);
    const etags: { part_number: number; etag: string }[] = [];
    for (const [index, part] of [layout!.parts[0]!, more.body.data[0]!].entries()) {
      const offset = index * layout!.part_size;
      const sent = await put(part.url, file.subarray(offset, offset + part.size));
      expect(sent.status).toBe(200);
      etags.push({ part_number: part.part_number, etag: sent.headers.get('etag')! });
    }
    const missingParts = await complete(presigned.body.data.id, 'lala', undefined, multipart);
    expect(missingParts.status).toBe(422);
    const wrongEtag = await complete(
      presigned.body.data.id,
      'lala',
      { parts: [etags[0], { part_number: 2, etag: '"0123456789abcdef0123456789abcdef"' }] },
      multipart,
    );
    expect(wrongEtag.status).toBe(409);
    expect(wrongEtag.body.errors[0]!.code).toBe('UPLOAD_INCOMPLETE');

    const done = await complete(presigned.body.data.id, 'lala', { parts: etags }, multipart);
    expect(done.status, JSON.stringify(done.body.errors)).toBe(200);
    const head = await testStorage().head('bucket', presigned.body.data.key);
    expect(head?.size).toBe(size);
    expect(done.body.data).toMatchObject({
      file_reference: presigned.body.data.uri,
      file_size_bytes: size,
      file_etag: head!.etag,
    });
  });

  it('aborts a multipart upload', async () => {
    const record = await clip(multipart);
    const presigned = await presign(
      {
        entity: 'clip',
        id: record.id,
        field: 'file_reference',
        filename: 'stop.mp4',
        content_type: 'video/mp4',
        size_bytes: 6 * MiB,
      },
      'lala',
      multipart,
    );
    expect(presigned.status).toBe(201);
    const part = presigned.body.data.multipart!.parts[0]!;
    expect((await put(part.url, video(part.size))).status).toBe(200);
    const aborted = await multipart.request<Rec>('POST', `/api/v1/uploads/${presigned.body.data.id}/abort`, {
      headers: as('lala'),
    });
    expect(aborted.status).toBe(200);
    expect(aborted.body.data.state).toBe('aborted');
    expect(aborted.body.metadata.leftover).toBeUndefined();
    // S3 no longer has the multipart upload: a part PUT is refused.
    expect((await put(part.url, video(part.size))).status).toBeGreaterThanOrEqual(400);
  });
});

describe('expiry', () => {
  let short: TestService;
  beforeAll(async () => {
    short = await startTestService({ databaseUrl: db.url, s3: testS3Settings({ uploadExpiresSeconds: 3 }) });
  });
  afterAll(async () => {
    await short?.stop();
  });

  it('refuses an expired upload with 410, and the sweep marks it expired and removes its object', async () => {
    const record = await clip(short);
    const presigned = await presign(
      {
        entity: 'clip',
        id: record.id,
        field: 'file_reference',
        filename: 'late.mp4',
        content_type: 'video/mp4',
        size_bytes: 10,
      },
      'lala',
      short,
    );
    expect(presigned.status).toBe(201);
    expect((await put(presigned.body.data.upload!.url, video(10), 'video/mp4')).status).toBe(200);
    // The upload lives 3 s (room for the PUT on a loaded machine); wait until its own expires_at has passed.
    const expiresAt = Date.parse(String(presigned.body.data.expires_at));
    expect(Number.isFinite(expiresAt)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt + 100 - Date.now())));
    const late = await complete(presigned.body.data.id, 'lala', undefined, short);
    expect(late.status).toBe(410);
    expect(late.body.errors[0]!.code).toBe('UPLOAD_EXPIRED');
    expect((await short.request<Rec>('GET', `/api/v1/clips/${record.id}`)).body.data.file_reference).toBe(
      record.file_reference,
    );

    const pool = await createDatabasePool(db.url, 2);
    try {
      const model = shippedModel();
      const swept = await new UploadCleanup(pool, testStorage(), model).sweep();
      expect(swept).toBeGreaterThanOrEqual(1);
    } finally {
      await pool.end();
    }
    expect((await short.request<Rec>('GET', `/api/v1/uploads/${presigned.body.data.id}`)).body.data.state).toBe(
      'expired',
    );
    expect(await testStorage().head('bucket', presigned.body.data.key)).toBeNull();
    // The record's own file (another key) is untouched.
    const own = parseS3Uri(record.file_reference as string)!;
    expect(await testStorage().head(own.bucket, own.key)).not.toBeNull();
  });
});

describe('S3 down', () => {
  let down: TestService;
  beforeAll(async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    down = await startTestService({
      databaseUrl: db.url,
      s3: testS3Settings({ endpoint: `http://127.0.0.1:${port}` }),
    });
  });
  afterAll(async () => {
    await down?.stop();
  });

  it('answers a presign with 503 S3_UNAVAILABLE and Retry-After, and stores nothing', async () => {
    const before = await service.request<Rec[]>('GET', '/api/v1/uploads?_count=exact');
    const reply = await presign(
      {
        entity: 'clip',
        field: 'file_reference',
        filename: 'a.mp4',
        content_type: 'video/mp4',
        size_bytes: 10,
        defaults: { talent_source: 'Lala' },
      },
      'lala',
      down,
    );
    expect(reply.status).toBe(503);
    expect(reply.body.errors[0]!.code).toBe('S3_UNAVAILABLE');
    expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    const after = await service.request<Rec[]>('GET', '/api/v1/uploads?_count=exact');
    expect(after.body.metadata.total).toBe(before.body.metadata.total);
  });
});

describe('If-Match and roles', () => {
  it("passes If-Match through to the record's write: a stale ETag is 412 and the upload stays pending", async () => {
    const record = await clip();
    // The clip's file_reference is a thumbnail source: its job writes the status (a new ETag), so
    // the ETag is read once that job has settled (a bounded wait).
    let current = await service.request<Rec>('GET', `/api/v1/clips/${record.id}`);
    const settled = (r: typeof current) =>
      ['done', 'failed'].includes(String((r.body.data.thumbnail_status as { state?: unknown } | null)?.state));
    for (let i = 0; i < 150 && !settled(current); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      current = await service.request<Rec>('GET', `/api/v1/clips/${record.id}`);
    }
    expect(settled(current)).toBe(true);
    const presigned = await presign({
      entity: 'clip',
      id: record.id,
      field: 'file_reference',
      filename: 'if.mp4',
      content_type: 'video/mp4',
      size_bytes: 10,
    });
    expect((await put(presigned.body.data.upload!.url, video(10), 'video/mp4')).status).toBe(200);
    const stale = await service.request<Rec>('POST', `/api/v1/uploads/${presigned.body.data.id}/complete`, {
      headers: { ...as('lala'), 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect((await service.request<Rec>('GET', `/api/v1/uploads/${presigned.body.data.id}`)).body.data.state).toBe(
      'pending',
    );
    const fresh = await service.request<Rec>('POST', `/api/v1/uploads/${presigned.body.data.id}/complete`, {
      headers: { ...as('lala'), 'if-match': current.headers.get('etag')! },
    });
    expect(fresh.status, JSON.stringify(fresh.body.errors)).toBe(200);
  });

  it('needs create or update on the entity to presign and complete, and the editor role to list', async () => {
    const roles = await startRoleService({ permissions: {} });
    try {
      const token = (caller: Caller) => roles.tokens.get(caller)!;
      const body = {
        entity: 'clip',
        field: 'file_reference',
        filename: 'r.mp4',
        content_type: 'video/mp4',
        size_bytes: 10,
        defaults: { talent_source: 'Lala' },
      };
      const viewer = await roles.service.request('POST', '/api/v1/uploads', { body, token: token('viewer') });
      expect(viewer.status).toBe(403);
      expect(viewer.body.errors[0]!.message).toMatch(/creating clips needs the editor role/);
      expect((await roles.service.request('GET', '/api/v1/uploads', { token: token('viewer') })).status).toBe(403);

      const editor = await roles.service.request<Presigned>('POST', '/api/v1/uploads', {
        body,
        token: token('editor'),
      });
      expect(editor.status, JSON.stringify(editor.body.errors)).toBe(201);
      expect(editor.body.data.created_by).toBe('editor-1');
      expect((await put(editor.body.data.upload!.url, video(10), 'video/mp4')).status).toBe(200);
      const otherAdmin = await roles.service.request('POST', `/api/v1/uploads/${editor.body.data.id}/complete`, {
        token: token('admin'),
      });
      expect(otherAdmin.status).toBe(403);
      const done = await roles.service.request<Rec>('POST', `/api/v1/uploads/${editor.body.data.id}/complete`, {
        token: token('editor'),
      });
      expect(done.status, JSON.stringify(done.body.errors)).toBe(201);
      const listed = await roles.service.request<Rec[]>('GET', '/api/v1/uploads?state=completed', {
        token: token('editor'),
      });
      expect(listed.body.data.map((u) => u.id)).toEqual([editor.body.data.id]);
    } finally {
      await roles.stop();
    }
  });
});
