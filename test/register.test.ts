// Registering existing keys (POST /{plural}/register, seed 8.2) against the run's real S3-compatible
// server and a real PostgreSQL: objects put under a prefix become records with their key, size and
// ETag; a second run creates nothing; concurrent runs do not duplicate; progress streams as NDJSON.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3 } from '../src/media/embedded-s3.ts';
import { MediaStorage } from '../src/media/storage.ts';
import { useServiceForFile } from './support/file-service.ts';
import { startRoleService, type RoleService } from './support/role-service.ts';
import { startTestService, serviceClient, type Rec } from './support/service.ts';
import { testS3Server, testS3Settings, testStorage, TEST_BUCKET, TEST_THUMBNAIL_BUCKET } from './support/s3.ts';

// A JSON answer for 1,000 keys takes a while on two shared cores: room for it, so the test is about results.
const fixture = useServiceForFile({ requestTimeoutMs: 300_000 });

interface KeyResult {
  key: string;
  uri: string;
  size: number;
  etag: string;
  status: 'created' | 'exists' | 'would_create' | 'failed';
  id?: string;
  warnings?: { code: string; ids: string[]; fields: string[] }[];
  errors?: { code: string; message: string; field: string | null }[];
}

const uniquePrefix = (label: string) => `register-test/${label}-${randomBytes(4).toString('hex')}/`;

/** Puts `count` objects under the prefix, 20 at a time; object i's body is i+1 bytes long. */
async function putObjects(prefix: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}take-${String(i).padStart(5, '0')}.mov`);
  for (let start = 0; start < keys.length; start += 20) {
    await Promise.all(
      keys
        .slice(start, start + 20)
        .map((key, j) => testStorage().putObject(TEST_BUCKET, key, Buffer.alloc(start + j + 1, 7), 'video/quicktime')),
    );
  }
  return keys;
}

const register = (body: Record<string, unknown>, plural = 'clips') =>
  fixture.service.request<KeyResult[]>('POST', `/api/v1/${plural}/register`, { body });

async function clipCount(prefix: string): Promise<number> {
  const rows = await fixture.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM clips WHERE file_reference LIKE $1 AND deleted_at IS NULL',
    [`s3://${TEST_BUCKET}/${prefix}%`],
  );
  return rows[0]!.n;
}

