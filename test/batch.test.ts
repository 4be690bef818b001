// POST /{plural}/batch (FR-14) over real HTTP and PostgreSQL: a status per operation, and
// atomic=true as all or nothing.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import type { Rec } from './support/service.ts';

interface ItemResult {
  index: number;
  op: string | null;
  status: number;
  id: string | null;
  data?: Rec;
  errors?: { code: string; message: string; field: string | null }[];
}

const fixture = useServiceForFile();

const { create } = fixture;
const batch = (operations: unknown, query = '') =>
  fixture.service.request<ItemResult[]>('POST', `/api/v1/episodes/batch${query}`, { body: { operations } });
const titleOf = async (id: string) =>
  (await fixture.db.query<{ title: string }>('SELECT title FROM episodes WHERE id = $1', [id]))[0]?.title;

describe('batch', () => {
  it('answers every operation with its own status, applying the ones that succeed', async () => {
    const existing = await create({ title: 'Before', season: 1 });
    const doomed = await create({ title: 'To delete' });
    const reply = await batch([
      { op: 'create', data: { title: 'Made in a batch', status: 'in-production' } },
      { op: 'create', data: { status: 'done' } },
      { op: 'update', id: existing.id, data: { title: 'After', wardrobe: { shoes: { brand: 'Gucci' } } } },
      { op: 'update', id: 'ep_20250101_nosuchone0', data: { title: 'x' } },
      { op: 'delete', id: doomed.id, reason: 'duplicate' },
      { op: 'rename', id: existing.id },
      { op: 'replace', id: existing.id, data: { title: 'Replaced' } },
    ]);
    expect(reply.status).toBe(200);
    expect(reply.body.metadata).toMatchObject({ atomic: false, succeeded: 4, failed: 3 });
    const items = reply.body.data;
    expect(items.map((i) => [i.index, i.op, i.status])).toEqual([
      [0, 'create', 201],
      [1, 'create', 422],
      [2, 'update', 200],
      [3, 'update', 404],
      [4, 'delete', 200],
      [5, null, 400],
      [6, 'replace', 200],
    ]);
    expect(items[0]!.data).toMatchObject({ title: 'Made in a batch', status: 'in_production' });
    expect(items[1]!.errors).toEqual(
      expect.arrayContaining([
        { code: 'VALIDATION_ERROR', message: 'title is required', field: 'operations[1].title' },
        expect.objectContaining({ field: 'operations[1].status' }),
      ]),
    );
    expect(items[3]!.errors![0]).toMatchObject({ code: 'NOT_FOUND', field: 'operations[3]' });
    expect(items[5]!.errors![0]).toMatchObject({
      code: 'INVALID_OPERATION',
      message: 'op must be one of: create, update, replace, delete',
      field: 'operations[5].op',
    });
    expect(items[2]!.data).toMatchObject({ title: 'After', season: 1, wardrobe: { shoes: { brand: 'Gucci' } } });
    expect(items[6]!.data).toMatchObject({ title: 'Replaced', season: null, wardrobe: null });

    expect(await titleOf(items[0]!.id!)).toBe('Made in a batch');
    expect(await titleOf(existing.id)).toBe('Replaced');
    expect((await fixture.service.request('GET', `/api/v1/episodes/${doomed.id}`)).status).toBe(404);
    expect((await fixture.db.query('SELECT deleted_reason FROM episodes WHERE id = $1', [doomed.id]))[0]).toEqual({
      deleted_reason: 'duplicate',
    });
  });

  it('with atomic=true applies everything or nothing, answering with the failure', async () => {
    const show = await create({ title: 'Atomic Show', slug: 'atomic-show' }, 'shows');
    const kept = await create({ title: 'Untouched', show_id: show.id, season: 1, episode_number: 1 });
    const before = await fixture.db.query('SELECT id, title FROM episodes ORDER BY id');

    const failing = await batch(
      [
        { op: 'update', id: kept.id, data: { title: 'Changed inside the batch' } },
        { op: 'create', data: { title: 'New', show_id: show.id, season: 1, episode_number: 2 } },
        { op: 'create', data: { title: 'Clash', show_id: show.id, season: 1, episode_number: 1 } },
        { op: 'create', data: { title: 'Never reached' } },
      ],
      '?atomic=true',
    );
    expect(failing.status).toBe(409);
    expect(failing.body.data).toBeNull();
    expect(failing.body.errors).toEqual([
      {
        code: 'CONFLICT',
        message:
          'operation 2 failed, so none was applied: another episode already has the same show_id, season and episode_number',
        field: 'operations[2]',
      },
    ]);
    expect(await fixture.db.query('SELECT id, title FROM episodes ORDER BY id')).toEqual(before);

    const invalid = await batch(
      [
        { op: 'create', data: { title: 'Fine' } },
        { op: 'create', data: { title: 5 } },
      ],
      '?atomic=true',
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0]!.field).toBe('operations[1].title');
    expect(await fixture.db.query('SELECT id, title FROM episodes ORDER BY id')).toEqual(before);

    const passing = await batch(
      [
        { op: 'update', id: kept.id, data: { title: 'Changed atomically' } },
        { op: 'create', data: { title: 'Second', show_id: show.id, season: 1, episode_number: 2 } },
      ],
      '?atomic=true',
    );
    expect(passing.status).toBe(200);
    expect(passing.body.metadata).toMatchObject({ atomic: true, succeeded: 2, failed: 0 });
    expect(await titleOf(kept.id)).toBe('Changed atomically');
  });

  it('takes up to 1,000 operations and refuses malformed batches as a whole', async () => {
    const thousand = Array.from({ length: 1000 }, (_, i) => ({
      op: 'create',
      data: { title: `Bulk ${i}`, tags: ['bulk'] },
    }));
    const big = await batch(thousand);
    expect(big.status).toBe(200);
    expect(big.body.metadata).toMatchObject({ succeeded: 1000, failed: 0 });
    expect((await fixture.db.query(`SELECT count(*)::int AS n FROM episodes WHERE tags @> '["bulk"]'`))[0]).toEqual({
      n: 1000,
    });

    const tooMany = await batch([...thousand, { op: 'create', data: { title: 'one more' } }]);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]!.message).toMatch(/at most 1000 operations \(got 1001\)/);
    expect((await batch([])).status).toBe(400);
    expect((await fixture.service.request('POST', '/api/v1/episodes/batch', { body: [{ op: 'create' }] })).status).toBe(
      400,
    );
    expect(
      (await fixture.service.request('POST', '/api/v1/episodes/batch?atomic=maybe', { body: { operations: [] } }))
        .status,
    ).toBe(400);
    const get = await fixture.service.request('GET', '/api/v1/episodes/batch');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
