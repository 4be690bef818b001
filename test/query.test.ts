// The query language over real HTTP and a real PostgreSQL: filters on columns and dot paths,
// every operator, the Directus-style JSON filter, projection, sorting, keyset cursors, counts,
// full text, the Appendix D use cases, and bad or hostile input.
import { beforeAll, describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import type { Reply } from './support/service.ts';
import { MIGRATED_TABLES } from './support/project-facts.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
const ids: Record<string, string> = {};

const EPISODES: Record<string, Record<string, unknown>> = {
  champagne: {
    title: 'New Year Style Reset',
    description: 'Lala plans a capsule wardrobe for the new year with silk blouses and champagne tones.',
    status: 'published',
    season: 1,
    episode_number: 1,
    duration_seconds: 1800,
    release_date: '2025-01-05',
    tags: ['fashion', 'new year', 'wardrobe planning'],
    wardrobe: {
      main_outfit: {
        outfit_type: 'separates',
        top: { style: 'silk blouse', color: 'champagne', brand: 'Reformation' },
      },
      shoes: { style: 'pumps', color: 'nude', brand: 'Christian Louboutin' },
    },
    backgrounds: {
      main_closet: 's3://bucket/backgrounds/closet_main_v3.jpg',
      additional: [
        { name: 'Rooftop', file: 's3://bucket/backgrounds/rooftop.jpg', location: 'New York' },
        { name: 'Cafe', file: 's3://bucket/backgrounds/cafe.jpg', location: 'Paris' },
      ],
    },
  },
  gala: {
    title: 'Gala Night',
    description: 'Getting ready for a charity gala: a black dress and a champagne clutch.',
    status: 'published',
    season: 1,
    episode_number: 2,
    duration_seconds: 2400,
    release_date: '2025-02-10',
    tags: ['fashion', 'evening'],
    wardrobe: {
      main_outfit: { outfit_type: 'dress', dress: { color: 'black', brand: 'Valentino' } },
      shoes: { brand: 'Gucci', color: 'black' },
    },
    backgrounds: {
      main_closet: 's3://bucket/backgrounds/closet_main_v3.jpg',
      additional: [{ name: 'Ballroom', file: 's3://bucket/backgrounds/ballroom.jpg' }],
    },
  },
  draft: {
    title: 'Spring Capsule',
    description: 'A draft about spring capsule wardrobes.',
    status: 'in-production',
    season: 2,
    episode_number: 1,
    duration_seconds: 900,
    tags: ['capsule'],
    wardrobe: { main_outfit: { top: { color: 'Champagne' } }, shoes: { brand: 'Christian Louboutin', color: 'red' } },
  },
  bare: { title: 'Untitled Idea', status: 'draft' },
};

const get = (path: string) => fixture.service.request<Rec[]>('GET', path);
const idsOf = (reply: Reply<Rec[]>) => {
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
  return reply.body.data.map((r) => r.id).sort();
};
const named = (...names: string[]) => names.map((n) => ids[n]!).sort();
const messages = (reply: Reply<unknown>) => reply.body.errors.map((e) => e.message).join('\n');

beforeAll(async () => {
  for (const [name, body] of Object.entries(EPISODES)) {
    ids[name] = (await fixture.create(body)).id;
  }
});

describe('Appendix D use cases', () => {
  it('1: published episodes where a champagne top was worn', async () => {
    const reply = await get('/api/v1/episodes/search?wardrobe.main_outfit.top.color=champagne&status=published');
    expect(idsOf(reply)).toEqual(named('champagne'));
    expect(reply.body.metadata).toMatchObject({ total: 1, total_is_estimate: false });
  });

  it('4: the backgrounds of published episodes, and nothing else but the id', async () => {
    const reply = await get('/api/v1/episodes?status=published&_fields=backgrounds');
    expect(idsOf(reply)).toEqual(named('champagne', 'gala'));
    for (const record of reply.body.data) expect(Object.keys(record).sort()).toEqual(['backgrounds', 'id']);
    expect(reply.body.data.find((r) => r.id === ids.champagne)!.backgrounds).toEqual(EPISODES.champagne!.backgrounds);
  });

  it('6: Christian Louboutin shoes, with the space written as %20, + or a literal space', async () => {
    for (const brand of ['Christian%20Louboutin', 'Christian+Louboutin']) {
      const reply = await get(`/api/v1/episodes/search?wardrobe.shoes.brand=${brand}`);
      expect(idsOf(reply)).toEqual(named('champagne', 'draft'));
      expect(reply.body.data[0]!.wardrobe).toMatchObject({ shoes: { brand: 'Christian Louboutin' } });
    }
  });
});

describe('operators', () => {
  const cases: [string, string[]][] = [
    ['status=published', ['champagne', 'gala']],
    ['status=in-production', ['draft']],
    ['status[ne]=published', ['draft', 'bare']],
    ['season[ne]=1', ['draft', 'bare']],
    ['season[gt]=1', ['draft']],
    ['season[gte]=1', ['champagne', 'gala', 'draft']],
    ['duration_seconds[lt]=1800', ['draft']],
    ['duration_seconds[lte]=1800', ['champagne', 'draft']],
    ['duration_seconds[between]=1000,2000', ['champagne']],
    ['release_date[between]=2025-01-01,2025-01-31', ['champagne']],
    ['release_date[gt]=2025-01-05', ['gala']],
    ['status[in]=draft,in-production', ['draft', 'bare']],
    ['status[nin]=draft,published', ['draft']],
    ['title[contains]=Capsule', ['draft']],
    ['title[contains]=capsule', []],
    ['title[icontains]=CAPSULE', ['draft']],
    ['title[startswith]=Gala', ['gala']],
    ['title[endswith]=Reset', ['champagne']],
    ['description[icontains]=champagne', ['champagne', 'gala']],
    ['wardrobe.main_outfit.top.color=champagne', ['champagne']],
    ['wardrobe.main_outfit.top.color[icontains]=champagne', ['champagne', 'draft']],
    ['wardrobe.main_outfit.top.color[ne]=champagne', ['gala', 'draft', 'bare']],
    ['wardrobe.shoes.brand[in]=Gucci,Valentino', ['gala']],
    ['wardrobe.shoes.color[nin]=black,red', ['champagne', 'bare']],
    ['wardrobe.main_outfit.dress[exists]=true', ['gala']],
    ['wardrobe.main_outfit.dress[null]=true', ['champagne', 'draft', 'bare']],
    ['wardrobe[null]=true', ['bare']],
    ['wardrobe.shoes.brand[exists]=false', ['bare']],
    ['release_date[null]=true', ['draft', 'bare']],
    ['tags=fashion', ['champagne', 'gala']],
    ['tags[contains]=fashion,evening', ['gala']],
    ['tags[in]=evening,capsule', ['gala', 'draft']],
    ['tags[nin]=fashion', ['draft', 'bare']],
    ['tags[exists]=true', ['champagne', 'gala', 'draft']],
    ['backgrounds.additional.location=Paris', ['champagne']],
    ['backgrounds.additional.name[startswith]=Ball', ['gala']],
    ['backgrounds.additional.location[ne]=Paris', ['gala', 'draft', 'bare']],
    ['backgrounds.additional.location[exists]=true', ['champagne']],
    ['backgrounds.main_closet=s3://bucket/backgrounds/closet_main_v3.jpg', ['champagne', 'gala']],
    ['status=published&season=1&tags=evening', ['gala']],
  ];
  it.each(cases)('%s', async (query, expected) => {
    expect(idsOf(await get(`/api/v1/episodes?${query}`))).toEqual(named(...expected));
  });
});

describe('filter= (Directus JSON)', () => {
  const filter = (tree: unknown) => get(`/api/v1/episodes?filter=${encodeURIComponent(JSON.stringify(tree))}`);

  it('accepts _and, _or, _not, dot paths and nested objects', async () => {
    expect(idsOf(await filter({ wardrobe: { shoes: { brand: { _eq: 'Gucci' } } } }))).toEqual(named('gala'));
    expect(idsOf(await filter({ 'wardrobe.shoes.brand': { _eq: 'Gucci' } }))).toEqual(named('gala'));
    expect(idsOf(await filter({ _or: [{ status: { _eq: 'draft' } }, { season: { _gte: 2 } }] }))).toEqual(
      named('draft', 'bare'),
    );
    expect(idsOf(await filter({ _not: { status: { _eq: 'published' } } }))).toEqual(named('draft', 'bare'));
    expect(
      idsOf(
        await filter({
          _and: [{ status: { _in: ['published', 'in-production'] } }, { _not: { tags: { _contains: ['evening'] } } }],
        }),
      ),
    ).toEqual(named('champagne', 'draft'));
    expect(
      idsOf(
        await filter({
          duration_seconds: { _between: [1000, 2500] },
          wardrobe: { shoes: { color: { _neq: 'black' } } },
        }),
      ),
    ).toEqual(named('champagne'));
    expect(idsOf(await filter({ release_date: { _nnull: true } }))).toEqual(named('champagne', 'gala'));
  });

  it('combines with query-string conditions (AND)', async () => {
    expect(
      idsOf(await get(`/api/v1/episodes?status=published&filter=${encodeURIComponent('{"tags":{"_eq":"evening"}}')}`)),
    ).toEqual(named('gala'));
  });

  it('treats a missing value as not matching, and _not of it as matching', async () => {
    expect(idsOf(await filter({ _not: { 'wardrobe.main_outfit.dress.color': { _eq: 'black' } } }))).toEqual(
      named('champagne', 'draft', 'bare'),
    );
    expect(
      idsOf(await filter({ _not: { _or: [{ season: { _eq: 1 } }, { 'wardrobe.shoes.color': { _eq: 'red' } }] } })),
    ).toEqual(named('bare'));
  });
});

describe('projection and sorting', () => {
  it('_fields keeps dot paths, paths through lists, and always the id', async () => {
    const reply = await get(
      `/api/v1/episodes?status=published&_sort=title&_fields=title,wardrobe.shoes.brand,backgrounds.additional.name`,
    );
    expect(reply.body.data).toEqual([
      {
        id: ids.gala,
        title: 'Gala Night',
        wardrobe: { shoes: { brand: 'Gucci' } },
        backgrounds: { additional: [{ name: 'Ballroom' }] },
      },
      {
        id: ids.champagne,
        title: 'New Year Style Reset',
        wardrobe: { shoes: { brand: 'Christian Louboutin' } },
        backgrounds: { additional: [{ name: 'Rooftop' }, { name: 'Cafe' }] },
      },
    ]);
    const bare = await get(`/api/v1/episodes?status=draft&_fields=wardrobe.shoes.brand`);
    expect(bare.body.data).toEqual([{ id: ids.bare, wardrobe: null }]);
  });

  it('_fields works on a single GET too, and schema_version is selected, filtered and sorted like any field', async () => {
    const one = await fixture.service.request<Rec>(
      'GET',
      `/api/v1/episodes/${ids.champagne}?_fields=title,schema_version,wardrobe.shoes.brand,backgrounds.additional.name`,
    );
    expect(one.status).toBe(200);
    expect(one.headers.get('etag')).toBeTruthy();
    expect(one.body.data).toEqual({
      id: ids.champagne,
      title: 'New Year Style Reset',
      schema_version: 1,
      wardrobe: { shoes: { brand: 'Christian Louboutin' } },
      backgrounds: { additional: [{ name: 'Rooftop' }, { name: 'Cafe' }] },
    });
    for (const [fields, message] of [
      ['nope', 'unknown field "nope"'],
      ['schema_version.x', '"schema_version" has no field "x"'],
      ['outfits.items.brand', 'is a field of related records'],
    ] as const) {
      const bad = await get(`/api/v1/episodes/${ids.champagne}?_fields=${fields}`);
      expect(bad.status, fields).toBe(400);
      expect(bad.body.errors[0], fields).toMatchObject({ code: 'INVALID_QUERY', field: '_fields' });
      expect(bad.body.errors[0]!.message, fields).toContain(message);
    }
    const listed = await get(`/api/v1/episodes?schema_version=1&_sort=-schema_version,title&_fields=schema_version`);
    expect(listed.body.data).toHaveLength(Object.keys(EPISODES).length);
    expect(listed.body.data.every((r) => r.schema_version === 1)).toBe(true);
    expect((await get(`/api/v1/episodes?schema_version[gt]=1`)).body.data).toEqual([]);
  });

  it('_sort orders by columns and nested paths, missing values last ascending and first descending, ties by id', async () => {
    const order = async (sort: string) =>
      (await get(`/api/v1/episodes?_sort=${sort}&_fields=title`)).body.data.map((r) => r.id);
    expect(await order('-duration_seconds')).toEqual([ids.bare, ids.gala, ids.champagne, ids.draft]);
    expect(await order('duration_seconds')).toEqual([ids.draft, ids.champagne, ids.gala, ids.bare]);
    expect(await order('wardrobe.shoes.brand')).toEqual([...named('champagne', 'draft'), ids.gala, ids.bare]);
    expect(await order('-wardrobe.shoes.brand')).toEqual([ids.bare, ids.gala, ...named('champagne', 'draft')]);
    expect(await order('season,-episode_number')).toEqual([ids.gala, ids.champagne, ids.draft, ids.bare]);
  });

  it('refuses to sort by an object or a list', async () => {
    const reply = await get('/api/v1/episodes?_sort=wardrobe,tags');
    expect(reply.status).toBe(400);
    expect(messages(reply)).toMatch(/cannot sort by "wardrobe"/);
    expect(messages(reply)).toMatch(/cannot sort by "tags"/);
  });
});

describe('keyset cursors', () => {
  async function walk(path: string, from?: string): Promise<string[]> {
    const seen: string[] = [];
    let cursor = from;
    for (let pages = 0; pages < 50; pages += 1) {
      const reply = await get(`${path}${cursor ? `&_cursor=${cursor}` : ''}`);
      expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
      seen.push(...reply.body.data.map((r) => r.id));
      cursor = reply.body.metadata.next_cursor as string | undefined;
      if (!cursor) return seen;
    }
    throw new Error('too many pages');
  }

  it('walks every record exactly once, for every sort, with next_cursor absent on the last page', async () => {
    for (const sort of ['-duration_seconds', 'wardrobe.shoes.brand,-title', 'release_date', '-id']) {
      const all = (await get(`/api/v1/episodes?_sort=${sort}&_limit=100`)).body.data.map((r) => r.id);
      expect(await walk(`/api/v1/episodes?_sort=${sort}&_limit=1`)).toEqual(all);
    }
  });

  it('stays stable while rows are inserted between pages', async () => {
    const first = await get('/api/v1/episodes?_sort=-duration_seconds&_limit=2&_fields=title');
    const before = (await get('/api/v1/episodes?_sort=-duration_seconds&_limit=100')).body.data.map((r) => r.id);
    const inserted: string[] = [];
    for (const duration of [5000, 1, 2000]) {
      const reply = await fixture.service.request<Rec>('POST', '/api/v1/episodes', {
        body: { title: 'Inserted meanwhile', duration_seconds: duration },
      });
      inserted.push(reply.body.data.id);
    }
    const rest = await walk(
      '/api/v1/episodes?_sort=-duration_seconds&_limit=2',
      first.body.metadata.next_cursor as string,
    );
    const seen = [...first.body.data.map((r) => r.id), ...rest];
    expect(seen.filter((id) => !inserted.includes(id))).toEqual(before);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of inserted) await fixture.service.request('DELETE', `/api/v1/episodes/${id}?hard=true`);
  });

  it('rejects a tampered cursor, one from another sort, and a cursor with _offset', async () => {
    const page = await get('/api/v1/episodes?_sort=title&_limit=1');
    const cursor = page.body.metadata.next_cursor as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const other = await get(`/api/v1/episodes?_sort=-title&_cursor=${cursor}`);
    expect(other.status).toBe(400);
    expect(messages(other)).toMatch(/was made for _sort=title/);
    const tampered = await get(`/api/v1/episodes?_sort=title&_cursor=${cursor.slice(0, -3)}xyz`);
    expect(tampered.status).toBe(400);
    expect(messages(tampered)).toMatch(/not a cursor from this API/);
    const forged = Buffer.from(JSON.stringify({ s: 'title', v: [{ $gt: 1 }], id: 'x' })).toString('base64url');
    expect((await get(`/api/v1/episodes?_sort=title&_cursor=${forged}`)).status).toBe(400);
    const both = await get(`/api/v1/episodes?_sort=title&_offset=1&_cursor=${cursor}`);
    expect(both.status).toBe(400);
    expect(messages(both)).toMatch(/cannot be combined with _offset/);
  });

  it('gives every page the total of every match: first, cursor, offset and past-the-end pages, counted or shown', async () => {
    const all = idsOf(await get('/api/v1/episodes?_sort=id&_limit=100'));
    expect(all.length).toBeGreaterThan(2);
    const exact = { total: all.length, total_is_estimate: false };
    for (const count of ['', '&_count=exact']) {
      let cursor: string | undefined;
      for (let page = 0; page < all.length; page += 1) {
        const reply = await get(`/api/v1/episodes?_sort=id&_limit=1${count}${cursor ? `&_cursor=${cursor}` : ''}`);
        expect(reply.body.metadata, `page ${page}`).toMatchObject(exact);
        cursor = reply.body.metadata.next_cursor as string | undefined;
      }
      expect(cursor).toBeUndefined();
      for (const offset of [0, 1, all.length - 1, all.length, all.length + 5]) {
        const reply = await get(`/api/v1/episodes?_sort=id&_limit=2&_offset=${offset}${count}`);
        expect(reply.body.metadata, `offset ${offset}`).toMatchObject(exact);
      }
    }
  });

  it('offsets still work, and metadata says which kind of page it is', async () => {
    const all = idsOf(await get('/api/v1/episodes?_sort=id'));
    const second = await get('/api/v1/episodes?_sort=id&_limit=2&_offset=2');
    expect(second.body.data.map((r) => r.id)).toEqual(all.slice(2, 4));
    expect(second.body.metadata).toMatchObject({ limit: 2, offset: 2, total: 4 });
  });
});

