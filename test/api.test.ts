// The generic REST API over real HTTP and a real PostgreSQL: Appendix B records, validation,
// the envelope, PUT/PATCH/DELETE semantics and lists.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { useServiceForFile } from './support/file-service.ts';
import { startTestService, type Rec } from './support/service.ts';
import { createTestDatabase } from './support/database.ts';
import { REGISTRY_VERSION } from './support/project-facts.ts';
import { appendixB } from './support/fixtures.ts';

const fixture = useServiceForFile();

const { create } = fixture;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Appendix B records', () => {
  for (const name of ['minimal', 'with-production-assets', 'fully-evolved']) {
    it(`accepts the ${name} record as written and reads it back unchanged`, async () => {
      const sent = appendixB(name);
      const created = await create(sent);
      const read = await fixture.service.request<Rec>('GET', `/api/v1/episodes/${created.id}`);
      expect(read.status).toBe(200);
      const expected = { ...sent, status: sent.status === 'in-production' ? 'in_production' : sent.status };
      for (const [key, value] of Object.entries(expected)) expect(read.body.data[key], key).toEqual(value);
      expect(read.body.data).toEqual(created);
    });
  }

  it('stores the hyphenated in-production spelling canonically, and filters by either spelling', async () => {
    const created = await create({ title: 'Alias check', status: 'in-production' });
    expect(created.status).toBe('in_production');
    const rows = await fixture.db.query<{ status: string }>('SELECT status FROM episodes WHERE id = $1', [created.id]);
    expect(rows[0]?.status).toBe('in_production');
    const listed = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?status=in-production&title=Alias%20check',
    );
    expect(listed.body.data.map((r) => r.id)).toEqual([created.id]);
  });
});

describe('create', () => {
  it('sets a prefixed id, timestamps, schema_version and defaults; answers 201 with Location', async () => {
    const reply = await fixture.service.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'Fresh' } });
    expect(reply.status).toBe(201);
    const data = reply.body.data;
    expect(data.id).toMatch(/^ep_\d{8}_[a-z0-9]{10}$/);
    expect(reply.headers.get('location')).toBe(`/api/v1/episodes/${data.id}`);
    expect(data.created_at).toBe(data.updated_at);
    expect(Date.parse(String(data.created_at))).toBeGreaterThan(Date.now() - 60_000);
    expect(data.schema_version).toBe(1);
    expect(data.status).toBe('draft');
    expect(data.approval_status).toBe('approved');
    expect(data.description).toBeNull();
    expect(reply.body.metadata).toMatchObject({ schema_version: 1, registry_version: REGISTRY_VERSION });
    expect(reply.body.errors).toEqual([]);
  });

  it('ignores server-owned fields sent by the client', async () => {
    const data = await create({
      id: 'ep_mine',
      title: 'Owned',
      created_at: '2000-01-01T00:00:00Z',
      schema_version: 99,
      deleted_at: '2000-01-01T00:00:00Z',
    });
    expect(data.id).not.toBe('ep_mine');
    expect(data.created_at).not.toBe('2000-01-01T00:00:00.000Z');
    expect(data.schema_version).toBe(1);
    expect(data.deleted_at).toBeNull();
  });

  it('accepts a show and an episode that refers to it; a dangling ref is a 409 naming the field', async () => {
    const show = await create({ title: 'Styling Adventures', slug: 'styling-adventures' }, 'shows');
    expect(show.id).toMatch(/^show_/);
    const episode = await create({ title: 'Pilot', show_id: show.id });
    expect(episode.show_id).toBe(show.id);
    const dangling = await fixture.service.request('POST', '/api/v1/episodes', {
      body: { title: 'Orphan', show_id: 'show_20250101_missing' },
    });
    expect(dangling.status).toBe(409);
    expect(dangling.body.errors[0]).toMatchObject({ code: 'CONFLICT', field: 'show_id' });
    const blocked = await fixture.service.request('DELETE', `/api/v1/shows/${show.id}?hard=true`);
    expect(blocked.status).toBe(409);
    expect(blocked.body.errors[0]?.message).toMatch(/still referenced by episodes/);
  });
});

