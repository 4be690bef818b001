// Record lifecycle rules declared in the registry, over real HTTP and PostgreSQL: restore after a
// soft delete, unique sets among live records, and enum transitions (the approval flow, seed 8.11).
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { useServiceForFile } from './support/file-service.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';
import { createTestDatabase } from './support/database.ts';
import { copyProject } from './support/project-copy.ts';

const fixture = useServiceForFile();

const { create } = fixture;

describe('restore', () => {
  it('brings a soft-deleted record back, recording who and when, and clears the deletion fields', async () => {
    const episode = await create({ title: 'Deleted by mistake' });
    await fixture.service.request('DELETE', `/api/v1/episodes/${episode.id}?reason=oops`, {
      headers: { 'X-Actor': 'lala' },
    });
    expect((await fixture.service.request('GET', `/api/v1/episodes/${episode.id}`)).status).toBe(404);

    const restored = await fixture.service.request<Rec>('POST', `/api/v1/episodes/${episode.id}/restore`, {
      headers: { 'X-Actor': 'editor-1' },
    });
    expect(restored.status).toBe(200);
    expect(restored.body.data).toMatchObject({
      id: episode.id,
      deleted_at: null,
      deleted_by: null,
      deleted_reason: null,
      restored_by: 'editor-1',
    });
    expect(Date.parse(restored.body.data.restored_at as string)).toBeGreaterThan(
      Date.parse(episode.created_at as string) - 1,
    );
    expect((await fixture.service.request('GET', `/api/v1/episodes/${episode.id}`)).status).toBe(200);
  });

  it('brings back the components its delete cascaded to, not those deleted before for their own reason', async () => {
    const episode = await create({ title: 'With components' });
    const component = (type: string) =>
      create({ episode_id: episode.id, type, file_reference: `s3://bucket/components/${type}.bin` }, 'components');
    const [audio, subtitles, earlier] = [
      await component('audio'),
      await component('subtitles'),
      await component('reference_image'),
    ];
    await fixture.service.request('DELETE', `/api/v1/components/${earlier.id}?reason=wrong+file`);

    const deleted = await fixture.service.request<Rec>('DELETE', `/api/v1/episodes/${episode.id}`);
    expect(deleted.body.data.cascaded).toEqual({ components: 2 });
    const restored = await fixture.service.request<Rec>('POST', `/api/v1/episodes/${episode.id}/restore`, {
      headers: { 'X-Actor': 'editor-2' },
    });
    expect(restored.status).toBe(200);
    expect(restored.body.metadata.restored).toEqual({ components: 2 });

    const rows = await fixture.db.query<{
      id: string;
      deleted_at: Date | null;
      deleted_reason: string | null;
      restored_by: string | null;
    }>('SELECT id, deleted_at, deleted_reason, restored_by FROM components WHERE episode_id = $1', [episode.id]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const c of [audio, subtitles])
      expect(byId.get(c.id)).toMatchObject({ deleted_at: null, deleted_reason: null, restored_by: 'editor-2' });
    expect(byId.get(earlier.id)).toMatchObject({ deleted_reason: 'wrong file', restored_by: null });
    expect(byId.get(earlier.id)!.deleted_at).not.toBeNull();

    // A restore with nothing cascaded says nothing about it.
    await fixture.service.request('DELETE', `/api/v1/components/${audio.id}`);
    const alone = await fixture.service.request<Rec>('POST', `/api/v1/components/${audio.id}/restore`);
    expect(alone.status).toBe(200);
    expect(alone.body.metadata).not.toHaveProperty('restored');
  });

  it('answers 409 for a live record, 404 for an unknown one, 405 for other methods', async () => {
    const live = await create({ title: 'Never deleted' });
    const again = await fixture.service.request('POST', `/api/v1/episodes/${live.id}/restore`);
    expect(again.status).toBe(409);
    expect(again.body.errors[0]!.message).toBe(`episode ${live.id} is not deleted`);
    expect((await fixture.service.request('POST', '/api/v1/episodes/ep_20250101_missing000/restore')).status).toBe(404);
    const get = await fixture.service.request('GET', `/api/v1/episodes/${live.id}/restore`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('unique sets', () => {
  it('refuse a second live episode with the same show, season and number, naming the fields', async () => {
    const show = await create({ title: 'Styling Adventures', slug: 'styling-adventures-unique' }, 'shows');
    const first = await create({ title: 'One', show_id: show.id, season: 1, episode_number: 1 });
    const clash = await fixture.service.request('POST', '/api/v1/episodes', {
      body: { title: 'Also one', show_id: show.id, season: 1, episode_number: 1 },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.errors[0]).toMatchObject({
      code: 'CONFLICT',
      message: 'another episode already has the same show_id, season and episode_number',
    });
    // Other seasons, and episodes outside a show, are free.
    await create({ title: 'Season two', show_id: show.id, season: 2, episode_number: 1 });
    await create({ title: 'No show', season: 1, episode_number: 1 });
    await create({ title: 'No show either', season: 1, episode_number: 1 });

    const second = await create({ title: 'Two', show_id: show.id, season: 1, episode_number: 2 });
    const moved = await fixture.service.request('PATCH', `/api/v1/episodes/${second.id}`, {
      body: { episode_number: 1 },
    });
    expect(moved.status).toBe(409);

    // Among live records only: deleting the first frees its number, and restoring it then clashes.
    await fixture.service.request('DELETE', `/api/v1/episodes/${first.id}`);
    const replacement = await create({ title: 'New one', show_id: show.id, season: 1, episode_number: 1 });
    const restore = await fixture.service.request('POST', `/api/v1/episodes/${first.id}/restore`);
    expect(restore.status).toBe(409);
    expect(restore.body.errors[0]!.message).toMatch(/same show_id, season and episode_number/);
    await fixture.service.request('DELETE', `/api/v1/episodes/${replacement.id}?hard=true`);
    expect((await fixture.service.request('POST', `/api/v1/episodes/${first.id}/restore`)).status).toBe(200);
  });
});

describe('enum transitions (approval)', () => {
  const walk = async (
    request: TestService['request'],
    createEpisode: (body: Record<string, unknown>) => Promise<Rec>,
  ) => {
    const episode = await createEpisode({ title: 'For review', approval_status: 'draft' });
    const step = (approval_status: string) =>
      request<Rec>('PATCH', `/api/v1/episodes/${episode.id}`, { body: { approval_status } });
    return { episode, step };
  };

  it('are declared but not enforced by default (seed 8.11): any change goes through and is audited', async () => {
    const { episode, step } = await walk(fixture.service.request, create);
    expect((await step('rejected')).status).toBe(200);
    const skip = await step('approved');
    expect(skip.status, JSON.stringify(skip.body.errors)).toBe(200);
    expect(skip.body.data.approval_status).toBe('approved');
    const history = await fixture.service.request<Rec[]>('GET', `/api/v1/episodes/${episode.id}/history`);
    const changes = history.body.data.filter((entry) => entry.operation === 'update');
    expect(changes).toHaveLength(2);
  });

  it('are enforced where the entity lists the field in enforce_transitions, refusing the rest with the allowed ones', async () => {
    const copy = copyProject();
    const database = await createTestDatabase();
    let local: TestService | undefined;
    try {
      copy.edit('registry/entities/episode.yaml', (t) =>
        t.replace(
          'mixins: [timestamps, soft_delete, approval, thumbnails, categories]\n',
          '$&enforce_transitions: [approval_status]\n',
        ),
      );
      local = await startTestService({ databaseUrl: database.url, ...copy.dirs });
      const { episode, step } = await walk(local.request, (body) => local!.create(body));
      expect((await step('rejected')).status).toBe(200);
      const skip = await step('approved');
      expect(skip.status).toBe(409);
      expect(skip.body.errors[0]).toEqual({
        code: 'INVALID_TRANSITION',
        message: 'approval_status cannot change from "rejected" to "approved"; from "rejected" it can change to: draft',
        field: 'approval_status',
      });
      expect((await local.request<Rec>('GET', `/api/v1/episodes/${episode.id}`)).body.data.approval_status).toBe(
        'rejected',
      );
      expect((await step('draft')).status).toBe(200);
      expect((await step('approved')).status).toBe(200);
      expect((await step('draft')).status).toBe(200);
      // Other fields change freely, and a PATCH that leaves the status alone is no transition.
      const other = await local.request<Rec>('PATCH', `/api/v1/episodes/${episode.id}`, { body: { title: 'Renamed' } });
      expect(other.status).toBe(200);
      expect(other.body.data.approval_status).toBe('draft');
      // Another entity of the same mixin does not enforce them.
      const show = await local.create({ title: 'Show', slug: 'show', approval_status: 'rejected' }, 'shows');
      const direct = await local.request<Rec>('PATCH', `/api/v1/shows/${show.id}`, {
        body: { approval_status: 'approved' },
      });
      expect(direct.status).toBe(200);
    } finally {
      await local?.stop();
      await database.drop();
      copy.remove();
    }
  });

  it('are checked by the registry: values must exist, and only top-level enums have them', async () => {
    const copy = copyProject();
    try {
      copy.edit('registry/mixins/approval.yaml', (t) => t.replace('approved: [draft]', 'approved: [draft, published]'));
      copy.edit('registry/entities/episode.yaml', (t) =>
        t
          .replace('  - [show_id, season, episode_number]', '  - [show_id, season, episode_no]')
          .replace(
            '            values: [dress, separates, suit, jumpsuit, set, other]',
            '            values: [dress, separates, suit, jumpsuit, set, other]\n            transitions: { dress: [suit] }',
          )
          .replace(
            'mixins: [timestamps, soft_delete, approval, thumbnails, categories]\n',
            '$&enforce_transitions: [status, title]\n',
          ),
      );
      const result = await runCli(['codegen', '--check'], copy.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /approval\.yaml: fields\.approval_status\.transitions\.approved: "published" is not one of the values: draft, approved, rejected/,
      );
      expect(result.stderr).toMatch(/episode\.yaml: unique\.0: unknown field "episode_no"/);
      expect(result.stderr).toMatch(
        /episode\.yaml: enforce_transitions\.0: "status" is not a field that declares transitions/,
      );
      expect(result.stderr).toMatch(
        /episode\.yaml: fields\.wardrobe\.fields\.main_outfit\.fields\.outfit_type\.transitions: only top-level enums can declare transitions/,
      );
    } finally {
      copy.remove();
    }
  });
});

describe('sequences (episode numbers within a show and season)', () => {
  it('suggests the next number under the show, and assigns it when a create leaves it out', async () => {
    const show = await create({ title: 'Numbered', slug: 'numbered-show' }, 'shows');
    const next = (query: string) =>
      fixture.service.request<Record<string, unknown>>('GET', `/api/v1/shows/${show.id}/next-episode-number${query}`);
    expect((await next('?season=1')).body.data).toEqual({ show_id: show.id, season: 1, next_episode_number: 1 });

    const first = await create({ title: 'Auto one', show_id: show.id, season: 1 });
    expect(first.episode_number).toBe(1);
    await create({ title: 'Chosen seven', show_id: show.id, season: 1, episode_number: 7 });
    const after = await create({ title: 'Auto eight', show_id: show.id, season: 1 });
    expect(after.episode_number).toBe(8);
    expect((await next('?season=1')).body.data.next_episode_number).toBe(9);
    expect((await next('?season=2')).body.data.next_episode_number).toBe(1);
    // Soft-deleted episodes do not hold on to their numbers.
    await fixture.service.request('DELETE', `/api/v1/episodes/${after.id}`);
    expect((await next('?season=1')).body.data.next_episode_number).toBe(8);
    // Without the whole scope there is nothing to count within, and nothing is assigned.
    expect((await create({ title: 'No season', show_id: show.id })).episode_number).toBeNull();

    // Concurrent creates each get their own number.
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fixture.service.request<Rec>('POST', '/api/v1/episodes', {
          body: { title: `Race ${i}`, show_id: show.id, season: 3 },
        }),
      ),
    );
    expect(many.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(many.map((r) => r.body.data.episode_number as number).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('answers 400 for a missing or bad scope, and 404 for an unknown show', async () => {
    const show = await create({ title: 'Scoped', slug: 'scoped-show' }, 'shows');
    const missing = await fixture.service.request('GET', `/api/v1/shows/${show.id}/next-episode-number`);
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]!.message).toBe('season is required: episode_number counts within show_id, season');
    expect(
      (await fixture.service.request('GET', `/api/v1/shows/${show.id}/next-episode-number?season=two`)).status,
    ).toBe(400);
    expect(
      (await fixture.service.request('GET', `/api/v1/shows/${show.id}/next-episode-number?season=1&colour=red`)).status,
    ).toBe(400);
    expect(
      (await fixture.service.request('GET', '/api/v1/shows/show_20250101_nosuchshow/next-episode-number?season=1'))
        .status,
    ).toBe(404);
  });
});

describe('sub-resources from refs', () => {
  it('list the records that refer to a parent, with the whole query language', async () => {
    const show = await create({ title: 'Parent show', slug: 'parent-show' }, 'shows');
    const other = await create({ title: 'Other show', slug: 'other-show' }, 'shows');
    const a = await create({
      title: 'First look',
      show_id: show.id,
      season: 1,
      status: 'published',
      tags: ['fashion'],
    });
    const b = await create({ title: 'Second look', show_id: show.id, season: 1, status: 'draft' });
    await create({ title: 'Elsewhere', show_id: other.id, season: 1, status: 'published' });

    const all = await fixture.service.request<Rec[]>('GET', `/api/v1/shows/${show.id}/episodes?_sort=episode_number`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((e) => e.id)).toEqual([a.id, b.id]);
    expect(all.body.metadata).toMatchObject({ total: 2 });
    const published = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/shows/${show.id}/episodes?status=published&_fields=title`,
    );
    expect(published.body.data).toEqual([{ id: a.id, title: 'First look' }]);
    const searched = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/shows/${show.id}/episodes?q=look&filter=${encodeURIComponent('{"tags":{"_contains":["fashion"]}}')}`,
    );
    expect(searched.body.data.map((e) => e.id)).toEqual([a.id]);
    // A filter on the ref itself cannot escape the parent.
    expect(
      (await fixture.service.request<Rec[]>('GET', `/api/v1/shows/${show.id}/episodes?show_id=${other.id}`)).body.data,
    ).toEqual([]);

    expect((await fixture.service.request('GET', '/api/v1/shows/show_20250101_nosuchshow/episodes')).status).toBe(404);
    expect((await fixture.service.request('GET', `/api/v1/shows/${show.id}/episodes?colour=red`)).status).toBe(400);
  });
});

describe('on_delete of a ref', () => {
  it('restrict (the default): a show with live episodes cannot be deleted, soft or hard', async () => {
    const show = await create({ title: 'Busy show', slug: 'busy-show' }, 'shows');
    const episodes = [
      await create({ title: 'Busy 1', show_id: show.id }),
      await create({ title: 'Busy 2', show_id: show.id }),
    ];
    const soft = await fixture.service.request('DELETE', `/api/v1/shows/${show.id}`);
    expect(soft.status).toBe(409);
    expect(soft.body.errors[0]!.message).toBe(
      `show ${show.id} still has 2 episodes (show_id); delete or reassign them first`,
    );
    expect((await fixture.service.request('GET', `/api/v1/shows/${show.id}`)).status).toBe(200);
    expect((await fixture.service.request('DELETE', `/api/v1/shows/${show.id}?hard=true`)).status).toBe(409);
    for (const e of episodes) await fixture.service.request('DELETE', `/api/v1/episodes/${e.id}`);
    const done = await fixture.service.request<Rec>('DELETE', `/api/v1/shows/${show.id}`);
    expect(done.status).toBe(200);
    expect(Object.keys(done.body.data).sort()).toEqual(['deleted', 'deleted_at', 'hard', 'id']);
  });

  for (const onDelete of ['cascade', 'set_null'] as const) {
    it(`${onDelete}: declared in YAML, applied to soft deletes by the service and to hard deletes by the foreign key`, async () => {
      const copy = copyProject();
      const database = await createTestDatabase();
      let local: TestService | undefined;
      try {
        copy.edit('registry/entities/episode.yaml', (t) =>
          t.replace('    to: show\n', `    to: show\n    on_delete: ${onDelete}\n`),
        );
        const codegen = await runCli(['codegen'], copy.env);
        expect(codegen.code, codegen.stderr).toBe(0);
        local = await startTestService({
          databaseUrl: database.url,
          ...copy.dirs,
        });
        const post = async (plural: string, body: Record<string, unknown>) =>
          (await local!.request<Rec>('POST', `/api/v1/${plural}`, { body })).body.data;
        const show = await post('shows', { title: 'Ending show', slug: 'ending-show' });
        const a = await post('episodes', { title: 'A', show_id: show.id });
        const b = await post('episodes', { title: 'B', show_id: show.id });
        await local.request('DELETE', `/api/v1/episodes/${b.id}`);

        const deleted = await local.request<Rec>('DELETE', `/api/v1/shows/${show.id}`, {
          headers: { 'X-Actor': 'producer' },
        });
        expect(deleted.status).toBe(200);
        const rows = await database.query<{
          id: string;
          show_id: string | null;
          deleted_by: string | null;
          deleted_reason: string | null;
        }>('SELECT id, show_id, deleted_by, deleted_reason FROM episodes ORDER BY title');
        if (onDelete === 'cascade') {
          expect(deleted.body.data.cascaded).toEqual({ episodes: 1 });
          expect(rows[0]).toEqual({
            id: a.id,
            show_id: show.id,
            deleted_by: 'producer',
            deleted_reason: `deleted with show ${show.id}`,
          });
          expect((await local.request('GET', `/api/v1/episodes/${a.id}`)).status).toBe(404);
        } else {
          expect(deleted.body.data.detached).toEqual({ episodes: 2 });
          expect(rows.map((r) => r.show_id)).toEqual([null, null]);
          expect((await local.request('GET', `/api/v1/episodes/${a.id}`)).status).toBe(200);
        }

        const other = await post('shows', { title: 'Removed show', slug: 'removed-show' });
        const c = await post('episodes', { title: 'C', show_id: other.id });
        expect((await local.request('DELETE', `/api/v1/shows/${other.id}?hard=true`)).status).toBe(200);
        const left = await database.query<{ show_id: string | null }>('SELECT show_id FROM episodes WHERE id = $1', [
          c.id,
        ]);
        expect(left).toEqual(onDelete === 'cascade' ? [] : [{ show_id: null }]);
      } finally {
        await local?.stop();
        await database.drop();
        copy.remove();
      }
    });
  }
});
