// Script version control (seed 8.10, use case 5): an episode's script and its trailer's, each a
// record with numbered versions, an active version chosen by hand, diffs, a 100-version limit and
// full-text search with highlighted snippets. All of it declared in YAML (`versions`, `parts`).
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import type { Rec } from './support/service.ts';
import { appendixB } from './support/fixtures.ts';
import { copyProject } from './support/project-copy.ts';
import { runCli } from './support/cli.ts';

const fixture = useServiceForFile();
const call = <T = Rec>(method: string, p: string, body?: unknown) =>
  fixture.service.request<T>(method, `/api/v1${p}`, body === undefined ? {} : { body });

const DRAFT_1 = [
  'INT. WALK-IN CLOSET - DAY',
  'LALA holds up two silk blouses.',
  'LALA: Champagne or ivory?',
  'She picks the champagne one.',
].join('\n');
const DRAFT_2 = [
  'INT. WALK-IN CLOSET - DAY',
  'LALA holds up two silk blouses.',
  'LALA: Champagne or emerald?',
  'She picks the emerald one.',
  'CUT TO: the shoe wall.',
].join('\n');

describe('episode scripts', () => {
  it('keeps numbered versions, answers the active one (use case 5), and switches it by hand', async () => {
    const episode = await fixture.create({ title: 'Closet confessions' });
    const none = await call('GET', `/episodes/${episode.id}/script`);
    expect(none.status).toBe(404);
    expect(none.body.errors[0]?.message).toContain(`episode ${episode.id} has no script yet`);

    const first = await call('POST', `/episodes/${episode.id}/script/versions`, {
      text: DRAFT_1,
      file_reference: 's3://scripts/ep/v1.pdf',
      author: 'writer-7',
      change_notes: 'First draft',
      source: 'import',
    });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({
      version_number: 1,
      author: 'writer-7',
      source: 'import',
      approval_status: 'approved',
    });
    expect(first.headers.get('location')).toBe(`/api/v1/episodes/${episode.id}/script/versions/1`);
    const second = await call('POST', `/episodes/${episode.id}/script/versions`, {
      text: DRAFT_2,
      file_reference: 's3://scripts/ep/v2.pdf',
      author: 'writer-7',
      change_notes: 'Emerald instead',
    });
    expect(second.body.data.version_number).toBe(2);

    // The first version is active until another is chosen.
    expect((await call('GET', `/episodes/${episode.id}/script`)).body.data).toMatchObject({
      version_number: 1,
      file_reference: 's3://scripts/ep/v1.pdf',
    });
    const chosen = await fixture.service.request('PUT', `/api/v1/episodes/${episode.id}/script/active`, {
      body: { version: 2 },
      headers: { 'x-actor': 'showrunner' },
    });
    expect(chosen.status).toBe(200);
    // Choosing the active version is audited (seed 8.17: a critical change).
    const scriptId = first.body.data.script_id as string;
    const audited = await call<Rec[]>('GET', `/audit?entity=script&id=${scriptId}&operation=activate`);
    expect(audited.body.data.map((e) => [e.actor, e.changes])).toEqual([
      ['showrunner', [{ path: 'active_version', old: 1, new: 2 }]],
      [null, [{ path: 'active_version', old: null, new: 1 }]],
    ]);
    // Reverting the choice puts the previous version back in use, itself audited.
    const reverted = await call('POST', `/scripts/${scriptId}/revert`, { audit_id: audited.body.data[0]!.id });
    expect(reverted.status).toBe(200);
    expect((await call('GET', `/episodes/${episode.id}/script`)).body.data).toMatchObject({ version_number: 1 });
    expect((await call('PUT', `/episodes/${episode.id}/script/active`, { version: 2 })).status).toBe(200);
    expect((await call('GET', `/episodes/${episode.id}/script`)).body.data).toMatchObject({
      version_number: 2,
      file_reference: 's3://scripts/ep/v2.pdf',
      text: DRAFT_2,
    });
    expect((await call('PUT', `/episodes/${episode.id}/script/active`, { version: 9 })).status).toBe(404);
    expect((await call('PUT', `/episodes/${episode.id}/script/active`, { version: 'two' })).status).toBe(400);

    const list = await call<Rec[]>('GET', `/episodes/${episode.id}/script/versions`);
    expect(list.body.data.map((v) => v.version_number)).toEqual([1, 2]);
    expect(list.body.metadata).toMatchObject({ active_version: 2, total: 2 });
    const newestFirst = await call<Rec[]>('GET', `/episodes/${episode.id}/script/versions?_sort=-version_number`);
    expect(newestFirst.body.data.map((v) => v.version_number)).toEqual([2, 1]);
    expect((await call('GET', `/episodes/${episode.id}/script/versions/1`)).body.data).toMatchObject({ text: DRAFT_1 });
    expect((await call('GET', `/episodes/${episode.id}/script/versions/3`)).status).toBe(404);

    // A PUT of "the script" is a new version, made active (what the old script view's PUT did).
    const put = await call('PUT', `/episodes/${episode.id}/script`, {
      file_reference: 's3://scripts/ep/v3.pdf',
      text: 'INT. STUDIO - NIGHT',
    });
    expect(put.body.data).toMatchObject({ version_number: 3 });
    expect((await call('GET', `/episodes/${episode.id}/script`)).body.data).toMatchObject({
      version_number: 3,
      text: 'INT. STUDIO - NIGHT',
    });
    const script = (await call<Rec[]>('GET', `/scripts?episode_id=${episode.id}`)).body.data;
    expect(script).toEqual([expect.objectContaining({ kind: 'episode', active_version: 3 })]);
    // The number is the server's, and so is the active version.
    expect(
      (await call('POST', `/episodes/${episode.id}/script/versions`, { text: 'x', version_number: 7 })).status,
    ).toBe(422);
    expect((await call('PATCH', `/scripts/${script[0]!.id}`, { active_version: 1 })).body.data).toMatchObject({
      active_version: 3,
    });
  });

  it('keeps the trailer script as a record of its own with its own versions', async () => {
    const episode = await fixture.create({ title: 'Trailer time' });
    await call('POST', `/episodes/${episode.id}/script/versions`, { text: 'Episode script' });
    await call('POST', `/episodes/${episode.id}/trailer-script/versions`, { text: 'Trailer v1' });
    await call('POST', `/episodes/${episode.id}/trailer-script/versions`, { text: 'Trailer v2' });
    expect((await call('GET', `/episodes/${episode.id}/trailer-script`)).body.data).toMatchObject({
      version_number: 1,
      text: 'Trailer v1',
    });
    expect((await call('GET', `/episodes/${episode.id}/script`)).body.data).toMatchObject({
      version_number: 1,
      text: 'Episode script',
    });
    const scripts = (await call<Rec[]>('GET', `/scripts?episode_id=${episode.id}&_sort=kind`)).body.data;
    expect(scripts.map((s) => [s.kind, s.active_version])).toEqual([
      ['episode', 1],
      ['trailer', 1],
    ]);
    expect((await call('GET', `/episodes/ep_20250101_missing000/script`)).status).toBe(404);
  });

  it('diffs two versions as unified text and structured hunks', async () => {
    const episode = await fixture.create({ title: 'Diffs' });
    await call('POST', `/episodes/${episode.id}/script/versions`, { text: DRAFT_1 });
    await call('POST', `/episodes/${episode.id}/script/versions`, { text: DRAFT_2 });
    const diff = await call<{
      from: number;
      to: number;
      unified: string;
      hunks: { oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] }[];
    }>('GET', `/episodes/${episode.id}/script/diff?from=1&to=2`);
    expect(diff.status).toBe(200);
    expect(diff.body.data.hunks).toEqual([
      {
        oldStart: 1,
        oldLines: 4,
        newStart: 1,
        newLines: 5,
        lines: [
          ' INT. WALK-IN CLOSET - DAY',
          ' LALA holds up two silk blouses.',
          '-LALA: Champagne or ivory?',
          '-She picks the champagne one.',
          '\\ No newline at end of file',
          '+LALA: Champagne or emerald?',
          '+She picks the emerald one.',
          '+CUT TO: the shoe wall.',
          '\\ No newline at end of file',
        ],
      },
    ]);
    expect(diff.body.data.unified).toMatch(/^=+\n--- scr_\w+ version 1\n\+\+\+ scr_\w+ version 2\n@@ -1,4 \+1,5 @@\n/);
    expect(diff.body.data.unified).toContain('\n-LALA: Champagne or ivory?\n-She picks the champagne one.\n');
    expect((await call('GET', `/episodes/${episode.id}/script/diff?from=1&to=5`)).status).toBe(404);
    expect((await call('GET', `/episodes/${episode.id}/script/diff?from=1`)).status).toBe(400);
    expect((await call('GET', `/episodes/${episode.id}/script/diff?from=1&to=2&context=9`)).status).toBe(400);
  });

  it('refuses the 101st version of a script with a 409 that says so', async () => {
    const episode = await fixture.create({ title: 'A hundred drafts' });
    for (let n = 1; n <= 100; n++)
      expect((await call('POST', `/episodes/${episode.id}/script/versions`, { text: `Draft ${n}` })).status).toBe(201);
    const over = await call('POST', `/episodes/${episode.id}/script/versions`, { text: 'Draft 101' });
    expect(over.status).toBe(409);
    expect(over.body.errors[0]).toMatchObject({ code: 'CONFLICT', field: 'version_number' });
    expect(over.body.errors[0]!.message).toMatch(/already has 100 script_versions, the most it can have/);
    // Another script still has room.
    expect((await call('POST', `/episodes/${episode.id}/trailer-script/versions`, { text: 'Trailer' })).status).toBe(
      201,
    );
  }, 60_000);

  it('searches script text and answers the episode, the version and a highlighted snippet', async () => {
    const episode = await fixture.create({ title: 'Searchable' });
    await call('POST', `/episodes/${episode.id}/script/versions`, {
      text: 'The stylist unveils a velvet tuxedo for the gala.',
    });
    await call('POST', `/episodes/${episode.id}/script/versions`, { text: 'Nothing to see here.' });
    const found = await call<{ script: Rec; version: number; active: boolean; snippet: string }[]>(
      'GET',
      '/scripts/search?q=velvet%20tuxedo',
    );
    expect(found.status).toBe(200);
    expect(found.body.data).toEqual([
      {
        script: expect.objectContaining({ episode_id: episode.id, kind: 'episode' }),
        version: 1,
        active: true,
        snippet: expect.stringContaining('<mark>velvet</mark> <mark>tuxedo</mark>'),
      },
    ]);
    expect((await call('GET', '/scripts/search')).status).toBe(400);
    expect((await call<unknown[]>('GET', '/scripts/search?q=zebra')).body.data).toEqual([]);
  });
});

