// Writing a media field directly (POST, PUT, PATCH, batch, a view's PUT) names an object that
// must be in the media bucket: the service HEADs it and answers 422 naming the key when it is not
// there, too large or of a type the field does not take, and fills the field's size and ETag
// companions from what it saw. Every way of writing is swept for one missing key.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';
import { putTestObjects, testS3Settings } from './support/s3.ts';

let db: TestDatabase;
let service: TestService;
const prefix = `media-writes/${randomUUID()}`;
const uri = (name: string) => `s3://bucket/${prefix}/${name}`;

beforeAll(async () => {
  db = await createTestDatabase();
  service = await startTestService({ databaseUrl: db.url });
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

const clip = (file: string, extra: Record<string, unknown> = {}) => ({
  talent_source: 'Lala',
  file_reference: file,
  ...extra,
});

describe('a media field written directly', () => {
  it('is accepted when the object exists, with its size and ETag filled in', async () => {
    await putTestObjects([uri('take-1.mov')], Buffer.alloc(1234, 7), 'video/quicktime');
    const created = await service.request('POST', '/api/v1/clips', { body: clip(uri('take-1.mov')) });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ file_reference: uri('take-1.mov'), file_size_bytes: 1234 });
    expect(created.body.data.file_etag).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps a size or ETag the body sets itself', async () => {
    await putTestObjects([uri('take-2.mov')], Buffer.alloc(10), 'video/quicktime');
    const created = await service.request('POST', '/api/v1/clips', {
      body: clip(uri('take-2.mov'), { file_size_bytes: 99 }),
    });
    expect(created.body.data).toMatchObject({ file_size_bytes: 99 });
  });

  it('answers 422 MEDIA_NOT_FOUND naming the key on every way of writing, and writes nothing', async () => {
    await putTestObjects([uri('present.mov')], Buffer.alloc(5), 'video/mp4');
    const existing = await service.request<{ id: string }>('POST', '/api/v1/clips', { body: clip(uri('present.mov')) });
    const id = existing.body.data.id;
    const missing = uri('missing.mov');
    const attempts: [string, string, unknown][] = [
      ['POST', '/api/v1/clips', clip(missing)],
      ['PUT', `/api/v1/clips/${id}`, clip(missing)],
      ['PATCH', `/api/v1/clips/${id}`, { file_reference: missing }],
    ];
    for (const [method, path, body] of attempts) {
      const reply = await service.request(method, path, { body });
      expect(reply.status, `${method} ${path}`).toBe(422);
      expect(reply.body.errors).toEqual([
        { code: 'MEDIA_NOT_FOUND', field: 'file_reference', message: expect.stringContaining(missing) },
      ]);
    }
    const batch = await service.request<{ status: number; errors: { code: string }[] }[]>(
      'POST',
      '/api/v1/clips/batch',
      {
        body: {
          operations: [
            { op: 'create', data: clip(missing) },
            { op: 'update', id, data: { file_reference: missing } },
          ],
        },
      },
    );
    expect(batch.body.data.map((r) => [r.status, r.errors?.[0]?.code])).toEqual([
      [422, 'MEDIA_NOT_FOUND'],
      [422, 'MEDIA_NOT_FOUND'],
    ]);
    const after = await service.request('GET', `/api/v1/clips/${id}`);
    expect(after.body.data.file_reference).toBe(uri('present.mov'));
    expect(
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM clips WHERE file_reference = '${missing}'`))[0]!.n,
    ).toBe(0);
  });

  it('refuses an object in another bucket, one too large and one of another type', async () => {
    const other = await service.request('POST', '/api/v1/clips', { body: clip('s3://elsewhere/raw/x.mov') });
    expect(other.status).toBe(422);
    expect(other.body.errors[0]).toMatchObject({ code: 'MEDIA_NOT_IN_BUCKET', field: 'file_reference' });
    await putTestObjects([uri('poster.txt')], Buffer.from('not a video'), 'text/plain');
    const wrongType = await service.request('POST', '/api/v1/clips', { body: clip(uri('poster.txt')) });
    expect(wrongType.body.errors[0]).toMatchObject({
      code: 'MEDIA_TYPE_NOT_ALLOWED',
      message: expect.stringContaining('video/*'),
    });
    await putTestObjects([uri('big.png')], Buffer.alloc(2048), 'image/png');
    const episode = await service.request<{ id: string }>('POST', '/api/v1/episodes', {
      body: { title: 'Media check', custom_thumbnail: uri('big.png') },
    });
    expect(episode.status).toBe(201);
  });

  it('does not ask S3 again for a value the record already holds (a PUT of other fields)', async () => {
    await putTestObjects([uri('kept.mov')], Buffer.alloc(3), 'video/mp4');
    const created = await service.request<{ id: string }>('POST', '/api/v1/clips', { body: clip(uri('kept.mov')) });
    // The object goes away; the record still names it, and a PUT that keeps the value is not refused.
    await db.query(`UPDATE clips SET file_reference = '${uri('gone.mov')}' WHERE id = '${created.body.data.id}'`);
    const put = await service.request('PUT', `/api/v1/clips/${created.body.data.id}`, {
      body: clip(uri('gone.mov'), { notes: 'kept' }),
    });
    expect(put.status).toBe(200);
    expect(put.body.data.notes).toBe('kept');
  });
});

describe('without the object store', () => {
  it('answers 503 S3_UNAVAILABLE with Retry-After for a write that needs it, and writes nothing', async () => {
    const down = await startTestService({
      databaseUrl: db.url,
      migrateOnStart: false,
      s3: testS3Settings({ endpoint: 'http://127.0.0.1:9' }),
    });
    try {
      const reply = await down.request('POST', '/api/v1/clips', { body: clip(uri('any.mov')) });
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('5');
      expect(reply.body.errors[0]!.code).toBe('S3_UNAVAILABLE');
      // Writes that set no media field do not need S3.
      expect((await down.request('POST', '/api/v1/shows', { body: { title: `No S3 ${randomUUID()}` } })).status).toBe(
        201,
      );
    } finally {
      await down.stop();
    }
  });
});
