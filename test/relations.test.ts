// refs (many-to-many links with roles in generated junction tables), count fields, filters through
// ref and refs paths, and the sub-resources relations give: outfits of wardrobe items (seed 8.4),
// reuse tracking (times_worn), and what deleting a linked record does.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { shippedModel } from './support/fixtures.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
const get = <T = Rec[]>(path: string) => fixture.service.request<T>('GET', `/api/v1${path}`);
const ids = (records: Rec[]) => records.map((r) => r.id).sort();

describe('refs and counts', () => {
  it('store links in order with their roles, and refuse unknown targets, roles and repeats', async () => {
    const top = await fixture.create(
      { item_type: 'top', brand: 'Equipment', style: 'silk blouse', color: 'champagne' },
      'wardrobe-items',
    );
    const shoes = await fixture.create(
      { item_type: 'shoes', brand: 'Christian Louboutin', style: 'pumps' },
      'wardrobe-items',
    );
    const outfit = await fixture.create(
      {
        name: 'Champagne separates',
        items: [
          { id: shoes.id, role: 'shoes' },
          { id: top.id, role: 'top' },
        ],
      },
      'outfits',
    );
    expect(outfit.items).toEqual([
      { id: shoes.id, role: 'shoes' },
      { id: top.id, role: 'top' },
    ]);
    expect((await get<Rec>(`/outfits/${outfit.id}`)).body.data.items).toEqual(outfit.items);

    // The links live in a junction table, one row per link.
    const rows = await fixture.db.query(
      'SELECT target_id, role, position FROM outfits_items WHERE owner_id = $1 ORDER BY position',
      [outfit.id],
    );
    expect(rows).toEqual([
      { target_id: shoes.id, role: 'shoes', position: 0 },
      { target_id: top.id, role: 'top', position: 1 },
    ]);

    const dangling = await fixture.service.request('POST', '/api/v1/outfits', {
      body: { items: [{ id: 'wi_20250101_missing000', role: 'top' }] },
    });
    expect(dangling.status).toBe(409);
    expect(dangling.body.errors[0]).toMatchObject({
      field: 'items',
      message: 'items refers to a wardrobe_item that does not exist (wi_20250101_missing000)',
    });
    const badRole = await fixture.service.request('POST', '/api/v1/outfits', {
      body: { items: [{ id: top.id, role: 'hat' }] },
    });
    expect(badRole.status).toBe(422);
    expect(badRole.body.errors[0]!.field).toBe('items[0].role');
    const twice = await fixture.service.request('POST', '/api/v1/outfits', {
      body: {
        items: [
          { id: top.id, role: 'top' },
          { id: top.id, role: 'top' },
        ],
      },
    });
    expect(twice.status).toBe(422);

    // PATCH replaces the list; an empty list unlinks everything.
    const patched = await fixture.service.request<Rec>('PATCH', `/api/v1/outfits/${outfit.id}`, {
      body: { items: [{ id: top.id, role: 'top' }] },
    });
    expect(patched.body.data.items).toEqual([{ id: top.id, role: 'top' }]);
    const emptied = await fixture.service.request<Rec>('PATCH', `/api/v1/outfits/${outfit.id}`, {
      body: { items: [] },
    });
    expect(emptied.body.data.items).toEqual([]);
  });

  it('count reuse, filter and sort on it, and list the episodes through one and two relations', async () => {
    const skirt = await fixture.create(
      { item_type: 'bottom', brand: 'Theory', style: 'pleated skirt' },
      'wardrobe-items',
    );
    const heels = await fixture.create(
      { item_type: 'shoes', brand: 'Manolo Blahnik', style: 'mules' },
      'wardrobe-items',
    );
    const worn = await fixture.create(
      {
        name: 'Reused look',
        items: [
          { id: skirt.id, role: 'bottom' },
          { id: heels.id, role: 'shoes' },
        ],
      },
      'outfits',
    );
    const once = await fixture.create({ name: 'Worn once', items: [{ id: heels.id, role: 'shoes' }] }, 'outfits');
    const first = await fixture.create({
      title: 'First wear',
      status: 'published',
      outfits: [{ id: worn.id, role: 'Lala' }],
    });
    const second = await fixture.create({
      title: 'Second wear',
      outfits: [
        { id: worn.id, role: 'Lala' },
        { id: once.id, role: 'JustAWomanInHerPrime' },
      ],
    });
    await fixture
      .create({ title: 'Deleted wear', outfits: [{ id: worn.id, role: 'Guest - Gone' }] })
      .then((e) => fixture.service.request('DELETE', `/api/v1/episodes/${e.id}`));

    // Only live episodes count.
    expect((await get<Rec>(`/outfits/${worn.id}`)).body.data.times_worn).toBe(2);
    expect((await get<Rec>(`/wardrobe-items/${heels.id}`)).body.data.times_worn).toBe(2);
    const reused = await get('/outfits?times_worn[gte]=2&_fields=name,times_worn');
    expect(reused.body.data).toEqual([{ id: worn.id, name: 'Reused look', times_worn: 2 }]);
    const sorted = await get(`/outfits?id[in]=${worn.id},${once.id}&_sort=-times_worn`);
    expect(sorted.body.data.map((o) => o.id)).toEqual([worn.id, once.id]);

    // Who wore them: the roles of the live episodes' links, each once.
    expect((await get<Rec>(`/outfits/${worn.id}`)).body.data.worn_by).toEqual(['Lala']);
    expect((await get<Rec>(`/outfits/${once.id}?_fields=worn_by`)).body.data).toEqual({
      id: once.id,
      worn_by: ['JustAWomanInHerPrime'],
    });
    const mine = `id[in]=${worn.id},${once.id}&_fields=worn_by`;
    expect((await get(`/outfits?${mine}&worn_by=Lala`)).body.data).toEqual([{ id: worn.id, worn_by: ['Lala'] }]);
    expect(ids((await get(`/outfits?${mine}&worn_by[in]=JustAWomanInHerPrime,Lala`)).body.data)).toEqual(
      ids([worn, once]),
    );
    expect(ids((await get(`/outfits?${mine}&worn_by[ne]=Lala`)).body.data)).toEqual([once.id]);
    expect((await get(`/outfits?${mine}&worn_by=Guest+-+Gone`)).body.data).toEqual([]);
    expect((await get('/outfits?_sort=worn_by')).status).toBe(400);

    expect(ids((await get(`/outfits/${worn.id}/episodes`)).body.data)).toEqual(ids([first, second]));
    expect((await get(`/outfits/${once.id}/episodes?_fields=title`)).body.data).toEqual([
      { id: second.id, title: 'Second wear' },
    ]);
    // Two hops: episodes → outfits → items, with the list language on top.
    expect(ids((await get(`/wardrobe-items/${heels.id}/episodes`)).body.data)).toEqual(ids([first, second]));
    expect((await get(`/wardrobe-items/${heels.id}/episodes?status=published`)).body.data.map((e) => e.id)).toEqual([
      first.id,
    ]);
    expect(ids((await get(`/wardrobe-items/${skirt.id}/outfits`)).body.data)).toEqual([worn.id]);
  });

  it('filter through ref and refs paths, and refuse sorting or projecting through them', async () => {
    const show = await fixture.create({ title: 'Styling Adventures with Lala' }, 'shows');
    const bag = await fixture.create({ item_type: 'purse', brand: 'Saint Laurent', color: 'cognac' }, 'wardrobe-items');
    const look = await fixture.create({ items: [{ id: bag.id, role: 'purse' }] }, 'outfits');
    const tagged = await fixture.create({
      title: 'Path test',
      show_id: show.id,
      outfits: [{ id: look.id, role: 'Lala' }],
    });
    const other = await fixture.create({ title: 'Path test, no outfit', show_id: show.id });

    expect(
      (await get('/episodes?outfits.items.brand=Saint%20Laurent&_fields=title')).body.data.map((e) => e.id),
    ).toEqual([tagged.id]);
    expect((await get(`/episodes?outfits=${look.id}`)).body.data.map((e) => e.id)).toEqual([tagged.id]);
    const filter = encodeURIComponent(JSON.stringify({ outfits: { items: { color: { _eq: 'cognac' } } } }));
    expect((await get(`/episodes?filter=${filter}`)).body.data.map((e) => e.id)).toEqual([tagged.id]);
    const showTitle = encodeURIComponent('Styling Adventures with Lala');
    expect(ids((await get(`/episodes?show_id.title=${showTitle}`)).body.data)).toEqual(ids([tagged, other]));
    expect((await get(`/episodes?show_id.title=${showTitle}&outfits[null]=true`)).body.data.map((e) => e.id)).toEqual([
      other.id,
    ]);

    // A soft-deleted related record no longer matches.
    await fixture.service.request('PATCH', `/api/v1/episodes/${tagged.id}`, { body: { outfits: [] } });
    await fixture.service.request('DELETE', `/api/v1/outfits/${look.id}`);
    await fixture.service.request('PATCH', `/api/v1/episodes/${tagged.id}`, {
      body: { outfits: [{ id: look.id, role: 'Lala' }] },
    });
    expect((await get('/episodes?outfits.items.brand=Saint%20Laurent')).body.data).toEqual([]);

    const sort = await get('/episodes?_sort=show_id.title');
    expect(sort.status).toBe(400);
    expect(sort.body.errors[0]!.message).toContain('it is a field of related records');
    expect((await get('/episodes?_fields=outfits.items')).status).toBe(400);
    expect((await get('/episodes?outfits.items.nope=1')).body.errors[0]!.message).toContain(
      'outfits: items: unknown field "nope"',
    );
    expect((await get('/episodes?outfits.items.brand.x=1')).status).toBe(400);
  });

  it('refuse deleting a linked record, and let it go once unlinked', async () => {
    const belt = await fixture.create({ item_type: 'belt', brand: 'Hermès' }, 'wardrobe-items');
    const look = await fixture.create({ items: [{ id: belt.id, role: 'belt' }] }, 'outfits');
    const refused = await fixture.service.request('DELETE', `/api/v1/wardrobe-items/${belt.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0]!.message).toBe(
      `wardrobe_item ${belt.id} is still linked from 1 outfits (items); unlink it first`,
    );
    const hard = await fixture.service.request('DELETE', `/api/v1/wardrobe-items/${belt.id}?hard=true`);
    expect(hard.status).toBe(409);

    // Deleting the owner drops its links with it (hard) or keeps them for a restore (soft).
    expect((await fixture.service.request('DELETE', `/api/v1/outfits/${look.id}?hard=true`)).status).toBe(200);
    expect(await fixture.db.query('SELECT 1 FROM outfits_items WHERE owner_id = $1', [look.id])).toEqual([]);
    expect((await fixture.service.request('DELETE', `/api/v1/wardrobe-items/${belt.id}`)).status).toBe(200);
  });
});

describe('routes under a record', () => {
  it('answer 404 NOT_FOUND under a parent that never existed or is deleted: every GET /{plural}/{id}/…', async () => {
    const model = shippedModel();
    const document = (await fixture.service.request<unknown>('GET', '/openapi.json')).body as unknown as {
      paths: Record<string, Record<string, unknown>>;
    };
    // A record's history stays readable after it is gone (audit.test.ts), so it is not among them.
    const routes = Object.entries(document.paths)
      .filter(([, operations]) => Object.hasOwn(operations, 'get'))
      .map(([p]) => /^\/api\/v1\/([a-z-]+)\/\{id\}\/([^{}]+)$/.exec(p))
      .filter((m): m is RegExpExecArray => m !== null && m[2] !== 'history')
      .map(([path, plural, rest]) => ({ path: path!, plural: plural!, rest: rest! }));
    expect(routes.length).toBeGreaterThan(5);
    const show = await fixture.create({ title: 'Gone show', slug: 'gone-show' }, 'shows');
    const episode = await fixture.create({ title: 'Gone episode', show_id: show.id });
    for (const [plural, record] of [
      ['episodes', episode],
      ['shows', show],
    ] as const)
      expect((await fixture.service.request('DELETE', `/api/v1/${plural}/${record.id}`)).status).toBe(200);
    const deleted = new Map([
      ['episodes', episode.id as string],
      ['shows', show.id as string],
    ]);
    const answers: string[] = [];
    for (const { path, plural, rest } of routes) {
      // The registry's entities (uploads/{id}/parts belongs to the upload flow, tested in uploads.test.ts).
      const entity = model.entities.find((e) => e.plural === plural.replace(/-/g, '_') || e.plural === plural);
      if (!entity) continue;
      const ids = [`${entity.idPrefix}_20250101_nosuchrec0`, ...(deleted.has(plural) ? [deleted.get(plural)!] : [])];
      for (const id of ids) {
        const reply = await get<unknown>(`/${plural}/${id}/${rest}${rest.includes('next-') ? '?season=1' : ''}`);
        answers.push(`${path} ${id}: ${reply.status} ${reply.body.errors[0]?.code ?? ''}`);
      }
    }
    expect(answers.filter((a) => !a.endsWith(': 404 NOT_FOUND'))).toEqual([]);
  });
});
