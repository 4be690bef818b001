// Soft-delete cascades that go all the way down, and restores that bring back what a delete took,
// on a registry with deeper chains than the production one (all declared in YAML):
//   show ─cascade→ episode ─cascade→ component ─cascade→ component (parent_id, a self-ref)
//   episode ─cascade→ note, component ─restrict→ note, component ─set_null→ note, episode ─set_null→ clip,
//   component ─cascade→ episode (cover_component_id), which closes a cycle with component.episode_id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import type { Rec } from './support/service.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { startTestService, type TestService } from './support/service.ts';
import { putMediaOf } from './support/s3.ts';

const NOTE = `name: note
plural: notes
id_prefix: note
schema_version: 1
mixins: [timestamps, soft_delete]
fields:
  text: { type: string, required: true }
  component_id: { type: ref, to: component }
  episode_id: { type: ref, to: episode, on_delete: cascade }
  reviewed_component_id: { type: ref, to: component, on_delete: set_null }
`;

let copy: ProjectCopy;
let db: TestDatabase;
let service: TestService;

beforeAll(async () => {
  copy = copyProject();
  db = await createTestDatabase();
  copy.edit('registry/registry.yaml', (t) =>
    t.replace('entities: [show, episode, component,', 'entities: [show, episode, component, note,'),
  );
  copy.write('registry/entities/note.yaml', NOTE);
  copy.edit(
    'registry/entities/episode.yaml',
    (t) =>
      `${t.replace('    to: show\n', '    to: show\n    on_delete: cascade\n').trimEnd()}\n  cover_component_id: { type: ref, to: component, on_delete: cascade }\n`,
  );
  copy.edit(
    'registry/entities/component.yaml',
    (t) => `${t.trimEnd()}\n  parent_id: { type: ref, to: component, on_delete: cascade }\n`,
  );
  const codegen = await runCli(['codegen'], copy.env);
  expect(codegen.code, codegen.stderr).toBe(0);
  service = await startTestService({
    databaseUrl: db.url,
    ...copy.dirs,
  });
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
  copy?.remove();
});

async function post(plural: string, body: Record<string, unknown>): Promise<Rec> {
  await putMediaOf(body);
  return service.create(body, plural);
}
const component = (fields: Record<string, unknown>) =>
  post('components', { type: 'audio', file_reference: 's3://bucket/c.wav', ...fields });

interface Row {
  id: string;
  deleted: boolean;
  deleted_by: string | null;
  deleted_reason: string | null;
  restored_by: string | null;
}
/** How the rows with these ids stand now, whatever their table. */
async function rows(...ids: string[]): Promise<Record<string, Row>> {
  const tables = ['shows', 'episodes', 'components', 'notes', 'clips'];
  const union = tables
    .map((t) => `SELECT id, deleted_at IS NOT NULL AS deleted, deleted_by, deleted_reason, restored_by FROM ${t}`)
    .join(' UNION ALL ');
  const found = await db.query<Row>(`SELECT * FROM (${union}) AS everything WHERE id = ANY($1)`, [ids]);
  return Object.fromEntries(found.map((r) => [r.id, r]));
}

