// Records built as JSON text by PostgreSQL (src/db/record-json.ts) against the row → record path
// they replace on the hot reads: for every entity of the shipped registry, every stored record
// must come out as the same text (keys in the same order, the same values, timestamps in the
// same form), by id, in a list page, in a `_fields` projection, deleted or not — and over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type DatabasePool } from 'slonik';
import { createDatabasePool } from '../src/db/pool.ts';
import { RecordStore } from '../src/db/records.ts';
import { parseListQuery } from '../src/query/list-query.ts';
import type { Model } from '../src/registry/model.ts';
import { appendixB, appendixC, shippedModel } from './support/fixtures.ts';
import { useServiceForFile } from './support/file-service.ts';
import { putMediaOf } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
let model: Model;
let pool: DatabasePool;

/** Text with everything JSON escapes, and characters that it does not. */
const AWKWARD = 'Quote " backslash \\ newline \n tab \t bell \u0007 nul-free é ü 😀 \u2028 </script>';

const post = async (plural: string, body: Record<string, unknown>): Promise<Rec> => {
  await putMediaOf(body);
  const reply = await fixture.service.request<Rec>('POST', `/api/v1/${plural}`, { body });
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
  return reply.body.data;
};

beforeAll(async () => {
  model = shippedModel();
  pool = await createDatabasePool(fixture.db.url, 2);
  const show = await post('shows', { title: AWKWARD });
  const episodes = [];
  for (const [index, name] of ['minimal', 'with-production-assets', 'fully-evolved'].entries())
    episodes.push(
      await post('episodes', { ...appendixB(name), show_id: show.id, season: 1, episode_number: index + 1 }),
    );
  episodes.push(
    await post('episodes', {
      title: AWKWARD,
      description: AWKWARD,
      tags: [AWKWARD, 'ok'],
      duration_seconds: 2 ** 40,
      season: 3,
      released_at: '2025-01-05T10:00:00.1Z',
      show_id: show.id,
    }),
  );
  const episode = episodes[2]!;
  const guest = await post('guests', { name: AWKWARD });
  await post('clips', { ...appendixC('clip-lala'), episode_id: episode.id });
  await post('clips', { ...appendixC('clip-guest'), episode_id: episode.id, guest_id: guest.id });
  await post('components', { ...appendixC('component-audio'), episode_id: episode.id });
  await post('components', { ...appendixC('component-voiceover-sync'), episode_id: episode.id });
  const script = await fixture.service.request('PUT', `/api/v1/episodes/${episode.id}/script`, {
    body: { file_reference: 's3://bucket/scripts/v3.pdf' },
  });
  expect(script.status, JSON.stringify(script.body)).toBeLessThan(300);
  const deleted = await fixture.service.request('DELETE', `/api/v1/episodes/${episodes[0]!.id}`);
  expect(deleted.status).toBeLessThan(300);
}, 60_000);

afterAll(async () => {
  await pool?.end();
});

const idsOf = async (table: string) =>
  (await pool.anyFirst(sql.unsafe`SELECT id FROM ${sql.identifier([table])} ORDER BY id`)) as readonly string[];

/** The text the row → record path gives: what JSON.stringify writes of the record. */
const asText = (value: unknown) => JSON.stringify(value);
/** The PostgreSQL-built text, re-serialized (its JSONB values have a space after `:` and `,`). */
const normalized = (json: string) => JSON.stringify(JSON.parse(json));

