// Field types and options declared in YAML behave at run time without code changes: a show gets
// new fields through a registry change, then one of them is deprecated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';

const SHOW = 'registry/entities/show.yaml';
const NEW_FIELDS = `
  rating: { type: number, minimum: 0, maximum: 5 }
  is_public: { type: boolean, default: true }
  season_count: { type: integer, maximum: 50 }
  website: { type: url }
  premiered_at: { type: datetime }
  keywords: { type: array, max_items: 3, items: { type: string } }
  legacy_code: { type: string, max_length: 20 }
`;

let copy: ProjectCopy;
let db: TestDatabase;
let service: TestService | undefined;

async function regenerateAndStart(): Promise<TestService> {
  const codegen = await runCli(['codegen'], copy.env);
  expect(codegen.code, codegen.stderr).toBe(0);
  await service?.stop();
  service = await startTestService({
    databaseUrl: db.url,
    ...copy.dirs,
  });
  return service;
}

beforeAll(async () => {
  copy = copyProject();
  db = await createTestDatabase();
  copy.edit(SHOW, (t) => `${t.trimEnd()}\n${NEW_FIELDS}`);
  await regenerateAndStart();
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
  copy?.remove();
});

describe('declared options at run time', () => {
  it('stores and returns numbers, booleans with defaults, URLs, date-times and arrays', async () => {
    const created = await service!.request<Rec>('POST', '/api/v1/shows', {
      body: {
        title: 'Options',
        rating: 4.5,
        season_count: 3,
        website: 'https://example.com/show',
        premiered_at: '2026-01-15T18:30:00+01:00',
        keywords: ['style'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      rating: 4.5,
      is_public: true,
      season_count: 3,
      website: 'https://example.com/show',
      premiered_at: '2026-01-15T17:30:00.000Z',
      keywords: ['style'],
    });
    const filtered = await service!.request<Rec[]>(
      'GET',
      '/api/v1/shows?is_public=true&rating[gte]=4&premiered_at[lt]=2026-02-01',
    );
    expect(filtered.body.data.map((r) => r.id)).toEqual([created.body.data.id]);
  });

  it('enforces maximum, minimum, max_items and the types', async () => {
    const reply = await service!.request('POST', '/api/v1/shows', {
      body: {
        title: 'Bad',
        rating: 5.5,
        season_count: 51,
        is_public: 'yes',
        website: 'example.com',
        premiered_at: '2026-01-15',
        keywords: ['a', 'b', 'c', 'd'],
      },
    });
    expect(reply.status).toBe(422);
    const messages = Object.fromEntries(reply.body.errors.map((e) => [e.field, e.message]));
    expect(messages).toEqual({
      rating: 'rating must be at most 5',
      season_count: 'season_count must be at most 50',
      is_public: 'is_public must be true or false',
      website: 'website must be an http or https URL',
      premiered_at: 'premiered_at must be a date-time in ISO 8601, e.g. 2025-12-31T10:00:00Z',
      keywords: 'keywords must have at most 3 items',
    });
  });
});

describe('deprecated fields', () => {
  it('stay readable but can no longer be written', async () => {
    const created = (
      await service!.request<Rec>('POST', '/api/v1/shows', { body: { title: 'Legacy', legacy_code: 'LG-1' } })
    ).body.data;

    copy.edit(SHOW, (t) =>
      t.replace(
        'legacy_code: { type: string, max_length: 20 }',
        'legacy_code: { type: string, max_length: 20, deprecated: true }',
      ),
    );
    const check = await runCli(['codegen', '--check'], copy.env);
    expect(check.stderr).not.toMatch(/would write/); // deprecating changes no table
    await regenerateAndStart();

    const read = await service!.request<Rec>('GET', `/api/v1/shows/${created.id}`);
    expect(read.body.data.legacy_code).toBe('LG-1');
    const write = await service!.request('PATCH', `/api/v1/shows/${created.id}`, { body: { legacy_code: 'LG-2' } });
    expect(write.status).toBe(422);
    expect(write.body.errors[0]).toMatchObject({
      code: 'FIELD_DEPRECATED',
      field: 'legacy_code',
      message: 'legacy_code is deprecated: it can be read but no longer written',
    });
    const other = await service!.request<Rec>('PATCH', `/api/v1/shows/${created.id}`, { body: { rating: 3 } });
    expect(other.status).toBe(200);
    expect(other.body.data).toMatchObject({ rating: 3, legacy_code: 'LG-1' });
    const replaced = await service!.request<Rec>('PUT', `/api/v1/shows/${created.id}`, {
      body: { title: 'Legacy, replaced' },
    });
    expect(replaced.body.data).toMatchObject({ title: 'Legacy, replaced', legacy_code: 'LG-1', rating: null });
    const fresh = await service!.request('POST', '/api/v1/shows', { body: { title: 'New', legacy_code: 'LG-3' } });
    expect(fresh.status).toBe(422);
  });
});

describe('fields made read-only', () => {
  it('keep their stored value, and a write that sets one a release had writable says it was not stored', async () => {
    const created = (await service!.request<Rec>('POST', '/api/v1/shows', { body: { title: 'Kept', season_count: 4 } }))
      .body.data;
    // Release the new fields as writable, then make one read-only: a major change.
    const setVersion = (version: string) =>
      copy.edit('registry/registry.yaml', (t) => t.replace(/registry_version: \S+/, `registry_version: ${version}`));
    setVersion('2.9.0');
    const release = await runCli(['registry', 'release'], copy.env);
    expect(release.code, release.stderr).toBe(0);
    copy.edit(SHOW, (t) =>
      t.replace(
        'season_count: { type: integer, maximum: 50 }',
        'season_count: { type: integer, maximum: 50, read_only: true }',
      ),
    );
    const minor = await runCli(['registry', 'check'], copy.env);
    expect(minor.code).toBe(1);
    expect(minor.stdout + minor.stderr).toMatch(/MADE_READ_ONLY: breaking/);
    setVersion('3.0.0');
    const major = await runCli(['registry', 'check'], copy.env);
    expect(major.code, major.stdout + major.stderr).toBe(0);
    await regenerateAndStart();

    const path = `/api/v1/shows/${created.id}`;
    const ignored = {
      code: 'READ_ONLY_IGNORED',
      fields: ['season_count'],
      message: 'season_count is set by the server: the value sent was not stored',
    };
    const patched = await service!.request<Rec>('PATCH', path, { body: { season_count: 5, rating: 4 } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ season_count: 4, rating: 4 });
    expect(patched.body.metadata.warnings).toEqual([expect.objectContaining(ignored)]);
    const replaced = await service!.request<Rec>('PUT', path, { body: { title: 'Kept', season_count: 6 } });
    expect(replaced.body.metadata.warnings).toEqual([expect.objectContaining(ignored)]);

    // A GET body sent back after another write (stale updated_at, never writable) warns of nothing.
    const stale = (await service!.request<Rec>('GET', path)).body.data;
    expect((await service!.request('PATCH', path, { body: { rating: 5 } })).status).toBe(200);
    const same = await service!.request<Rec>('PUT', path, { body: { ...stale, title: 'Kept again' } });
    expect(same.status).toBe(200);
    expect(same.body.data).toMatchObject({ title: 'Kept again', season_count: 4 });
    expect(same.body.metadata).not.toHaveProperty('warnings');

    const fresh = await service!.request<Rec>('POST', '/api/v1/shows', {
      body: { title: 'New', season_count: 2, created_at: '2020-01-01T00:00:00Z' },
    });
    expect(fresh.status).toBe(201);
    expect(fresh.body.data.season_count).toBeNull();
    expect(fresh.body.metadata.warnings).toEqual([expect.objectContaining(ignored)]);
  });
});

describe('GET /health and /ready', () => {
  it('/ready answers 503 when the database is gone, while /health (liveness) stays 200', async () => {
    expect((await service!.request('GET', '/ready')).status).toBe(200);
    await db.drop();
    const reply = await fetch(`${service!.url}/ready`);
    expect(reply.status).toBe(503);
    expect(await reply.json()).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    expect((await fetch(`${service!.url}/health`)).status).toBe(200);
  });
});