describe('a soft delete', () => {
  it('cascades through every level, applies restrict and set_null on the way, and a restore brings back exactly what it took', async () => {
    const show = await post('shows', { title: 'Deep show' });
    const otherShow = await post('shows', { title: 'Other show' });
    const e1 = await post('episodes', { title: 'E1', show_id: show.id, season: 1, episode_number: 1 });
    const e2 = await post('episodes', { title: 'E2', show_id: show.id, season: 1, episode_number: 2 });
    const e3 = await post('episodes', { title: 'E3', show_id: otherShow.id });
    const c1 = await component({ episode_id: e1.id });
    const c2 = await component({ episode_id: e1.id });
    const c3 = await component({ episode_id: e2.id });
    const child = await component({ episode_id: e3.id, parent_id: c1.id }); // in another show, but a part of c1
    const earlier = await component({ episode_id: e1.id });
    await service.request('DELETE', `/api/v1/components/${earlier.id}?reason=dup`);
    // Refers to c3 with restrict, but goes with e1: deleted by the same cascade, it does not block.
    // Its set_null ref to c1 is kept: the two go, and come back, together.
    const note = await post('notes', {
      text: 'check levels',
      episode_id: e1.id,
      component_id: c3.id,
      reviewed_component_id: c1.id,
    });
    const liveNote = await post('notes', { text: 'stays', episode_id: e3.id, reviewed_component_id: c2.id });
    const clip = await post('clips', {
      talent_source: 'Lala',
      file_reference: 's3://bucket/k1.mov',
      episode_id: e1.id,
    });

    const moved = await post('clips', {
      talent_source: 'Lala',
      file_reference: 's3://bucket/k1.mov',
      episode_id: e1.id,
    });

    const deleted = await service.request<Rec>('DELETE', `/api/v1/shows/${show.id}?reason=cancelled`, {
      headers: { 'X-Actor': 'producer' },
    });
    expect(deleted.status, JSON.stringify(deleted.body.errors)).toBe(200);
    expect(deleted.body.data).toMatchObject({
      cascaded: { episodes: 2, components: 4, notes: 1 },
      detached: { clips: 2, notes: 1 },
    });
    const noteRefs = await db.query<{ id: string; reviewed_component_id: string | null }>(
      'SELECT id, reviewed_component_id FROM notes WHERE id = ANY($1) ORDER BY text',
      [[note.id, liveNote.id]],
    );
    expect(noteRefs).toEqual([
      { id: note.id, reviewed_component_id: c1.id },
      { id: liveNote.id, reviewed_component_id: null },
    ]);

    const after = await rows(show.id, e1.id, e2.id, e3.id, c1.id, c2.id, c3.id, child.id, earlier.id, note.id);
    expect(after[show.id]).toMatchObject({ deleted: true, deleted_by: 'producer', deleted_reason: 'cancelled' });
    expect(after[e1.id]).toMatchObject({
      deleted: true,
      deleted_by: 'producer',
      deleted_reason: `deleted with show ${show.id}`,
    });
    expect(after[e2.id]!.deleted_reason).toBe(`deleted with show ${show.id}`);
    expect(after[c1.id]!.deleted_reason).toBe(`deleted with episode ${e1.id}`);
    expect(after[c3.id]!.deleted_reason).toBe(`deleted with episode ${e2.id}`);
    expect(after[child.id]).toMatchObject({ deleted: true, deleted_reason: `deleted with component ${c1.id}` });
    expect(after[note.id]!.deleted_reason).toBe(`deleted with episode ${e1.id}`);
    expect(after[earlier.id]).toMatchObject({ deleted: true, deleted_reason: 'dup' });
    expect(after[e3.id]!.deleted).toBe(false);
    expect((await service.request<Rec>('GET', `/api/v1/clips/${clip.id}`)).body.data.episode_id).toBeNull();
    // Given another episode while the show was deleted: a restore leaves it there.
    await service.request('PATCH', `/api/v1/clips/${moved.id}`, { body: { episode_id: e3.id } });

    const restored = await service.request<Rec>('POST', `/api/v1/shows/${show.id}/restore`, {
      headers: { 'X-Actor': 'editor' },
    });
    expect(restored.status, JSON.stringify(restored.body.errors)).toBe(200);
    expect(restored.body.data).toMatchObject({ id: show.id, deleted_at: null });
    expect(restored.body.metadata.restored).toEqual({ episodes: 2, components: 4, notes: 1 });
    // What the delete detached (on_delete: set_null) is attached again, except what moved since.
    expect(restored.body.metadata.reattached).toEqual({ clips: 1, notes: 1 });
    const back = await rows(show.id, e1.id, e2.id, c1.id, c2.id, c3.id, child.id, note.id, earlier.id);
    for (const id of [show.id, e1.id, e2.id, c1.id, c2.id, c3.id, child.id, note.id]) {
      expect(back[id], id).toMatchObject({
        deleted: false,
        deleted_reason: null,
        deleted_by: null,
        restored_by: 'editor',
      });
    }
    // Deleted before, for its own reason: stays deleted.
    expect(back[earlier.id]).toMatchObject({ deleted: true, deleted_reason: 'dup', restored_by: null });
    expect((await service.request<Rec>('GET', `/api/v1/clips/${clip.id}`)).body.data.episode_id).toBe(e1.id);
    expect((await service.request<Rec>('GET', `/api/v1/clips/${moved.id}`)).body.data.episode_id).toBe(e3.id);
    expect((await service.request<Rec>('GET', `/api/v1/notes/${liveNote.id}`)).body.data.reviewed_component_id).toBe(
      c2.id,
    );
    const history = await service.request<Rec[]>('GET', `/api/v1/shows/${show.id}/history`);
    expect(history.body.data.find((entry) => entry.operation === 'restore')?.details).toMatchObject({
      reattached: { clips: 1, notes: 1 },
    });
    expect((await service.request<Rec>('GET', `/api/v1/notes/${note.id}`)).body.data.reviewed_component_id).toBe(c1.id);
  });

  it('is refused with a 409 naming the chain when a live record restricts one several levels down, and then changes nothing', async () => {
    const show = await post('shows', { title: 'Blocked show' });
    const elsewhere = await post('episodes', { title: 'Elsewhere' });
    const episode = await post('episodes', { title: 'E4', show_id: show.id });
    const comp = await component({ episode_id: episode.id });
    const blocker = await post('notes', { text: 'keep', episode_id: elsewhere.id, component_id: comp.id });

    const message = `show ${show.id} cascades to episode ${episode.id} → component ${comp.id} (on_delete: cascade), which still has 1 notes (component_id); delete or reassign them first`;
    const refused = await service.request('DELETE', `/api/v1/shows/${show.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toEqual([{ code: 'CONFLICT', message, field: null }]);
    const untouched = await rows(show.id, episode.id, comp.id);
    expect(Object.values(untouched).map((r) => r.deleted)).toEqual([false, false, false]);

    // The same from a batch item, and from an atomic batch as a whole.
    const batch = await service.request<Rec[]>('POST', '/api/v1/shows/batch', {
      body: { operations: [{ op: 'delete', id: show.id }] },
    });
    expect(batch.body.data[0]).toMatchObject({ status: 409, errors: [{ message }] });

    // Directly under the root the message is the one-level one.
    const direct = await service.request('DELETE', `/api/v1/components/${comp.id}`);
    expect(direct.body.errors[0]!.message).toBe(
      `component ${comp.id} still has 1 notes (component_id); delete or reassign them first`,
    );

    await service.request('DELETE', `/api/v1/notes/${blocker.id}`);
    const done = await service.request<Rec>('DELETE', `/api/v1/shows/${show.id}`);
    expect(done.status).toBe(200);
    expect(done.body.data.cascaded).toEqual({ episodes: 1, components: 1 });
  });

  it('follows a cycle of refs once around, and the restore follows it back', async () => {
    // e5 ↔ c5: the component belongs to the episode, and is the episode's cover.
    const e5 = await post('episodes', { title: 'E5' });
    const c5 = await component({ episode_id: e5.id });
    expect(
      (await service.request('PATCH', `/api/v1/episodes/${e5.id}`, { body: { cover_component_id: c5.id } })).status,
    ).toBe(200);
    const e6 = await post('episodes', { title: 'E6', cover_component_id: c5.id });
    const c6 = await component({ episode_id: e6.id });

    const deleted = await service.request<Rec>('DELETE', `/api/v1/episodes/${e5.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.cascaded).toEqual({ components: 2, episodes: 1 });
    const gone = await rows(e5.id, c5.id, e6.id, c6.id);
    expect(gone[c5.id]!.deleted_reason).toBe(`deleted with episode ${e5.id}`);
    expect(gone[e6.id]!.deleted_reason).toBe(`deleted with component ${c5.id}`);
    expect(gone[c6.id]!.deleted_reason).toBe(`deleted with episode ${e6.id}`);

    const restored = await service.request<Rec>('POST', `/api/v1/episodes/${e5.id}/restore`);
    expect(restored.body.metadata.restored).toEqual({ components: 2, episodes: 1 });
    expect(Object.values(await rows(e5.id, c5.id, e6.id, c6.id)).every((r) => !r.deleted)).toBe(true);

    // Entering the cycle at the component takes both episodes.
    const again = await service.request<Rec>('DELETE', `/api/v1/components/${c5.id}`);
    expect(again.body.data.cascaded).toEqual({ episodes: 2, components: 1 });
    expect((await service.request<Rec>('POST', `/api/v1/components/${c5.id}/restore`)).body.metadata.restored).toEqual({
      episodes: 2,
      components: 1,
    });
    expect(Object.values(await rows(e5.id, c5.id, e6.id, c6.id)).every((r) => !r.deleted)).toBe(true);
  });
});

describe('a restore', () => {
  it('is all or nothing: a unique set taken meanwhile by a record it would bring back refuses the whole restore', async () => {
    const show = await post('shows', { title: 'Renumbered show' });
    const episode = await post('episodes', { title: 'First', show_id: show.id, season: 1, episode_number: 1 });
    const comp = await component({ episode_id: episode.id });
    await service.request('DELETE', `/api/v1/shows/${show.id}`);
    const taker = await post('episodes', { title: 'Took its number', show_id: show.id, season: 1, episode_number: 1 });

    const refused = await service.request('POST', `/api/v1/shows/${show.id}/restore`);
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0]!.message).toBe(
      'another episode already has the same show_id, season and episode_number',
    );
    expect(Object.values(await rows(show.id, episode.id, comp.id)).map((r) => r.deleted)).toEqual([true, true, true]);

    await service.request('DELETE', `/api/v1/episodes/${taker.id}?hard=true`);
    const restored = await service.request<Rec>('POST', `/api/v1/shows/${show.id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.metadata.restored).toEqual({ episodes: 1, components: 1 });
  });
});
