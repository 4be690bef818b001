// Query aliases declared in YAML (query_aliases): the seed's own filter names (7.4.1) over the
// registry's fields. ?talent= is talent_source (talent=Guest: every guest), ?background= any
// background slot by id, file or name, and wardrobe.outfit_type the main outfit's type.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { useServiceForFile } from './support/file-service.ts';
import { appendixC } from './support/fixtures.ts';
import { copyProject } from './support/project-copy.ts';
import { putMediaOf } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
const list = async (path: string) => {
  const reply = await fixture.service.request<Rec[]>('GET', `/api/v1${path}`);
  expect(reply.status, `${path}: ${JSON.stringify(reply.body.errors)}`).toBe(200);
  return reply.body.data.map((r) => r.id).sort();
};

let closet: Rec;
let gala: Rec;
const clips: Record<string, Rec> = {};
beforeAll(async () => {
  closet = await fixture.create({
    title: 'Closet tour',
    wardrobe: { main_outfit: { outfit_type: 'dress' } },
    backgrounds: {
      main_closet: 's3://bucket/backgrounds/closet_main_v3.jpg',
      additional: [{ name: 'Rooftop', file: 's3://bucket/backgrounds/rooftop.jpg' }],
    },
  });
  gala = await fixture.create({
    title: 'Gala night',
    wardrobe: { main_outfit: { outfit_type: 'suit' } },
    backgrounds: { event: 's3://bucket/backgrounds/ballroom.jpg' },
  });
  for (const [name, talent_source] of [
    ['lala', 'Lala'],
    ['sarah', 'Guest - Sarah Johnson'],
    ['maya', 'Guest - Maya Lee'],
    ['prime', 'JustAWomanInHerPrime'],
  ] as const) {
    const body = { ...appendixC('clip-lala'), episode_id: closet.id, talent_source, take_number: undefined };
    await putMediaOf(body);
    clips[name] = await fixture.create(body, 'clips');
  }
});

describe('query aliases', () => {
  it('talent= is talent_source, and talent=Guest matches every guest source', async () => {
    expect(await list('/clips?talent=Lala')).toEqual([clips.lala!.id]);
    expect(await list('/clips?talent=Guest')).toEqual([clips.sarah!.id, clips.maya!.id].sort());
    expect(await list(`/clips?talent=${encodeURIComponent('Guest - Maya Lee')}`)).toEqual([clips.maya!.id]);
    expect(await list('/clips?talent[ne]=Guest')).toEqual([clips.lala!.id, clips.prime!.id].sort());
    // Under the episode, with the rest of the language, and in a JSON filter.
    expect(await list(`/episodes/${closet.id}/clips?talent=Guest&_sort=talent`)).toHaveLength(2);
    const json = encodeURIComponent(
      JSON.stringify({ _or: [{ talent: { _eq: 'Lala' } }, { talent: { _eq: 'Guest' } }] }),
    );
    expect(await list(`/clips?filter=${json}`)).toHaveLength(3);
    const bad = await fixture.service.request('GET', '/api/v1/clips?talent=Bob');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ field: 'talent', code: 'INVALID_QUERY' });
    expect(bad.body.errors[0]!.message).toContain('"Bob" is not one of');
  });

  it('background= matches any background slot by the shared background id, its file or its name', async () => {
    expect(await list('/episodes/search?background=Rooftop')).toEqual([closet.id]);
    expect(await list('/episodes/search?background=s3://bucket/backgrounds/ballroom.jpg')).toEqual([gala.id]);
    const shared = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/backgrounds?file_reference=${encodeURIComponent('s3://bucket/backgrounds/closet_main_v3.jpg')}`,
    );
    expect(await list(`/episodes/search?background=${shared.body.data[0]!.id}`)).toEqual([closet.id]);
    expect(await list('/episodes/search?background=Nowhere')).toEqual([]);
    expect(await list('/episodes?background[ne]=Rooftop&title[startswith]=Gala')).toEqual([gala.id]);
    const sort = await fixture.service.request('GET', '/api/v1/episodes?_sort=background');
    expect(sort.status).toBe(400);
    expect(sort.body.errors[0]!.message).toContain('stands for several fields');
  });

  it('wardrobe.outfit_type is the seed path of wardrobe.main_outfit.outfit_type: filter, sort and _fields', async () => {
    expect(await list('/episodes?wardrobe.outfit_type=dress')).toEqual([closet.id]);
    expect(await list('/episodes?wardrobe.outfit_type[in]=suit,set')).toEqual([gala.id]);
    const fields = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?_sort=-wardrobe.outfit_type&_fields=wardrobe.outfit_type&title[icontains]=t',
    );
    expect(fields.body.data.map((r) => r.wardrobe)).toEqual([
      { main_outfit: { outfit_type: 'suit' } },
      { main_outfit: { outfit_type: 'dress' } },
    ]);
  });

  it('are checked when the registry compiles: paths resolve, names do not shadow fields, value filters parse', async () => {
    const copy = copyProject();
    try {
      copy.edit('registry/entities/clip.yaml', (t) =>
        t.replace(
          'query_aliases:\n',
          'query_aliases:\n  status: { paths: [status] }\n  speaker: { paths: [talent_sorce] }\n  who: { paths: [talent_source], values: { X: { talent_source: { _near: 1 } } } }\n',
        ),
      );
      const result = await runCli(['codegen', '--check'], copy.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/clip\.yaml: query_aliases\.status: "status" is already a field path/);
      expect(result.stderr).toMatch(/clip\.yaml: query_aliases\.speaker\.paths\.0: unknown field "talent_sorce"/);
      expect(result.stderr).toMatch(
        /clip\.yaml: query_aliases\.who\.values\.X\.talent_source\._near: unknown operator/,
      );
    } finally {
      copy.remove();
    }
  });
});