describe('records built as JSON by PostgreSQL', () => {
  it('has a stored record of every entity to compare (this file writes one of each)', async () => {
    const empty = [];
    for (const entity of model.entities) if ((await idsOf(entity.table)).length === 0) empty.push(entity.name);
    expect(empty).toEqual([]);
  });

  it('equal the row → record path for every record of every entity, by id, deleted ones included', async () => {
    let compared = 0;
    for (const entity of model.entities) {
      const store = new RecordStore(pool, entity, model.entities);
      for (const id of await idsOf(entity.table)) {
        const record = await store.get(id, { includeDeleted: true });
        const found = await store.getJson(id, { includeDeleted: true });
        expect(found && 'json' in found, `${entity.name} ${id}`).toBe(true);
        if (!found || !('json' in found)) continue;
        expect(normalized(found.json), `${entity.name} ${id}`).toBe(asText(record));
        expect(found.version).toBe(store.versionOf(record!));
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(model.entities.length);
  });

  it('leave a deleted record out unless asked for, as get does', async () => {
    const entity = model.entities.find((e) => e.name === 'episode')!;
    const store = new RecordStore(pool, entity, model.entities);
    const [deleted] = (await pool.anyFirst(
      sql.unsafe`SELECT id FROM episodes WHERE deleted_at IS NOT NULL`,
    )) as readonly string[];
    expect(deleted).toBeDefined();
    expect(await store.get(deleted!)).toBeNull();
    expect(await store.getJson(deleted!)).toBeNull();
    expect(await store.getJson('ep_20250101_missing000')).toBeNull();
  });

  it('equal the row → record path on list pages: whole records, sorted, and `_fields` projections of whole fields', async () => {
    for (const entity of model.entities) {
      const store = new RecordStore(pool, entity, model.entities);
      const topLevel = entity.fields.map((f) => f.name);
      const queries = [
        '',
        '_sort=-id&_limit=2',
        `_fields=${topLevel.slice(-3).join(',')},id`,
        `_fields=${topLevel.slice(0, 2).reverse().join(',')}&_limit=1`,
      ];
      for (const text of queries) {
        const query = parseListQuery(entity, new URLSearchParams(text), model.entities);
        const page = await store.list(query);
        const built = await store.listJson(query);
        expect(built, `${entity.name} ?${text}`).not.toBeNull();
        expect(`[${built!.json.join(',')}]`.length).toBeGreaterThan(1);
        expect(built!.json.map(normalized), `${entity.name} ?${text}`).toEqual(page.records.map(asText));
        expect(built!.next).toEqual(page.next);
        expect(built!.total).toEqual(page.total);
      }
    }
  });

  it('leave a projection into a field to Node (null), which projects it', async () => {
    const entity = model.entities.find((e) => e.name === 'episode')!;
    const store = new RecordStore(pool, entity, model.entities);
    const query = parseListQuery(entity, new URLSearchParams('_fields=wardrobe.shoes.brand'), model.entities);
    expect(await store.listJson(query)).toBeNull();
  });

  it('answer over HTTP as they did: the envelope, the ETag, and exports line by line', async () => {
    const answered: string[] = [];
    for (const entity of model.entities) {
      const [id] = await idsOf(entity.table);
      const store = new RecordStore(pool, entity, model.entities);
      const record = await store.get(id!, { includeDeleted: true });
      const deleted = store.supportsSoftDelete ? '?include_deleted=true' : '';
      const reply = await fixture.service.request<Rec>('GET', `/api/v1/${entity.route}/${id}${deleted}`);
      expect(reply.status, `${entity.plural}/${id}`).toBe(200);
      expect(asText(reply.body.data)).toBe(asText(record));
      expect(reply.headers.get('etag')).toBe(`"${store.versionOf(record!)}"`);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(reply.body)).toEqual(['data', 'metadata', 'errors']);
      expect(reply.body.metadata).toMatchObject({ schema_version: entity.schemaVersion });
      answered.push(entity.name);
    }
    expect(answered).toEqual(model.entities.map((e) => e.name));
    const exported = await fetch(`${fixture.service.url}/api/v1/episodes/export`);
    const lines = (await exported.text()).trim().split('\n');
    const listed = await new RecordStore(pool, model.entities.find((e) => e.name === 'episode')!, model.entities).list(
      parseListQuery(model.entities.find((e) => e.name === 'episode')!, new URLSearchParams(''), model.entities),
    );
    expect(lines.map(normalized)).toEqual(listed.records.map(asText));
  });
});
