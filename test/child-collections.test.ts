// Child collections under their parent, as seed 7.4.1 writes them: POST /episodes/{id}/clips,
// GET|PUT|PATCH|DELETE /episodes/{id}/clips/{clip_id}, the same for components, and for every
// other ref that makes a parent (shows/{id}/episodes, guests/{id}/clips, …). The parent comes
// from the path; a child of another parent is not found under this one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childRelations,
  hasSoftDelete,
  ROLES,
  type EntityDef,
  type Operation,
  type Role,
} from '../src/registry/model.ts';
import { CALLERS, rank, startRoleService, type RoleService } from './support/role-service.ts';
import { writableUnder } from '../src/api/child-routes.ts';
import { useServiceForFile } from './support/file-service.ts';
import { appendixC, shippedModel } from './support/fixtures.ts';
import { putMediaOf } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
const api = <T = Rec>(method: string, path: string, body?: unknown) =>
  fixture.service.request<T>(method, `/api/v1${path}`, body === undefined ? {} : { body });

let episode: Rec;
let other: Rec;
beforeAll(async () => {
  episode = await fixture.create({ title: 'New Year Style Reset' });
  other = await fixture.create({ title: 'Spring Closet Edit' });
});

describe('clips under an episode', () => {
  it('are created, read, replaced, patched and deleted under it (Appendix C)', async () => {
    const body = appendixC('clip-lala');
    await putMediaOf(body);
    delete body.episode_id;
    const created = await api('POST', `/episodes/${episode.id}/clips`, body);
    expect(created.status, JSON.stringify(created.body.errors)).toBe(201);
    const clip = created.body.data;
    expect(clip).toMatchObject({ episode_id: episode.id, talent_source: 'Lala' });
    expect(created.headers.get('location')).toBe(`/api/v1/episodes/${episode.id}/clips/${clip.id}`);

    // The clip's thumbnail job may update it between two reads: compare the nested and the
    // top-level read of one version (same ETag).
    let read = await api('GET', `/episodes/${episode.id}/clips/${clip.id}`);
    let direct = await api('GET', `/clips/${clip.id}`);
    for (let tries = 0; read.headers.get('etag') !== direct.headers.get('etag') && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      read = await api('GET', `/episodes/${episode.id}/clips/${clip.id}`);
      direct = await api('GET', `/clips/${clip.id}`);
    }
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBeTruthy();
    expect(read.body.data).toEqual(direct.body.data);

    // PUT without episode_id keeps the parent from the path (a replace would otherwise clear it).
    const replaced = await api('PUT', `/episodes/${episode.id}/clips/${clip.id}`, { ...body, take_number: 3 });
    expect(replaced.status, JSON.stringify(replaced.body.errors)).toBe(200);
    expect(replaced.body.data).toMatchObject({ episode_id: episode.id, take_number: 3 });

    const patched = await api('PATCH', `/episodes/${episode.id}/clips/${clip.id}`, { status: 'used' });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ episode_id: episode.id, status: 'used', take_number: 3 });

    const list = await api<Rec[]>('GET', `/episodes/${episode.id}/clips?status=used&_fields=id,status`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([{ id: clip.id, status: 'used' }]);

    const deleted = await api('DELETE', `/episodes/${episode.id}/clips/${clip.id}?reason=wrong+take`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toMatchObject({ id: clip.id, deleted: true, hard: false });
    expect((await api('GET', `/episodes/${episode.id}/clips/${clip.id}`)).status).toBe(404);
    expect((await api('GET', `/clips/${clip.id}?include_deleted=true`)).body.data.deleted_reason).toBe('wrong take');
  });

  it('refuse a body naming another episode, and answer 404 for a clip of another episode', async () => {
    const body = appendixC('clip-guest');
    await putMediaOf(body);
    const moved = await api('POST', `/episodes/${episode.id}/clips`, { ...body, episode_id: other.id });
    expect(moved.status).toBe(422);
    expect(moved.body.errors[0]).toMatchObject({ field: 'episode_id' });

    const theirs = await api('POST', `/episodes/${other.id}/clips`, { ...body, episode_id: other.id });
    expect(theirs.status, JSON.stringify(theirs.body.errors)).toBe(201);
    const id = theirs.body.data.id as string;
    for (const [method, payload] of [
      ['GET', undefined],
      ['PUT', body],
      ['PATCH', { status: 'approved' }],
      ['DELETE', undefined],
    ] as const) {
      const reply = await api(method, `/episodes/${episode.id}/clips/${id}`, payload);
      expect(reply.status, `${method}: ${JSON.stringify(reply.body)}`).toBe(404);
    }
    // Nothing was written through the wrong parent.
    const after = (await api('GET', `/clips/${id}`)).body.data;
    expect(after).toMatchObject({ episode_id: other.id, deleted_at: null });
    expect(after.status).toBe(theirs.body.data.status);

    const patchMove = await api('PATCH', `/episodes/${other.id}/clips/${id}`, { episode_id: null });
    expect(patchMove.status).toBe(422);
    expect((await api('POST', '/episodes/ep_20250101_missing000/clips', body)).status).toBe(404);
  });
});

