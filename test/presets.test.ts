// Named filter presets declared in YAML (clip.yaml: `presets.unassigned`), over real HTTP and
// PostgreSQL: every list route takes `?unassigned=true|false`, and the registry checks the filter.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { useServiceForFile } from './support/file-service.ts';
import { copyProject } from './support/project-copy.ts';
import { putTestObjects } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();

let episode: Rec;
let assigned: Rec;
let loose: Rec[];

beforeAll(async () => {
  episode = await fixture.create({ title: 'Preset episode' });
  await putTestObjects(['s3://bucket/raw/preset.mov']);
  const clip = (fields: Record<string, unknown>) =>
    fixture.create({ talent_source: 'Lala', file_reference: 's3://bucket/raw/preset.mov', ...fields }, 'clips');
  assigned = await clip({ episode_id: episode.id, scene_description: 'closet tour', take_number: 1 });
  loose = [
    await clip({ scene_description: 'closet tour', take_number: 2 }),
    await clip({ scene_description: 'street walk', take_number: 3 }),
  ];
});

const ids = async (path: string) => {
  const reply = await fixture.service.request<Rec[]>('GET', path);
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
  return reply.body.data.map((c) => c.id).sort();
};

describe('a preset on list routes', () => {
  it('?unassigned=true is episode_id[null]=true, and =false its negation', async () => {
    const looseIds = loose.map((c) => c.id).sort();
    expect(await ids('/api/v1/clips?unassigned=true')).toEqual(looseIds);
    expect(await ids('/api/v1/clips?episode_id[null]=true')).toEqual(looseIds);
    expect(await ids('/api/v1/clips?unassigned=false')).toEqual([assigned.id]);
    // ANDed with the other conditions, like any filter.
    expect(await ids('/api/v1/clips?unassigned=true&take_number[gte]=3')).toEqual([loose[1]!.id]);
    expect(
      await ids(`/api/v1/clips?unassigned=false&filter=${encodeURIComponent('{"take_number":{"_gt":1}}')}`),
    ).toEqual([]);
    const total = await fixture.service.request('GET', '/api/v1/clips?unassigned=true&_count=exact');
    expect(total.body.metadata.total).toBe(2);
  });

  it('works on /search, on sub-resource lists and on export', async () => {
    expect(await ids('/api/v1/clips/search?q=closet&unassigned=true')).toEqual([loose[0]!.id]);
    expect(await ids('/api/v1/clips/search?q=closet&unassigned=false')).toEqual([assigned.id]);
    expect(await ids(`/api/v1/episodes/${episode.id}/clips?unassigned=false`)).toEqual([assigned.id]);
    expect(await ids(`/api/v1/episodes/${episode.id}/clips?unassigned=true`)).toEqual([]);

    const exported = await fetch(`${fixture.service.url}/api/v1/clips/export?format=ndjson&unassigned=true`);
    expect(exported.status).toBe(200);
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as Rec).id);
    expect(lines.sort()).toEqual(loose.map((c) => c.id).sort());
  });

  it('answers 400 for a value other than true or false, a repeated preset, and on entities without it', async () => {
    const bad = await fixture.service.request('GET', '/api/v1/clips?unassigned=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      {
        code: 'INVALID_QUERY',
        message: 'unassigned: must be true or false (a preset: Clips not yet assigned to an episode.)',
        field: 'unassigned',
      },
    ]);
    const twice = await fixture.service.request('GET', '/api/v1/clips?unassigned=true&unassigned=false');
    expect(twice.status).toBe(400);
    expect(twice.body.errors[0]!.message).toBe('unassigned: is given more than once');
    const typo = await fixture.service.request('GET', '/api/v1/clips?unasigned=true');
    expect(typo.status).toBe(400);
    expect(typo.body.errors[0]!.message).toMatch(
      /^unasigned: unknown field "unasigned"; fields: id, .*; presets: unassigned$/,
    );
    const elsewhere = await fixture.service.request('GET', '/api/v1/episodes?unassigned=true');
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.errors[0]!.message).not.toMatch(/presets/);
  });

  it('is documented in the OpenAPI document as a boolean list parameter', async () => {
    const doc = (await (await fetch(`${fixture.service.url}/openapi.json`)).json()) as {
      paths: Record<string, { get: { parameters: { name: string; schema: unknown; description: string }[] } }>;
    };
    for (const path of ['/api/v1/clips', '/api/v1/clips/search', '/api/v1/episodes/{id}/clips']) {
      const param = doc.paths[path]!.get.parameters.find((p) => p.name === 'unassigned');
      expect(param, path).toMatchObject({ schema: { type: 'boolean' } });
      expect(param!.description).toContain('{"episode_id":{"_null":true}}');
    }
    expect(doc.paths['/api/v1/episodes']!.get.parameters.some((p) => p.name === 'unassigned')).toBe(false);
  });
});

describe('the presets option', () => {
  it('is checked when the registry compiles: the filter against the entity, and names that clash', async () => {
    const copy = copyProject();
    try {
      copy.edit('registry/entities/clip.yaml', (t) =>
        t.replace(
          '    filter: { episode_id: { _null: true } }\n',
          [
            '    filter: { episode: { _null: true } }',
            '  usable:',
            '    filter: { _or: [{ status: { _eq: approved } }, { quality_rating: { _eq: heroic } }, { take_number: { _near: 3 } }] }',
            '  status:',
            '    filter: { status: used }',
            '  filter:',
            '    filter: { status: used }',
            '',
          ].join('\n'),
        ),
      );
      const result = await runCli(['codegen', '--check'], copy.env);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^registry\/entities\/clip\.yaml: presets\.unassigned\.filter\.episode: unknown field "episode"; fields: id, schema_version, episode_id, .* \(line \d+\)$/,
          ),
          expect.stringMatching(
            /^registry\/entities\/clip\.yaml: presets\.usable\.filter\._or\.1\.quality_rating\._eq: quality_rating: "heroic" is not one of: hero, good, maybe, reject \(line \d+\)$/,
          ),
          expect.stringMatching(
            /^registry\/entities\/clip\.yaml: presets\.usable\.filter\._or\.2\.take_number\._near: unknown operator "_near"; .*\(line \d+\)$/,
          ),
          expect.stringMatching(
            /^registry\/entities\/clip\.yaml: presets\.status: "status" is also a field; a preset needs a name of its own \(line \d+\)$/,
          ),
          expect.stringMatching(
            /^registry\/entities\/clip\.yaml: presets\.filter: "filter" is a list query parameter \(id, _fields, .*\) \(line \d+\)$/,
          ),
        ]),
      );
      expect(lines).toHaveLength(5);
    } finally {
      copy.remove();
    }
  });
});
