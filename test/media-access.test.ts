// Reading media (GET /{plural}/{id}/media/{field} and /thumbnails/{size}) over real HTTP, a real
// PostgreSQL and the run's S3-compatible server: a 302 to a presigned GET that serves the same
// bytes, after the caller's read permission; clear 404s and 409s otherwise.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { startRoleService, type RoleService } from './support/role-service.ts';
import { testStorage, TEST_BUCKET, TEST_THUMBNAIL_BUCKET } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();

const unique = (label: string) => `media-access-test/${label}-${randomBytes(4).toString('hex')}`;

/** Puts an object with random bytes and answers its URI and bytes. */
async function putObject(
  bucket: string,
  key: string,
  contentType = 'video/mp4',
): Promise<{ uri: string; bytes: Buffer }> {
  const bytes = randomBytes(2048);
  await testStorage().putObject(bucket, key, bytes, contentType);
  return { uri: `s3://${bucket}/${key}`, bytes };
}

/** GET without following redirects. */
const get = (path: string, headers: Record<string, string> = {}, base = fixture.service.url) =>
  fetch(`${base}${path}`, { redirect: 'manual', headers });

async function bytesAt(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function errorOf(response: Response): Promise<{ code: string; message: string; field: string | null }> {
  const body = (await response.json()) as {
    data: unknown;
    errors: { code: string; message: string; field: string | null }[];
  };
  expect(body.data).toBeNull();
  return body.errors[0]!;
}

describe('GET /{plural}/{id}/media/{field}', () => {
  it('redirects to a presigned GET that serves the object', async () => {
    const { uri, bytes } = await putObject(TEST_BUCKET, `${unique('clip')}/take 1.mp4`);
    const clip = await fixture.create({ talent_source: 'Lala', file_reference: uri }, 'clips');
    const response = await get(`/api/v1/clips/${clip.id}/media/file_reference`);
    expect(response.status).toBe(302);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = response.headers.get('location')!;
    expect(location).toMatch(/X-Amz-Signature=/);
    expect(location).toMatch(/X-Amz-Expires=(\d+)/);
    expect(Number(/X-Amz-Expires=(\d+)/.exec(location)![1])).toBeLessThanOrEqual(300);
    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('filename="take 1.mp4"');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('serves a nested file field by its dotted path', async () => {
    const { uri, bytes } = await putObject(TEST_BUCKET, `${unique('outfit')}/look.jpg`, 'image/jpeg');
    const episode = await fixture.create({ title: 'Nested media', wardrobe: { main_outfit: { overall_image: uri } } });
    const response = await get(`/api/v1/episodes/${episode.id}/media/wardrobe.main_outfit.overall_image`);
    expect(response.status).toBe(302);
    expect((await bytesAt(response.headers.get('location')!)).equals(bytes)).toBe(true);
  });

  it('answers 404 for an unknown field (listing the file fields), a missing record, and an empty field', async () => {
    const clip = await fixture.create(
      { talent_source: 'Lala', file_reference: (await putObject(TEST_BUCKET, `${unique('c')}/a.mov`)).uri },
      'clips',
    );

    const unknown = await get(`/api/v1/clips/${clip.id}/media/notes`);
    expect(unknown.status).toBe(404);
    const problem = await errorOf(unknown);
    expect(problem.code).toBe('NOT_FOUND');
    expect(problem.message).toContain('file_reference, custom_thumbnail');

    const missing = await get('/api/v1/clips/clip_20990101_nosuchclip/media/file_reference');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('NOT_FOUND');

    const empty = await get(`/api/v1/clips/${clip.id}/media/custom_thumbnail`);
    expect(empty.status).toBe(404);
    expect(await errorOf(empty)).toMatchObject({ code: 'NO_MEDIA', field: 'custom_thumbnail' });

    // A file field inside an array has no single object: not served here.
    const inArray = await get(`/api/v1/clips/${clip.id}/media/thumbnails`);
    expect(inArray.status).toBe(404);
  });

  it('does not serve a deleted record', async () => {
    const clip = await fixture.create(
      { talent_source: 'Lala', file_reference: (await putObject(TEST_BUCKET, `${unique('d')}/a.mov`)).uri },
      'clips',
    );
    expect((await fixture.service.request('DELETE', `/api/v1/clips/${clip.id}`)).status).toBe(200);
    expect((await get(`/api/v1/clips/${clip.id}/media/file_reference`)).status).toBe(404);
  });

  it('answers 409 NOT_MANAGED for a URI in a bucket this service does not manage', async () => {
    const clip = await fixture.create(
      { talent_source: 'Lala', file_reference: (await putObject(TEST_BUCKET, `${unique('e')}/a.mov`)).uri },
      'clips',
    );
    // Written in the database: the write path checks media URIs against the object store.
    const foreign = 's3://somebody-elses-bucket/raw/a.mov';
    await fixture.db.query('UPDATE clips SET file_reference = $1 WHERE id = $2', [foreign, clip.id]);
    const response = await get(`/api/v1/clips/${clip.id}/media/file_reference`);
    expect(response.status).toBe(409);
    const problem = await errorOf(response);
    expect(problem.code).toBe('NOT_MANAGED');
    expect(problem.message).toContain(foreign);
  });

  it('takes GET only', async () => {
    const response = await fetch(`${fixture.service.url}/api/v1/clips/clip_20990101_x/media/file_reference`, {
      method: 'DELETE',
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});

describe('GET /{plural}/{id}/thumbnails/{size}', () => {
  it('redirects to the image of that size listed in the thumbnail status', async () => {
    const clip = await fixture.create(
      { talent_source: 'Lala', file_reference: (await putObject(TEST_BUCKET, `${unique('t')}/a.mov`)).uri },
      'clips',
    );
    const small = await putObject(TEST_THUMBNAIL_BUCKET, `thumbnails/clips/${clip.id}/320x180.jpg`, 'image/jpeg');
    const large = await putObject(TEST_THUMBNAIL_BUCKET, `thumbnails/clips/${clip.id}/1280x720.jpg`, 'image/jpeg');
    const status = {
      state: 'done',
      images: [
        { size: '1280x720', width: 1280, height: 720, uri: large.uri },
        { size: '320x180', width: 320, height: 180, uri: small.uri },
      ],
    };
    // thumbnail_status is read-only through the API: the job writes it.
    await fixture.db.query('UPDATE clips SET thumbnail_status = $1 WHERE id = $2', [JSON.stringify(status), clip.id]);

    const response = await get(`/api/v1/clips/${clip.id}/thumbnails/320x180`);
    expect(response.status).toBe(302);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect((await bytesAt(response.headers.get('location')!)).equals(small.bytes)).toBe(true);
    const big = await get(`/api/v1/clips/${clip.id}/thumbnails/1280x720`);
    expect((await bytesAt(big.headers.get('location')!)).equals(large.bytes)).toBe(true);

    // A size the status does not list yet.
    const middle = await get(`/api/v1/clips/${clip.id}/thumbnails/640x360`);
    expect(middle.status).toBe(404);
    expect((await errorOf(middle)).code).toBe('THUMBNAIL_NOT_READY');
  });

  it('answers 404 THUMBNAIL_NOT_READY naming the state, and 404 for an unknown size', async () => {
    const clip = await fixture.create(
      { talent_source: 'Lala', file_reference: (await putObject(TEST_BUCKET, `${unique('u')}/a.mov`)).uri },
      'clips',
    );
    const none = await get(`/api/v1/clips/${clip.id}/thumbnails/640x360`);
    expect(none.status).toBe(404);
    expect(await errorOf(none)).toMatchObject({ code: 'THUMBNAIL_NOT_READY' });

    await fixture.db.query('UPDATE clips SET thumbnail_status = $1 WHERE id = $2', [
      JSON.stringify({ state: 'queued', job_id: 'j1' }),
      clip.id,
    ]);
    const queued = await get(`/api/v1/clips/${clip.id}/thumbnails/640x360`);
    expect(queued.status).toBe(404);
    const problem = await errorOf(queued);
    expect(problem.code).toBe('THUMBNAIL_NOT_READY');
    expect(problem.message).toContain('queued');

    const odd = await get(`/api/v1/clips/${clip.id}/thumbnails/100x100`);
    expect(odd.status).toBe(404);
    expect((await errorOf(odd)).message).toContain('1280x720, 640x360, 320x180');
  });

  it('an entity without thumbnails has no thumbnail route', async () => {
    const show = await fixture.create({ title: 'No thumbnails' }, 'shows');
    const response = await get(`/api/v1/shows/${show.id}/thumbnails/320x180`);
    expect(response.status).toBe(404);
  });
});

describe('reading media needs read on the entity', () => {
  let roles: RoleService;
  beforeAll(async () => {
    roles = await startRoleService({ permissions: {} });
  });
  afterAll(async () => {
    await roles?.stop();
  });

  it('a viewer may follow the redirect; a caller without a role may not', async () => {
    const { uri, bytes } = await putObject(TEST_BUCKET, `${unique('roles')}/a.mov`);
    const created = await roles.service.request<Rec>('POST', '/api/v1/clips', {
      body: { talent_source: 'Lala', file_reference: uri },
      token: roles.tokens.get('editor'),
    });
    expect(created.status, JSON.stringify(created.body.errors)).toBe(201);
    const path = `/api/v1/clips/${created.body.data.id}/media/file_reference`;

    const viewer = await get(path, { authorization: `Bearer ${roles.tokens.get('viewer')}` }, roles.service.url);
    expect(viewer.status).toBe(302);
    expect((await bytesAt(viewer.headers.get('location')!)).equals(bytes)).toBe(true);

    const nobody = await get(path, { authorization: `Bearer ${roles.tokens.get('none')}` }, roles.service.url);
    expect(nobody.status).toBe(403);
    expect(nobody.headers.get('location')).toBeNull();
    expect((await errorOf(nobody)).code).toBe('FORBIDDEN');

    const anonymous = await get(path, {}, roles.service.url);
    expect(anonymous.status).toBe(401);
  });
});