describe('components under an episode', () => {
  it('are created, read, patched and deleted under it', async () => {
    const { episode_id: _elsewhere, ...body } = appendixC('component-audio');
    const created = await api('POST', `/episodes/${episode.id}/components`, body);
    expect(created.status, JSON.stringify(created.body.errors)).toBe(201);
    const id = created.body.data.id as string;
    expect(created.body.data.episode_id).toBe(episode.id);
    expect((await api('GET', `/episodes/${episode.id}/components/${id}`)).status).toBe(200);
    expect((await api('GET', `/episodes/${other.id}/components/${id}`)).status).toBe(404);
    const patched = await api('PATCH', `/episodes/${episode.id}/components/${id}`, { status: 'ready' });
    expect(patched.body.data).toMatchObject({ status: 'ready', episode_id: episode.id });
    expect((await api('DELETE', `/episodes/${other.id}/components/${id}`)).status).toBe(404);
    expect((await api('DELETE', `/episodes/${episode.id}/components/${id}`)).status).toBe(200);
    expect((await api<Rec[]>('GET', `/episodes/${episode.id}/components`)).body.data).toEqual([]);
  });
});

const methodsOf = (path: Record<string, unknown> | undefined) =>
  Object.keys(path ?? {})
    .filter((key) => key !== 'parameters')
    .sort();

describe('every parent a ref makes', () => {
  const model = shippedModel();
  const relations = model.entities.flatMap((entity) =>
    childRelations(model, entity)
      .filter((relation) => writableUnder(entity, relation))
      .map((relation) => ({ entity, relation })),
  );

  it('has its child collection routes in the OpenAPI document', async () => {
    expect(relations.map((r) => `${r.relation.parent.route}/${r.entity.route}`)).toEqual(
      expect.arrayContaining(['episodes/clips', 'episodes/components', 'shows/episodes', 'guests/clips']),
    );
    const paths = (await fixture.service.request<never>('GET', '/openapi.json')).body as unknown as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const { entity, relation } of relations) {
      const collection = `/api/v1/${relation.parent.route}/{id}/${entity.route}`;
      const item = `${collection}/{${entity.name}_id}`;
      expect(methodsOf(paths.paths[collection]), collection).toEqual(['get', 'post']);
      expect(methodsOf(paths.paths[item]), item).toEqual(['delete', 'get', 'patch', 'put']);
    }
  });

  it('answers 404 under a missing parent and for an id the child could never have, on every route', async () => {
    for (const { entity, relation } of relations) {
      const base = `/${relation.parent.route}/${relation.parent.idPrefix}_20250101_missing000/${entity.route}`;
      expect((await api('POST', base, {})).status, `POST ${base}`).toBe(404);
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
        const path = `${base}/${entity.idPrefix}_20250101_missing000`;
        expect(
          (await api(method, path, method === 'PUT' || method === 'PATCH' ? {} : undefined)).status,
          `${method} ${path}`,
        ).toBe(404);
      }
    }
  });
});

describe('child collection routes, for every role', () => {
  // Raised roles, so that the parent's read and each of the child's operations is refused for someone.
  const PERMISSIONS = {
    show: { read: 'editor' },
    episode: { read: 'editor', create: 'admin', update: 'admin', delete: 'admin' },
    clip: { read: 'editor', create: 'admin', update: 'admin', delete: 'admin', hard_delete: 'admin' },
    component: { create: 'editor', update: 'editor', delete: 'admin' },
    guest: { read: 'admin' },
  } as const satisfies Record<string, Partial<Record<Operation, Role>>>;
  let roles: RoleService | undefined;
  beforeAll(async () => {
    roles = await startRoleService({ permissions: PERMISSIONS });
  }, 120_000);
  afterAll(async () => roles?.stop());

  it('check read on the parent and the operation on the child before anything else', async () => {
    const { model, service, tokens } = roles!;
    const cases: { method: string; suffix: string; operation: Operation; item: boolean }[] = [
      { method: 'POST', suffix: '', operation: 'create', item: false },
      { method: 'GET', suffix: '', operation: 'read', item: true },
      { method: 'PUT', suffix: '', operation: 'update', item: true },
      { method: 'PATCH', suffix: '', operation: 'update', item: true },
      { method: 'DELETE', suffix: '', operation: 'delete', item: true },
      { method: 'DELETE', suffix: '?hard=true', operation: 'hard_delete', item: true },
    ];
    let checked = 0;
    for (const entity of model.entities) {
      for (const relation of childRelations(model, entity).filter((r) => writableUnder(entity, r))) {
        for (const { method, suffix, operation, item } of cases) {
          // Without soft delete every delete is hard, and `hard` is not a parameter.
          if (operation === 'hard_delete' && !hasSoftDelete(entity)) continue;
          const base = `/api/v1/${relation.parent.route}/${relation.parent.idPrefix}_20250101_missing000/${entity.route}`;
          const url = `${item ? `${base}/${entity.idPrefix}_20250101_missing000` : base}${suffix}`;
          const needs: [EntityDef, Operation][] = [
            [relation.parent, 'read'],
            [entity, operation === 'hard_delete' ? 'delete' : operation],
            ...(operation === 'hard_delete' ? [[entity, 'hard_delete'] as [EntityDef, Operation]] : []),
          ];
          for (const caller of CALLERS) {
            const reply = await service.request(method, url, {
              token: tokens.get(caller),
              ...(method === 'PUT' || method === 'POST' || method === 'PATCH' ? { body: {} } : {}),
            });
            const refused = needs.find(([e, op]) => rank(caller) < ROLES.indexOf(e.permissions[op]));
            expect(reply.status, `${caller} ${method} ${url}`).toBe(refused ? 403 : 404);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6 * 6 * CALLERS.length);
  });
});