describe('counts', () => {
  it('_count=exact, estimated and none', async () => {
    const exact = await get('/api/v1/episodes?status=published&_count=exact');
    expect(exact.body.metadata).toMatchObject({ total: 2, total_is_estimate: false });
    const estimated = await get('/api/v1/episodes?status=published&_count=estimated');
    expect(estimated.body.metadata.total_is_estimate).toBe(true);
    expect(estimated.body.metadata.total).toBeGreaterThanOrEqual(2);
    const none = await get('/api/v1/episodes?status=published&_count=none');
    expect(none.body.metadata).not.toHaveProperty('total');
    expect(none.body.metadata).not.toHaveProperty('total_is_estimate');
    const bad = await get('/api/v1/episodes?_count=maybe');
    expect(bad.status).toBe(400);
    expect(messages(bad)).toMatch(/must be one of: exact, estimated, none/);
  });
});

describe('full text (q=)', () => {
  it('searches the searchable fields with websearch syntax, ranked', async () => {
    // "champagne" is in one title-free description and one description plus a top colour; stems match.
    expect(idsOf(await get('/api/v1/episodes/search?q=champagne'))).toEqual(named('champagne', 'gala'));
    expect(idsOf(await get('/api/v1/episodes/search?q=capsules'))).toEqual(named('champagne', 'draft'));
    expect(idsOf(await get(`/api/v1/episodes/search?q=${encodeURIComponent('"capsule wardrobe"')}`))).toEqual(
      named('champagne', 'draft'),
    );
    expect(idsOf(await get(`/api/v1/episodes/search?q=${encodeURIComponent('capsule -spring')}`))).toEqual(
      named('champagne'),
    );
    expect(idsOf(await get(`/api/v1/episodes/search?q=${encodeURIComponent('gala or spring')}`))).toEqual(
      named('gala', 'draft'),
    );
    // A title match ranks above a description match.
    const ranked = await get('/api/v1/episodes/search?q=capsule');
    expect(ranked.body.data.map((r) => r.id)).toEqual([ids.draft, ids.champagne]);
    expect(idsOf(await get('/api/v1/episodes?q=capsule&status=published'))).toEqual(named('champagne'));
  });

  it('pages through ranked results with a cursor', async () => {
    const first = await get('/api/v1/episodes/search?q=capsule&_limit=1');
    expect(first.body.data.map((r) => r.id)).toEqual([ids.draft]);
    const second = await get(
      `/api/v1/episodes/search?q=capsule&_limit=1&_cursor=${first.body.metadata.next_cursor as string}`,
    );
    expect(second.body.data.map((r) => r.id)).toEqual([ids.champagne]);
    expect(second.body.metadata).not.toHaveProperty('next_cursor');
  });

  it('rejects an empty q, and answers 405 for other methods on /search', async () => {
    expect((await get('/api/v1/episodes?q=')).status).toBe(400);
    const post = await fixture.service.request('POST', '/api/v1/episodes/search', { body: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('bad input answers 400 naming the problem and the valid choices', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown field', 'colour=red', /unknown field "colour"; fields: id, schema_version, title/],
    [
      'unknown nested field',
      'wardrobe.shoes.brnd=x',
      /unknown field "wardrobe.shoes.brnd"; wardrobe.shoes has: style, color, brand/,
    ],
    ['a path into a value', 'title.length=3', /"title" is a string and has no field "length"/],
    ['unknown operator', 'season[near]=2', /unknown operator "near"; operators: eq, ne, gt/],
    [
      'operator that does not apply',
      'status[gt]=draft',
      /operator "gt" does not apply to "status" \(enum\); operators here: eq, ne, in/,
    ],
    ['substring on a number', 'season[contains]=1', /operator "contains" does not apply/],
    ['wrong type', 'episode_number=two', /"two" is not an integer/],
    ['impossible date', 'release_date=2025-02-30', /not a date/],
    ['impossible date-time', 'created_at[gte]=2025-02-30T00:00:00Z', /not a date-time/],
    ['unknown enum value', 'status=live', /"live" is not one of: draft, in_production/],
    ['between with one value', 'season[between]=1', /between takes two values/],
    ['bad boolean', 'wardrobe[exists]=yes', /exists takes true or false/],
    ['malformed JSON', 'filter={"status":', /filter: is not valid JSON/],
    ['filter that is not an object', 'filter=[1]', /must be a JSON object/],
    [
      'unknown filter operator',
      `filter=${encodeURIComponent('{"status":{"_like":"x"}}')}`,
      /unknown operator "_like"; operators: _and, _or, _not, _eq/,
    ],
    ['operator without a field', `filter=${encodeURIComponent('{"_eq":"x"}')}`, /_eq needs a field/],
    ['null compared', `filter=${encodeURIComponent('{"status":{"_eq":null}}')}`, /use \{"_null": true\}/],
    ['unknown control parameter', '_feilds=title', /unknown parameter; control parameters: _fields, _sort/],
    ['limit out of range', '_limit=5000', /must be an integer from 1 to 1000/],
    ['repeated control parameter', '_limit=1&_limit=2', /is given more than once/],
  ];
  it.each(cases)('%s', async (_name, query, message) => {
    const reply = await get(`/api/v1/episodes?${query}`);
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]!.code).toBe('INVALID_QUERY');
    expect(messages(reply)).toMatch(message);
  });

  it('more than 50 conditions, in the query string or in filter=', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `title[ne]=x${i}`).join('&');
    const reply = await get(`/api/v1/episodes?${many}`);
    expect(reply.status).toBe(400);
    expect(messages(reply)).toMatch(/has 51 conditions, more than 50/);
    const tree = { _and: Array.from({ length: 51 }, (_, i) => ({ title: { _ne: `x${i}` } })) };
    expect(messages(await get(`/api/v1/episodes?filter=${encodeURIComponent(JSON.stringify(tree))}`))).toMatch(
      /more than 50/,
    );
    const fifty = Array.from({ length: 50 }, (_, i) => `title[ne]=x${i}`).join('&');
    expect((await get(`/api/v1/episodes?${fifty}`)).status).toBe(200);
  });

  it('nesting deeper than 5', async () => {
    let tree: Record<string, unknown> = { status: { _eq: 'draft' } };
    for (let i = 0; i < 6; i += 1) tree = { _and: [tree] };
    const reply = await get(`/api/v1/episodes?filter=${encodeURIComponent(JSON.stringify(tree))}`);
    expect(reply.status).toBe(400);
    expect(messages(reply)).toMatch(/nesting is deeper than 5 levels/);
    expect(
      (await get(`/api/v1/episodes?filter=${encodeURIComponent(JSON.stringify((tree._and as unknown[])[0]))}`)).status,
    ).toBe(200);
  });

  it('a query string over 8 KiB', async () => {
    const reply = await get(`/api/v1/episodes?title=${'a'.repeat(8200)}`);
    expect(reply.status).toBe(400);
    expect(messages(reply)).toMatch(/over the 8192-byte limit/);
  });
});