describe('one truth for the script file (use case 5: content.script mirrors the script part)', () => {
  const api = <T = Rec>(method: string, path: string, body?: unknown) =>
    fixture.service.request<T>(method, `/api/v1${path}`, body === undefined ? {} : { body });

  it('an episode created with content.script (Appendix B) answers /script with it as version 1', async () => {
    const body = appendixB('with-production-assets');
    const created = await api('POST', '/episodes', body);
    expect(created.status, JSON.stringify(created.body.errors)).toBe(201);
    const id = created.body.data.id as string;
    const uri = (body.content as Rec).script;
    const script = await api('GET', `/episodes/${id}/script`);
    expect(script.status).toBe(200);
    expect(script.body.data).toMatchObject({ version_number: 1, file_reference: uri, source: 'system' });
    // The episode's record is unchanged by it.
    expect((await api('GET', `/episodes/${id}`)).body.data.content).toEqual(created.body.data.content);
  });

  it('keeps both sides in step: a new content.script becomes the active version, a chosen version becomes content.script', async () => {
    const id = (
      await api('POST', '/episodes', { title: 'Two truths', content: { script: 's3://bucket/scripts/v1.pdf' } })
    ).body.data.id as string;
    const patched = await api('PATCH', `/episodes/${id}`, { content: { script: 's3://bucket/scripts/v2.pdf' } });
    expect(patched.status).toBe(200);
    const versions = await api<Rec[]>('GET', `/episodes/${id}/script/versions?_fields=version_number,file_reference`);
    expect(versions.body.data.map((v) => [v.version_number, v.file_reference])).toEqual([
      [1, 's3://bucket/scripts/v1.pdf'],
      [2, 's3://bucket/scripts/v2.pdf'],
    ]);
    expect(versions.body.metadata.active_version).toBe(2);
    // Patching other fields, or writing the same file again, adds no version.
    await api('PATCH', `/episodes/${id}`, {
      title: 'Two truths, renamed',
      content: { script: 's3://bucket/scripts/v2.pdf' },
    });
    expect((await api<Rec[]>('GET', `/episodes/${id}/script/versions`)).body.data).toHaveLength(2);

    expect((await api('PUT', `/episodes/${id}/script/active`, { version: 1 })).status).toBe(200);
    expect((await api('GET', `/episodes/${id}`)).body.data.content).toMatchObject({
      script: 's3://bucket/scripts/v1.pdf',
    });
    // A version added and made active through the part writes its file to the episode; a text-only one does not.
    await api('PUT', `/episodes/${id}/script`, { text: 'INT. CLOSET', file_reference: 's3://bucket/scripts/v3.pdf' });
    expect((await api('GET', `/episodes/${id}`)).body.data.content).toMatchObject({
      script: 's3://bucket/scripts/v3.pdf',
    });
    await api('PUT', `/episodes/${id}/script`, { text: 'INT. CLOSET, revised' });
    expect((await api('GET', `/episodes/${id}`)).body.data.content).toMatchObject({
      script: 's3://bucket/scripts/v3.pdf',
    });
    expect((await api<Rec[]>('GET', `/episodes/${id}/script/versions`)).body.data).toHaveLength(4);
  });

  it('is checked by the registry: the fields must exist and fit', async () => {
    const copy = copyProject();
    try {
      copy.edit('registry/entities/episode.yaml', (t) =>
        t.replace(
          'mirror: { field: content.script, to: file_reference, set: { source: system } }',
          'mirror: { field: content.scrip, to: text, set: { source: robot } }',
        ),
      );
      const result = await runCli(['codegen', '--check'], copy.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /episode\.yaml: parts\.script\.mirror\.field: "content\.scrip" must be a text or s3_uri field of episode/,
      );
      expect(result.stderr).toMatch(
        /episode\.yaml: parts\.script\.mirror\.set\.source: "source" must be an enum field of script_version with the value "robot"/,
      );
    } finally {
      copy.remove();
    }
  });
});