async function ndjson(
  body: Record<string, unknown>,
  baseUrl = fixture.service.url,
): Promise<{ status: number; type: string | null; lines: Record<string, unknown>[] }> {
  const reply = await serviceClient(baseUrl)('POST', '/api/v1/clips/register', {
    body,
    headers: { accept: 'application/x-ndjson' },
  });
  return {
    status: reply.status,
    type: reply.headers.get('content-type'),
    lines: reply.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('registering 1,000 keys', () => {
  it('creates 1,000 clips with key, size and ETag, and a second run creates none', async () => {
    const prefix = uniquePrefix('thousand');
    const keys = await putObjects(prefix, 1000);

    const first = await register({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'Lala', notes: 'bulk import' },
    });
    expect(first.status, JSON.stringify(first.body.errors)).toBe(200);
    expect(first.body.metadata).toMatchObject({
      prefix,
      field: 'file_reference',
      dry_run: false,
      listed: 1000,
      created: 1000,
      exists: 0,
      failed: 0,
      truncated: false,
    });
    expect(first.body.data).toHaveLength(1000);
    expect(first.body.data.map((r) => r.key)).toEqual(keys);
    expect(new Set(first.body.data.map((r) => r.id)).size).toBe(1000);
    expect(await clipCount(prefix)).toBe(1000);

    // The records carry the key (as the URI), the object's size and ETag, and the defaults.
    const sample = first.body.data[41]!;
    expect(sample).toMatchObject({
      status: 'created',
      key: keys[41],
      uri: `s3://${TEST_BUCKET}/${keys[41]}`,
      size: 42,
    });
    const head = await testStorage().head(TEST_BUCKET, keys[41]!);
    expect(sample.etag).toBe(head!.etag);
    const clip = await fixture.service.request<Rec>('GET', `/api/v1/clips/${sample.id}`);
    expect(clip.body.data).toMatchObject({
      file_reference: sample.uri,
      file_size_bytes: 42,
      file_etag: head!.etag,
      talent_source: 'Lala',
      notes: 'bulk import',
    });
    // Through the normal write path: audited like any create.
    const history = await fixture.service.request<Rec[]>('GET', `/api/v1/clips/${sample.id}/history`);
    // (The clip's thumbnail job, started by the create, records its own status writes as reelmeta-thumbnails.)
    expect(history.body.data.filter((e) => e.actor !== 'reelmeta-thumbnails').map((e) => e.operation)).toEqual([
      'create',
    ]);

    const listed = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/clips?file_reference[startswith]=${encodeURIComponent(`s3://${TEST_BUCKET}/${prefix}`)}&_count=exact&_limit=1`,
    );
    expect(listed.body.metadata.total).toBe(1000);

    const second = await register({ prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } });
    expect(second.status).toBe(200);
    expect(second.body.metadata).toMatchObject({ listed: 1000, created: 0, exists: 1000, failed: 0 });
    expect(second.body.data.map((r) => r.id)).toEqual(first.body.data.map((r) => r.id));
    expect(await clipCount(prefix)).toBe(1000);
  });
});

describe('registering', () => {
  it('dry_run lists what it would create and writes nothing', async () => {
    const prefix = uniquePrefix('dry');
    await putObjects(prefix, 5);
    const dry = await register({ prefix, field: 'file_reference', defaults: { talent_source: 'Lala' }, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.metadata).toMatchObject({ dry_run: true, listed: 5, would_create: 5, created: 0, exists: 0 });
    expect(dry.body.data.every((r) => r.status === 'would_create' && r.id === undefined)).toBe(true);
    expect(await clipCount(prefix)).toBe(0);

    const real = await register({ prefix, field: 'file_reference', defaults: { talent_source: 'Lala' }, max_keys: 2 });
    expect(real.body.metadata).toMatchObject({ listed: 2, created: 2, truncated: true, truncated_by: 'max_keys' });
    const again = await register({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'Lala' },
      dry_run: true,
    });
    expect(again.body.data.map((r) => r.status)).toEqual([
      'exists',
      'exists',
      'would_create',
      'would_create',
      'would_create',
    ]);
    expect(again.body.data[0]!.id).toBe(real.body.data[0]!.id);
    expect(await clipCount(prefix)).toBe(2);
  });

  it('skips folder markers (keys ending in /)', async () => {
    const prefix = uniquePrefix('folders');
    await testStorage().putObject(TEST_BUCKET, `${prefix}sub/`, Buffer.alloc(0), 'application/x-directory');
    await putObjects(`${prefix}sub/`, 2);
    const reply = await register({ prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } });
    expect(reply.body.metadata).toMatchObject({ listed: 2, created: 2 });
    expect(reply.body.data.some((r) => r.key.endsWith('/'))).toBe(false);
  });

  it('streams one NDJSON line per key as it is done, then a summary', async () => {
    const prefix = uniquePrefix('stream');
    const keys = await putObjects(prefix, 30);
    const streamed = await ndjson({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'JustAWomanInHerPrime' },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.type).toMatch(/application\/x-ndjson/);
    expect(streamed.lines).toHaveLength(31);
    expect(streamed.lines.slice(0, 30).map((l) => l.key)).toEqual(keys);
    expect(streamed.lines.slice(0, 30).every((l) => l.status === 'created' && typeof l.id === 'string')).toBe(true);
    expect(streamed.lines[30]).toEqual({
      summary: expect.objectContaining({ prefix, listed: 30, created: 30, exists: 0, failed: 0, truncated: false }),
    });
    expect(await clipCount(prefix)).toBe(30);
  });

  it('errors before the first key are the error envelope, also when NDJSON is asked for', async () => {
    const streamed = await ndjson({ field: 'file_reference' });
    expect(streamed.status).toBe(422);
    expect(streamed.lines).toHaveLength(1);
    expect(streamed.lines[0]).toMatchObject({ data: null, errors: [{ code: 'VALIDATION_ERROR', field: 'prefix' }] });
  });

  it('two concurrent runs over the same 50 keys create 50 records in all', async () => {
    const prefix = uniquePrefix('concurrent');
    await putObjects(prefix, 50);
    const body = { prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } };
    const [a, b] = await Promise.all([register(body), register(body)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.metadata.failed).toBe(0);
    expect(b.body.metadata.failed).toBe(0);
    expect((a.body.metadata.created as number) + (b.body.metadata.created as number)).toBe(50);
    expect((a.body.metadata.exists as number) + (b.body.metadata.exists as number)).toBe(50);
    expect(await clipCount(prefix)).toBe(50);
    // Each key names the same record in both answers.
    expect(a.body.data.map((r) => r.id)).toEqual(b.body.data.map((r) => r.id));
  });

  it('gives clips the duplicate warnings a create gives', async () => {
    const prefix = uniquePrefix('dupes');
    await putObjects(prefix, 2);
    const reply = await register({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'Lala', source_file_hash: `sha256:${prefix}` },
    });
    expect(reply.body.metadata).toMatchObject({ created: 2 });
    const [first, second] = reply.body.data;
    expect(first!.warnings).toBeUndefined();
    expect(second!.warnings).toEqual([
      expect.objectContaining({ code: 'POSSIBLE_DUPLICATE', fields: ['source_file_hash'], ids: [first!.id] }),
    ]);
  });

  it('reports a key that fails with its errors and goes on', async () => {
    const prefix = uniquePrefix('failing');
    // S3 takes a key with a line break; the field's s3:// URI pattern does not.
    await testStorage().putObject(TEST_BUCKET, `${prefix}a-line\nbreak.mov`, Buffer.from('x'), 'video/quicktime');
    await testStorage().putObject(TEST_BUCKET, `${prefix}b-good.mov`, Buffer.from('x'), 'video/quicktime');
    const reply = await register({ prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } });
    expect(reply.status).toBe(200);
    expect(reply.body.metadata).toMatchObject({ listed: 2, created: 1, failed: 1 });
    const [bad, good] = reply.body.data;
    expect(bad).toMatchObject({
      key: `${prefix}a-line\nbreak.mov`,
      status: 'failed',
      errors: [expect.objectContaining({ code: 'VALIDATION_ERROR', field: 'file_reference' })],
    });
    expect(bad!.id).toBeUndefined();
    expect(good).toMatchObject({ status: 'created' });
    expect(await clipCount(prefix)).toBe(1);
  });
});

describe('limits of a run', () => {
  it('a JSON answer stops at the request deadline (truncated_by deadline); the NDJSON stream is not cut by it', async () => {
    const prefix = uniquePrefix('deadline');
    await putObjects(prefix, 20);
    // A deadline shorter than the slack a JSON answer keeps: it stops before its first key.
    const hurried = await startTestService({ databaseUrl: fixture.db.url, requestTimeoutMs: 1000 });
    try {
      const body = { prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } };
      const json = await serviceClient(hurried.url)('POST', '/api/v1/clips/register', { body });
      expect(json.status, JSON.stringify(json.body)).toBe(200);
      expect(json.body.metadata).toMatchObject({ listed: 0, created: 0, truncated: true, truncated_by: 'deadline' });
      const streamed = await ndjson(body, hurried.url);
      expect(streamed.lines.at(-1)).toEqual({
        summary: expect.objectContaining({ listed: 20, created: 20, truncated: false }),
      });
    } finally {
      await hurried.stop();
    }
  });

  it('S3 down: 503 before the first key; S3 gone mid-stream: a last summary line with the error', async () => {
    // A private S3 server (same keys as the shared one), to stop without disturbing other files.
    const directory = mkdtempSync(path.join(tmpdir(), 'reelmeta-register-s3-'));
    const shared = testS3Server();
    writeFileSync(
      path.join(directory, 'credentials.json'),
      JSON.stringify({ accessKeyId: shared.accessKeyId, secretAccessKey: shared.secretAccessKey }),
    );
    let s3 = await startEmbeddedS3({ directory, buckets: [TEST_BUCKET, TEST_THUMBNAIL_BUCKET] });
    const service = await startTestService({
      databaseUrl: fixture.db.url,
      s3: testS3Settings({ endpoint: s3.endpoint }),
    });
    try {
      const own = new MediaStorage({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: shared,
        bucket: TEST_BUCKET,
        thumbnailBucket: TEST_THUMBNAIL_BUCKET,
        presignExpiresSeconds: 60,
      });
      const prefix = uniquePrefix('outage');
      // More than one page (1,000 a page): the second page is listed after the first page's keys are done.
      const keys = Array.from({ length: 1005 }, (_, i) => `${prefix}k-${String(i).padStart(5, '0')}.mov`);
      for (let start = 0; start < keys.length; start += 20) {
        await Promise.all(
          keys
            .slice(start, start + 20)
            .map((key) => own.putObject(TEST_BUCKET, key, Buffer.from('x'), 'video/quicktime')),
        );
      }
      const response = await fetch(`${service.url}/api/v1/clips/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify({ prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } }),
      });
      expect(response.status, response.status === 200 ? '' : await response.text()).toBe(200);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      // The first line is there: the first page was listed. Now the object store goes away.
      while (!text.includes('\n')) text += decoder.decode((await reader.read()).value, { stream: true });
      await s3.stop();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const lines = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(1001);
      expect(lines.at(-1)).toEqual({
        summary: expect.objectContaining({
          listed: 1000,
          created: 1000,
          error: expect.objectContaining({ code: 'S3_UNAVAILABLE' }),
        }),
      });

      // Down before the run: the error envelope, 503 with Retry-After, nothing written.
      const down = await serviceClient(service.url)('POST', '/api/v1/clips/register', {
        body: { prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } },
      });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).not.toBeNull();
      expect(down.body.errors[0]!.code).toBe('S3_UNAVAILABLE');

      // Back up: the run picks up where it stopped, the 1,000 done are `exists`.
      s3 = await startEmbeddedS3({ directory, buckets: [TEST_BUCKET, TEST_THUMBNAIL_BUCKET], port: s3.port });
      const resumed = await serviceClient(service.url)('POST', '/api/v1/clips/register', {
        body: { prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } },
      });
      expect(resumed.body.metadata).toMatchObject({ listed: 1005, exists: 1000, created: 5 });
      expect(await clipCount(prefix)).toBe(1005);
    } finally {
      await service.stop();
      await s3.stop();
      rmSync(directory, { recursive: true, force: true });
    }
    // 1,005 objects put and 1,000 clips created: about 40 s alone on two cores, more beside the rest of the suite.
  }, 150_000);
});

