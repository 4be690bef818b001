// UI elements and backgrounds (seed 8.3) are shared asset libraries, added as YAML only: the
// generic routes and the query language serve them with no code of their own.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();

describe('shared assets', () => {
  it('store, find and soft-delete backgrounds and UI elements', async () => {
    const post = (plural: string, body: Record<string, unknown>) => fixture.create(body, plural);
    const closet = await post('backgrounds', {
      name: 'Main closet',
      category: 'closet',
      file_reference: 's3://bucket/backgrounds/closet_main_v3.jpg',
      version: 'v3',
      tags: ['closet', 'neutral'],
    });
    await post('backgrounds', {
      name: 'Rooftop at sunset',
      category: 'event',
      file_reference: 's3://bucket/backgrounds/rooftop_nyc_sunset.jpg',
      tags: ['outdoor'],
    });
    const mouse = await post('ui-elements', {
      name: 'Gold mouse pointer',
      category: 'mouse_pointer',
      file_reference: 's3://bucket/ui/mouse_pointer_gold.png',
    });
    expect(closet.id).toMatch(/^bg_/);
    expect(mouse).toMatchObject({ id: expect.stringMatching(/^uie_/), approval_status: 'approved', tags: null });

    const byTag = await fixture.service.request<Rec[]>('GET', '/api/v1/backgrounds?tags=closet&_fields=name');
    expect(byTag.body.data).toEqual([{ id: closet.id, name: 'Main closet' }]);
    const searched = await fixture.service.request<Rec[]>('GET', '/api/v1/backgrounds/search?q=sunset');
    expect(searched.body.data.map((b) => b.name)).toEqual(['Rooftop at sunset']);
    const wrong = await fixture.service.request('POST', '/api/v1/ui-elements', {
      body: { name: 'x', category: 'sparkle', file_reference: 'https://not-s3' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors.map((e) => e.field).sort()).toEqual(['category', 'file_reference']);

    expect((await fixture.service.request('DELETE', `/api/v1/backgrounds/${closet.id}`)).status).toBe(200);
    expect((await fixture.service.request<Rec[]>('GET', '/api/v1/backgrounds')).body.data.map((b) => b.name)).toEqual([
      'Rooftop at sunset',
    ]);
  });
});

describe('usage frequency (seed 8.16)', () => {
  it('counts the live episodes using each background and UI element as times_used, filterable and sortable', async () => {
    const closet = 's3://bucket/backgrounds/usage_closet.jpg';
    const roof = 's3://bucket/backgrounds/usage_roof.jpg';
    const login = 's3://bucket/ui/usage_login.jpg';
    const episodes: Rec[] = [];
    for (const title of ['One', 'Two', 'Three'])
      episodes.push(
        await fixture.create({ title, backgrounds: { main_closet: closet }, ui_elements: { login_screen: login } }),
      );
    await fixture.create({ title: 'Four', backgrounds: { main_closet: roof } });
    await fixture.service.request('DELETE', `/api/v1/episodes/${episodes[2]!.id}`);
    const backgrounds = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/backgrounds?file_reference[startswith]=${encodeURIComponent('s3://bucket/backgrounds/usage_')}&_sort=-times_used&_fields=file_reference,times_used`,
    );
    expect(backgrounds.body.data.map((b) => [b.file_reference, b.times_used])).toEqual([
      [closet, 2],
      [roof, 1],
    ]);
    const popular = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/ui-elements?times_used[gte]=2&_fields=file_reference',
    );
    expect(popular.body.data.map((u) => u.file_reference)).toContain(login);
  });
});