describe('hostile names and values', () => {
  const hostile = [
    "'; DROP TABLE episodes; --",
    '" OR 1=1 --',
    'status) OR (1=1',
    'SELECT pg_sleep(10)',
    '\u0000',
    'x\u0000y',
    '😀 ümlaut ß 中文',
    '$1',
    '%',
    '_',
    '\\',
    '{"_or":[]}',
    "wardrobe->>'shoes'",
  ];

  it('never reach SQL text and never yield a 500, and the data is intact afterwards', async () => {
    const before = await fixture.db.query<{ id: string; title: string }>('SELECT id, title FROM episodes ORDER BY id');
    const statuses = new Set<number>();
    for (const text of hostile) {
      const v = encodeURIComponent(text);
      const queries = [
        `${v}=1`,
        `title[${v}]=1`,
        `wardrobe.${v}=1`,
        `title=${v}`,
        `title[in]=${v},b`,
        `title[contains]=${v}`,
        `title[icontains]=${v}`,
        `title[startswith]=${v}`,
        `title[endswith]=${v}`,
        `wardrobe.shoes.brand=${v}`,
        `tags=${v}`,
        `tags[contains]=${v}`,
        `season=${v}`,
        `release_date=${v}`,
        `created_at[gt]=${v}`,
        `status=${v}`,
        `_sort=${v}`,
        `_sort=-${v}`,
        `_fields=${v}`,
        `_cursor=${v}`,
        `_count=${v}`,
        `_limit=${v}`,
        `q=${v}`,
        `filter=${v}`,
        `filter=${encodeURIComponent(JSON.stringify({ [text]: { _eq: 1 } }))}`,
        `filter=${encodeURIComponent(JSON.stringify({ title: { [text]: 1 } }))}`,
        `filter=${encodeURIComponent(JSON.stringify({ title: { _eq: text } }))}`,
        `filter=${encodeURIComponent(JSON.stringify({ tags: { _contains: [text] } }))}`,
        `filter=${encodeURIComponent(JSON.stringify({ 'backgrounds.additional.location': { _in: [text] } }))}`,
      ];
      for (const query of queries) {
        const reply = await get(`/api/v1/episodes?${query}`);
        statuses.add(reply.status);
        expect([200, 400], `${query} → ${reply.status} ${JSON.stringify(reply.body?.errors)}`).toContain(reply.status);
      }
    }
    expect(statuses).toEqual(new Set([200, 400]));
    expect(await fixture.db.query('SELECT id, title FROM episodes ORDER BY id')).toEqual(before);
    const tables = await fixture.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual(MIGRATED_TABLES);
  });

  it('matches hostile text literally when it is stored', async () => {
    const tricky = "O'Brien; DROP TABLE shows; -- 100% _real_ \\ 😀";
    const created = await fixture.service.request<Rec>('POST', '/api/v1/episodes', { body: { title: tricky } });
    expect(idsOf(await get(`/api/v1/episodes?title=${encodeURIComponent(tricky)}`))).toEqual([created.body.data.id]);
    expect(idsOf(await get(`/api/v1/episodes?title[contains]=${encodeURIComponent('100% _real_')}`))).toEqual([
      created.body.data.id,
    ]);
    expect(idsOf(await get(`/api/v1/episodes?title[contains]=${encodeURIComponent('%')}`))).toEqual([
      created.body.data.id,
    ]);
    await fixture.service.request('DELETE', `/api/v1/episodes/${created.body.data.id}?hard=true`);
  });
});
