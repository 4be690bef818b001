// Tags and categories (seed 8.16): free-form tags normalized as their field declares (trimmed,
// spaces collapsed, lowercase), so " Fashion ", FASHION and fashion are one tag in writes and in
// queries; GET /{plural}/tags?prefix= lists them with counts for autocomplete; system categories
// are controlled vocabularies (the categories mixin) on episodes and clips.
import { describe, expect, it } from 'vitest';
import { countedValueFields } from '../src/api/value-routes.ts';
import { useServiceForFile } from './support/file-service.ts';
import { shippedModel } from './support/fixtures.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
const get = <T = Rec[]>(path: string) => fixture.service.request<T>('GET', `/api/v1${path}`);

describe('tag normalization', () => {
  it('stores one spelling, holds each tag once, and matches any spelling in a filter', async () => {
    const one = await fixture.create({ title: 'Tags one', tags: [' Fashion ', 'FASHION', 'new   year', 'Lifestyle'] });
    expect(one.tags).toEqual(['fashion', 'new year', 'lifestyle']);
    const two = await fixture.create({ title: 'Tags two', tags: ['fashion', 'Fall Looks'] });
    await fixture.create({ title: 'Tags three', tags: ['Fashion Week'] });
    const patched = await fixture.service.request<Rec>('PATCH', `/api/v1/episodes/${two.id}`, {
      body: { tags: ['FALL  looks', 'fashion'] },
    });
    expect(patched.body.data.tags).toEqual(['fall looks', 'fashion']);
    for (const spelling of ['FASHION', ' fashion ', 'Fashion']) {
      const found = await get(`/episodes?tags=${encodeURIComponent(spelling)}&_fields=title&_sort=title`);
      expect(
        found.body.data.map((r) => r.title),
        spelling,
      ).toEqual(['Tags one', 'Tags two']);
    }
    const json = encodeURIComponent(JSON.stringify({ tags: { _contains: ['NEW YEAR', 'lifestyle'] } }));
    expect((await get(`/episodes?filter=${json}`)).body.data.map((r) => r.id)).toEqual([one.id]);
  });

  it('GET /{plural}/tags lists the tags in use with their counts, most used first, by normalized prefix', async () => {
    const all = await get<{ value: string; count: number }[]>('/episodes/tags');
    expect(all.status).toBe(200);
    expect(all.body.data.slice(0, 1)).toEqual([{ value: 'fashion', count: 2 }]);
    const fa = await get<{ value: string; count: number }[]>(`/episodes/tags?prefix=${encodeURIComponent(' FA')}`);
    expect(fa.body.data).toEqual([
      { value: 'fashion', count: 2 },
      { value: 'fall looks', count: 1 },
      { value: 'fashion week', count: 1 },
    ]);
    expect(fa.body.metadata).toMatchObject({ field: 'tags', prefix: 'fa', limit: 20 });
    expect((await get('/episodes/tags?prefix=fa&_limit=1')).body.data).toHaveLength(1);
    // Deleted episodes do not count.
    const gone = await fixture.create({ title: 'Tags gone', tags: ['zebra print'] });
    expect((await get('/episodes/tags?prefix=zebra')).body.data).toEqual([{ value: 'zebra print', count: 1 }]);
    await fixture.service.request('DELETE', `/api/v1/episodes/${gone.id}`);
    expect((await get('/episodes/tags?prefix=zebra')).body.data).toEqual([]);
    for (const bad of ['_limit=0', '_limit=101', 'nope=1', `prefix=${'x'.repeat(201)}`]) {
      expect((await get(`/episodes/tags?${bad}`)).status, bad).toBe(400);
    }
  });

  it('has a tags route for every entity whose tags are normalized, clips and the shared libraries too', async () => {
    const model = shippedModel();
    const withTags = model.entities.filter((e) => countedValueFields(e).length > 0).map((e) => e.route);
    expect(withTags).toEqual(
      expect.arrayContaining(['episodes', 'clips', 'backgrounds', 'ui-elements', 'wardrobe-items']),
    );
    for (const route of withTags) expect((await get(`/${route}/tags`)).status, route).toBe(200);
    await fixture.create(
      { name: 'Loft', file_reference: 's3://bucket/bg/loft.jpg', tags: ['Loft ', 'NYC'] },
      'backgrounds',
    );
    expect((await get('/backgrounds/tags?prefix=n')).body.data).toEqual([{ value: 'nyc', count: 1 }]);
  });
});

describe('system categories', () => {
  it('are controlled vocabularies on episodes and clips, filterable by dot path', async () => {
    const episode = await fixture.create({
      title: 'Sponsored glam',
      categories: { wardrobe_type: 'evening', mood: 'glam', sponsor: '  Theory ', character: 'Lala' },
    });
    expect(episode.categories).toEqual({
      wardrobe_type: 'evening',
      mood: 'glam',
      sponsor: 'Theory',
      character: 'Lala',
    });
    const found = await get('/episodes?categories.mood=glam&categories.sponsor=Theory&_fields=title');
    expect(found.body.data.map((r) => r.id)).toEqual([episode.id]);
    const refused = await fixture.service.request('POST', '/api/v1/episodes', {
      body: { title: 'Off list', categories: { mood: 'grumpy' } },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0]).toMatchObject({ field: 'categories.mood' });
    const badQuery = await get('/episodes?categories.mood=grumpy');
    expect(badQuery.status).toBe(400);
  });
});