describe('validation', () => {
  const post = (body: unknown) => fixture.service.request('POST', '/api/v1/episodes', { body });

  it('reports one error per problem with dotted field paths, status 422', async () => {
    const reply = await post({
      episode_number: 'one',
      season: -1,
      status: 'finished',
      wardrobe: { shoes: { color: 5, heel: 'high' } },
      content: { script: 'scripts/ep1.pdf' },
      tags: ['ok', 7],
      thumbnail_url: 'ftp://example.com/a.jpg',
      release_date: '2026-02-30',
      language: 'English',
    });
    expect(reply.status).toBe(422);
    expect(reply.body.data).toBeNull();
    const byField = Object.fromEntries(reply.body.errors.map((e) => [e.field, e]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        'content.script',
        'episode_number',
        'language',
        'release_date',
        'season',
        'status',
        'tags[1]',
        'thumbnail_url',
        'title',
        'wardrobe.shoes.color',
        'wardrobe.shoes.heel',
      ].sort(),
    );
    expect(reply.body.errors).toHaveLength(11);
    for (const error of reply.body.errors) expect(error.code).toBe('VALIDATION_ERROR');
    expect(byField.title?.message).toBe('title is required');
    expect(byField['wardrobe.shoes.color']?.message).toBe('wardrobe.shoes.color must be a string');
    expect(byField['wardrobe.shoes.heel']?.message).toMatch(/not a field of wardrobe\.shoes/);
    expect(byField['content.script']?.message).toMatch(/S3 URI/);
    expect(byField.status?.message).toMatch(/must be one of: draft, in_production/);
    expect(byField.season?.message).toBe('season must be at least 0');
    expect(byField.release_date?.message).toMatch(/YYYY-MM-DD/);
  });

  it('enforces max_length and nested required fields inside arrays of objects', async () => {
    const reply = await post({
      title: 'x'.repeat(301),
      backgrounds: { additional: [{ name: 'Rooftop' }] },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors.map((e) => e.field).sort()).toEqual(['backgrounds.additional[0].file', 'title']);
  });

  it('rejects a ref whose id has the wrong prefix', async () => {
    const reply = await post({ title: 'Wrong ref', show_id: 'ep_20250101_abc' });
    expect(reply.status).toBe(422);
    expect(reply.body.errors[0]).toMatchObject({
      field: 'show_id',
      message: 'show_id must be an id starting with show_',
    });
  });

  it('answers 400 for malformed JSON and for a body that is not an object', async () => {
    const malformed = await fixture.service.request('POST', '/api/v1/episodes', { raw: '{"title": "unterminated' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]?.code).toBe('INVALID_JSON');
    const array = await fixture.service.request('POST', '/api/v1/episodes', { body: [{ title: 'a' }] });
    expect(array.status).toBe(400);
    expect(array.body.errors[0]?.code).toBe('INVALID_BODY');
    const empty = await fixture.service.request('POST', '/api/v1/episodes', { raw: '' });
    expect(empty.status).toBe(400);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const reply = await fixture.service.request('POST', '/api/v1/episodes', {
      raw: 'title=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(reply.status).toBe(415);
    expect(reply.body.errors[0]?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 for a body over 1 MiB, with or without Content-Length', async () => {
    const big = JSON.stringify({ title: 'big', description: 'x'.repeat(1024 * 1024) });
    const declared = await fixture.service.request('POST', '/api/v1/episodes', { raw: big });
    expect(declared.status).toBe(413);
    expect(declared.body.errors[0]?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(declared.headers.get('connection')).toBe('close');
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await fetch(`${fixture.service.url}/api/v1/episodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});

describe('values PostgreSQL cannot hold are client errors, not 500s', () => {
  it('refuses out-of-range integers, NUL characters and year 0000 with field paths', async () => {
    const reply = await fixture.service.request('POST', '/api/v1/episodes', {
      body: {
        title: 'nul \u0000 here',
        season: 1e20,
        release_date: '0000-01-01',
        wardrobe: { shoes: { color: 'a\u0000b' } },
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors.map((e) => e.field).sort()).toEqual([
      'release_date',
      'season',
      'title',
      'wardrobe.shoes.color',
    ]);
  });

  it('answers 400 or 404 for such values in queries and ids', async () => {
    expect((await fixture.service.request('GET', '/api/v1/episodes?title=%00')).status).toBe(400);
    expect((await fixture.service.request('GET', '/api/v1/episodes?release_date=0000-01-01')).status).toBe(400);
    expect((await fixture.service.request('GET', '/api/v1/episodes?created_at[gte]=0000-01-01T00:00:00Z')).status).toBe(
      400,
    );
    expect((await fixture.service.request('GET', '/api/v1/episodes/%00')).status).toBe(404);
    expect((await fixture.service.request('GET', '/api/v1/episodes/show_20250101_abc')).status).toBe(404);
  });
});

describe('read', () => {
  it('answers 404 with the error envelope for a missing id and an unknown route', async () => {
    const missing = await fixture.service.request('GET', '/api/v1/episodes/ep_20250101_nothere');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ data: null, errors: [{ code: 'NOT_FOUND', field: null }] });
    const route = await fixture.service.request('GET', '/api/v1/nothing');
    expect(route.status).toBe(404);
    expect(route.body.errors[0]?.code).toBe('NOT_FOUND');
  });

  it('answers 405 with Allow for a method the route does not have', async () => {
    const reply = await fixture.service.request('POST', '/api/v1/episodes/ep_1', { body: {} });
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, PUT, PATCH, DELETE');
  });
});

describe('PUT and PATCH', () => {
  it('PATCH merges deeply, keeps untouched nested fields, removes nulls and bumps updated_at', async () => {
    const created = await create(appendixB('with-production-assets'));
    await sleep(5);
    const reply = await fixture.service.request<Rec>('PATCH', `/api/v1/episodes/${created.id}`, {
      body: { wardrobe: { shoes: { color: 'black' }, purse: null }, season: null, description: 'Now with notes' },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(reply.status).toBe(200);
    const data = reply.body.data as Rec & { wardrobe: Record<string, Record<string, unknown>> };
    expect(data.wardrobe.shoes).toEqual({
      style: 'pointed toe pumps',
      color: 'black',
      brand: 'Christian Louboutin',
      heel_height: '4 inches',
    });
    expect(data.wardrobe.main_outfit).toEqual((created.wardrobe as Record<string, unknown>).main_outfit);
    expect(data.wardrobe.accessories).toEqual((created.wardrobe as Record<string, unknown>).accessories);
    expect(data.wardrobe.purse).toBeUndefined();
    expect(data.season).toBeNull();
    expect(data.description).toBe('Now with notes');
    expect(data.ui_elements).toEqual(created.ui_elements);
    expect(data.created_at).toBe(created.created_at);
    expect(Date.parse(String(data.updated_at))).toBeGreaterThan(Date.parse(String(created.updated_at)));
  });

  it('PATCH validates the merged record and changes nothing when it fails', async () => {
    const created = await create({ title: 'Keep me', season: 2 });
    const reply = await fixture.service.request('PATCH', `/api/v1/episodes/${created.id}`, {
      body: { season: 'two', title: null },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors.map((e) => e.field).sort()).toEqual(['season', 'title']);
    const read = await fixture.service.request<Rec>('GET', `/api/v1/episodes/${created.id}`);
    expect(read.body.data).toEqual(created);
  });

  it('PUT replaces the whole record: fields left out are cleared or reset to defaults', async () => {
    const created = await create({ title: 'Before', status: 'published', description: 'old', tags: ['a'] });
    await sleep(5);
    const reply = await fixture.service.request<Rec>('PUT', `/api/v1/episodes/${created.id}`, {
      body: { title: 'After', season: 3 },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({
      id: created.id,
      title: 'After',
      season: 3,
      status: 'draft',
      description: null,
      tags: null,
    });
    expect(reply.body.data.created_at).toBe(created.created_at);
    expect(Date.parse(String(reply.body.data.updated_at))).toBeGreaterThan(Date.parse(String(created.updated_at)));
    const missing = await fixture.service.request('PUT', '/api/v1/episodes/ep_20250101_nothere', {
      body: { title: 'x' },
    });
    expect(missing.status).toBe(404);
    const invalid = await fixture.service.request('PUT', `/api/v1/episodes/${created.id}`, { body: { season: 1 } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0]?.field).toBe('title');
  });

  it('a PUT of what GET returned changes nothing but updated_at', async () => {
    const created = await create(appendixB('fully-evolved'));
    const reply = await fixture.service.request<Rec>('PUT', `/api/v1/episodes/${created.id}`, { body: created });
    expect(reply.status).toBe(200);
    // thumbnail_status is the thumbnail job's, which may start in between (queued → running): not the PUT's doing.
    const unchanged = (record: Rec) => ({ ...record, updated_at: null, thumbnail_status: null });
    expect(unchanged(reply.body.data)).toEqual(unchanged(created));
    expect((reply.body.data.thumbnail_status as { job_id?: string }).job_id).toBe(
      (created.thumbnail_status as { job_id?: string }).job_id,
    );
  });
});

describe('DELETE', () => {
  it('soft-deletes by default: hidden from reads and lists, kept in the table, visible with include_deleted', async () => {
    const created = await create({ title: 'Soft delete me', tags: ['soft-delete-test'] });
    const tooLong = await fixture.service.request(
      'DELETE',
      `/api/v1/episodes/${created.id}?reason=${'x'.repeat(2001)}`,
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0]).toMatchObject({
      field: 'reason',
      message: 'reason must be at most 2000 characters',
    });
    const reply = await fixture.service.request<Rec>('DELETE', `/api/v1/episodes/${created.id}?reason=duplicate`, {
      headers: { 'x-actor': 'editor@example.com' },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ id: created.id, deleted: true, hard: false });
    expect((await fixture.service.request('GET', `/api/v1/episodes/${created.id}`)).status).toBe(404);
    const list = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes?title=Soft%20delete%20me');
    expect(list.body.data).toEqual([]);
    expect(list.body.metadata.total).toBe(0);
    const withDeleted = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?title=Soft%20delete%20me&include_deleted=true',
    );
    expect(withDeleted.body.data.map((r) => r.id)).toEqual([created.id]);
    const rows = await fixture.db.query('SELECT deleted_by, deleted_reason, deleted_at FROM episodes WHERE id = $1', [
      created.id,
    ]);
    expect(rows[0]).toMatchObject({ deleted_by: 'editor@example.com', deleted_reason: 'duplicate' });
    expect(rows[0]?.deleted_at).not.toBeNull();
    expect((await fixture.service.request('DELETE', `/api/v1/episodes/${created.id}`)).status).toBe(404);
    expect(
      (await fixture.service.request('PATCH', `/api/v1/episodes/${created.id}`, { body: { title: 'x' } })).status,
    ).toBe(404);
  });

  it('removes the row with ?hard=true', async () => {
    const created = await create({ title: 'Hard delete me' });
    const reply = await fixture.service.request<Rec>('DELETE', `/api/v1/episodes/${created.id}?hard=true`);
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ id: created.id, deleted: true, hard: true });
    expect(await fixture.db.query('SELECT id FROM episodes WHERE id = $1', [created.id])).toEqual([]);
    expect((await fixture.service.request('DELETE', `/api/v1/episodes/${created.id}?hard=true`)).status).toBe(404);
    expect((await fixture.service.request('DELETE', `/api/v1/episodes/${created.id}?hard=maybe`)).status).toBe(400);
  });
});

describe('list', () => {
  let ids: string[];
  beforeAll(async () => {
    ids = [];
    for (let n = 1; n <= 5; n += 1) {
      const record = await create({
        title: `List ${n}`,
        season: 9,
        episode_number: n,
        status: n % 2 ? 'published' : 'draft',
        tags: ['list-test'],
      });
      ids.push(record.id);
      await sleep(3);
    }
  });

  it('filters by equality, counts all matches in metadata.total and pages with _limit/_offset', async () => {
    const page = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?season=9&status=published&_sort=episode_number&_limit=2',
    );
    expect(page.status).toBe(200);
    expect(page.body.data.map((r) => r.episode_number)).toEqual([1, 3]);
    expect(page.body.metadata).toMatchObject({ total: 3, limit: 2, offset: 0 });
    const next = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?season=9&status=published&_sort=episode_number&_limit=2&_offset=2',
    );
    expect(next.body.data.map((r) => r.episode_number)).toEqual([5]);
  });

  it('sorts descending with -field and by several fields', async () => {
    const reply = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes?season=9&_sort=-episode_number');
    expect(reply.body.data.map((r) => r.episode_number)).toEqual([5, 4, 3, 2, 1]);
    const multi = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes?season=9&_sort=status,-episode_number');
    expect(multi.body.data.map((r) => r.episode_number)).toEqual([4, 2, 5, 3, 1]);
    const updated = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes?season=9&_sort=-updated_at');
    expect(updated.body.data.map((r) => r.id)).toEqual([...ids].reverse());
  });

  it('filters timestamps by date range and numbers with operators', async () => {
    const all = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes?season=9&_sort=created_at');
    const third = all.body.data[2]!;
    const from = encodeURIComponent(String(third.created_at));
    const range = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/episodes?season=9&created_at[gte]=${from}&_sort=created_at`,
    );
    expect(range.body.data.map((r) => r.id)).toEqual(ids.slice(2));
    const before = await fixture.service.request<Rec[]>('GET', `/api/v1/episodes?season=9&created_at[lt]=${from}`);
    expect(before.body.metadata.total).toBe(2);
    const numbers = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?season=9&episode_number[gt]=1&episode_number[lte]=3&_sort=episode_number',
    );
    expect(numbers.body.data.map((r) => r.episode_number)).toEqual([2, 3]);
    const inList = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?season=9&episode_number[in]=1,5&_sort=episode_number',
    );
    expect(inList.body.data.map((r) => r.episode_number)).toEqual([1, 5]);
    const dayRange = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?season=9&created_at[gte]=2000-01-01&created_at[lt]=2999-01-01',
    );
    expect(dayRange.body.metadata.total).toBe(5);
  });

  it('defaults to 50 rows and caps _limit at 1000', async () => {
    const reply = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes');
    expect(reply.body.metadata.limit).toBe(50);
    expect((await fixture.service.request('GET', '/api/v1/episodes?_limit=1000')).status).toBe(200);
    const over = await fixture.service.request('GET', '/api/v1/episodes?_limit=1001');
    expect(over.status).toBe(400);
    expect(over.body.errors[0]).toMatchObject({ code: 'INVALID_QUERY', field: '_limit' });
  });

  it('answers 400 naming the valid choices for an unknown field, operator or bad value', async () => {
    const reply = await fixture.service.request(
      'GET',
      '/api/v1/episodes?colour=red&season[near]=2&episode_number=two&created_at[gte]=yesterday&_feilds=title',
    );
    expect(reply.status).toBe(400);
    const byField = Object.fromEntries(reply.body.errors.map((e) => [e.field, e.message]));
    expect(byField.colour).toMatch(/unknown field "colour"; fields: id, schema_version, title/);
    expect(byField['season[near]']).toMatch(/operators: eq, ne, gt/);
    expect(byField.episode_number).toMatch(/not an integer/);
    expect(byField['created_at[gte]']).toMatch(/not a date-time/);
    expect(byField._feilds).toMatch(/unknown parameter; control parameters: _fields, _sort/);
  });
});

describe('ops routes', () => {
  it('GET /health is liveness: the process answers with its registry version', async () => {
    const reply = await fetch(`${fixture.service.url}/health`);
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ status: 'ok', registry_version: REGISTRY_VERSION });
  });

  it('GET /openapi.json serves the generated document, and /docs renders it', async () => {
    const served = await (await fetch(`${fixture.service.url}/openapi.json`)).json();
    const generated = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'generated/openapi.json'), 'utf8'));
    expect(served).toEqual(generated);
    const docs = await fetch(`${fixture.service.url}/docs`);
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toContain("url: '/openapi.json'");
    const bundle = await fetch(`${fixture.service.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });
});

describe('null on optional fields', () => {
  it('accepts null for optional enums too (it means "no value"), on create and in a merge patch', async () => {
    const created = await create({
      title: 'No outfit type yet',
      status: 'published',
      wardrobe: { main_outfit: { outfit_type: null } },
    });
    expect(created.wardrobe).toEqual({ main_outfit: { outfit_type: null } });
    const patched = await fixture.service.request<Rec>('PATCH', `/api/v1/episodes/${created.id}`, {
      body: { status: null },
    });
    expect(patched.status, JSON.stringify(patched.body.errors)).toBe(200);
    // Removing a field that has a default resets it to the default, as PUT does.
    expect(patched.body.data.status).toBe('draft');
    const wrong = await fixture.service.request('PATCH', `/api/v1/episodes/${created.id}`, {
      body: { status: 'live' },
    });
    expect(wrong.status).toBe(422);
  });
});

describe('timestamps', () => {
  it('are ISO 8601 in UTC with milliseconds, whatever the database session time zone', async () => {
    const other = await createTestDatabase();
    await other.query(`ALTER DATABASE ${other.name} SET timezone = 'America/New_York'`);
    const local = await startTestService({ databaseUrl: other.url });
    try {
      const reply = await local.request<Rec>('POST', '/api/v1/episodes', {
        body: { title: 'Zones', released_at: '2025-06-01T12:00:00.5+02:00' },
      });
      expect(reply.body.data.released_at).toBe('2025-06-01T10:00:00.500Z');
      expect(reply.body.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const utc = await fixture.service.request<Rec>('POST', '/api/v1/episodes', {
        body: { title: 'Zones', released_at: '2025-06-01T12:00:00.5+02:00' },
      });
      expect(utc.body.data.released_at).toBe('2025-06-01T10:00:00.500Z');
    } finally {
      await local.stop();
      await other.drop();
    }
  });
});