describe('bad register requests', () => {
  it('refuse an unknown field, naming the media fields', async () => {
    const reply = await register({ prefix: 'raw/', field: 'notes', defaults: { talent_source: 'Lala' } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors[0]).toMatchObject({ code: 'VALIDATION_ERROR', field: 'field' });
    expect(reply.body.errors[0]!.message).toContain('file_reference, custom_thumbnail');
  });

  it('need the field when the entity has several media fields', async () => {
    const reply = await register({ prefix: 'raw/', defaults: { talent_source: 'Lala' } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors[0]).toMatchObject({ field: 'field' });
  });

  it('refuse a missing, absolute or control-character prefix', async () => {
    for (const prefix of [undefined, '', '/raw/', 'raw/\u0001x']) {
      const reply = await register({
        ...(prefix === undefined ? {} : { prefix }),
        field: 'file_reference',
        defaults: { talent_source: 'Lala' },
      });
      expect(reply.status, String(prefix)).toBe(422);
      expect(reply.body.errors[0]).toMatchObject({ code: 'VALIDATION_ERROR', field: 'prefix' });
    }
    const long = await register({
      prefix: 'x'.repeat(1025),
      field: 'file_reference',
      defaults: { talent_source: 'Lala' },
    });
    expect(long.status).toBe(422);
  });

  it('refuse defaults that would not make a valid record, before listing anything', async () => {
    const prefix = uniquePrefix('bad-defaults');
    await putObjects(prefix, 3);
    const missing = await register({ prefix, field: 'file_reference', defaults: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([
      expect.objectContaining({ code: 'VALIDATION_ERROR', field: 'defaults.talent_source' }),
    ]);
    const wrong = await register({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'Lala', take_number: 0, bogus: 1 },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors.map((e) => e.field).sort()).toEqual(['defaults.bogus', 'defaults.take_number']);
    const dangling = await register({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'Lala', episode_id: 'ep_doesnotexist' },
    });
    expect(dangling.status).toBe(422);
    expect(dangling.body.errors[0]).toMatchObject({ field: 'defaults.episode_id' });
    const filled = await register({
      prefix,
      field: 'file_reference',
      defaults: { talent_source: 'Lala', file_size_bytes: 3 },
    });
    expect(filled.status).toBe(422);
    expect(filled.body.errors[0]).toMatchObject({ field: 'defaults.file_size_bytes' });
    expect(await clipCount(prefix)).toBe(0);
  });

  it('refuse max_keys past the limit, and unknown body keys', async () => {
    const over = await register({
      prefix: 'raw/',
      field: 'file_reference',
      defaults: { talent_source: 'Lala' },
      max_keys: 100_001,
    });
    expect(over.status).toBe(400);
    expect(over.body.errors[0]).toMatchObject({ field: 'max_keys' });
    const extra = await register({
      prefix: 'raw/',
      field: 'file_reference',
      defaults: { talent_source: 'Lala' },
      dryrun: true,
    });
    expect(extra.status).toBe(400);
    expect(extra.body.errors[0]).toMatchObject({ field: 'dryrun' });
  });

  it('an entity without media fields has no register route', async () => {
    const reply = await register({ prefix: 'raw/' }, 'shows');
    expect(reply.status).toBe(404);
    expect(reply.body.errors[0]!.code).toBe('NOT_FOUND');
  });

  it('register takes POST only', async () => {
    const reply = await fixture.service.request('GET', '/api/v1/clips/register');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('POST');
  });
});

describe('who may register', () => {
  let roles: RoleService;
  beforeAll(async () => {
    roles = await startRoleService({ permissions: {} });
  });
  afterAll(async () => {
    await roles?.stop();
  });

  it('needs create (and read) on the entity: a viewer is refused before anything is listed, an editor registers', async () => {
    const prefix = uniquePrefix('roles');
    await putObjects(prefix, 3);
    const body = { prefix, field: 'file_reference', defaults: { talent_source: 'Lala' } };
    const as = (caller: 'none' | 'viewer' | 'editor') =>
      roles.service.request<KeyResult[]>('POST', '/api/v1/clips/register', {
        body,
        token: roles.tokens.get(caller),
      });

    const viewer = await as('viewer');
    expect(viewer.status).toBe(403);
    expect(viewer.body.errors[0]!.message).toContain('creating clips needs the editor role');
    const nobody = await as('none');
    expect(nobody.status).toBe(403);
    const rows = await roles.db.query<{ n: number }>('SELECT count(*)::int AS n FROM clips');
    expect(rows[0]!.n).toBe(0);

    const editor = await as('editor');
    expect(editor.status).toBe(200);
    expect(editor.body.metadata).toMatchObject({ created: 3 });
    // Audited as the caller (the thumbnail jobs the creates started write their status as themselves).
    const audit = await roles.db.query<{ actor: string }>(
      "SELECT DISTINCT actor FROM audit_entries WHERE entity = $1 AND operation = 'create'",
      ['clip'],
    );
    expect(audit.map((r) => r.actor)).toEqual(['editor-1']);
  });
});
