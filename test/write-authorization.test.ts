// Writes need the caller's permission on every entity they touch (issue 13 §1, the write side),
// not only on the route's own: read on the target of every ref or refs value a write sets (a
// linked id answers 409 when missing and ties records together), create on the records server
// rules make (the library mirror, the wardrobe's outfits and items, a clip's guest), read on the
// records rules look up, and delete / update / restore / hard_delete on every entity a cascade
// reaches. A refusal is a 403 naming the entity and nothing is written.
//
// Run against a real service with real Cognito-style tokens over a registry copy whose related
// entities have raised roles, and a show → episode cascade on top of the shipped ones. The cases
// are enumerated from the compiled model (every role × every writable ref/refs field × create and
// patch; every cascade scenario × delete, restore, hard delete) and the expected answer is worked
// out here from the model's permissions, not from the code under test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from './support/database.ts';
import { CALLERS, rank, startRoleService, type Caller, type RoleService } from './support/role-service.ts';
import { DOING } from '../src/api/authorization.ts';
import type { Reply, TestService } from './support/service.ts';
import { ROLES, type EntityDef, type FieldDef, type Model, type Operation, type Role } from '../src/registry/model.ts';
import { putTestObjects } from './support/s3.ts';
import type { Rec } from './support/service.ts';

/** Roles raised (or lowered) in the copy, so that each kind of touch is refused for some role. */
const PERMISSIONS: Readonly<Record<string, Partial<Record<Operation, Role>>>> = {
  show: { read: 'editor', delete: 'viewer', restore: 'viewer', hard_delete: 'editor' },
  episode: { read: 'editor' },
  component: { create: 'viewer', update: 'viewer', delete: 'admin', restore: 'admin' },
  clip: { create: 'viewer', update: 'admin', delete: 'admin' },
  guest: { read: 'admin' },
  outfit: { read: 'editor', create: 'admin' },
  wardrobe_item: { read: 'editor', create: 'admin' },
  ui_element: { create: 'admin' },
  background: { create: 'admin' },
  script: { read: 'admin' },
  script_version: { delete: 'admin', restore: 'admin' },
};

let roles: RoleService;
let db: TestDatabase;
let service: TestService;
let model: Model;
let tokens: ReadonlyMap<Caller, string>;

beforeAll(async () => {
  await putTestObjects([CLIP_FILE]);
  roles = await startRoleService({
    permissions: PERMISSIONS,
    // A deeper chain than the shipped registry: deleting a show deletes its episodes, and theirs.
    edit: (copy) =>
      copy.edit('registry/entities/episode.yaml', (text) =>
        text.replace('    to: show\n', '    to: show\n    on_delete: cascade\n'),
      ),
    codegen: true,
    // Refusals are checked by comparing whole tables before and after: no thumbnail job may write
    // in the background meanwhile (writes still queue theirs; nobody runs them here).
    jobWorker: false,
  });
  ({ db, service, model, tokens } = roles);
});

afterAll(async () => {
  await roles?.stop();
});

const as = <T = Rec>(caller: Caller, method: string, path: string, body?: unknown): Promise<Reply<T>> =>
  service.request<T>(method, path, {
    token: tokens.get(caller)!,
    ...(body === undefined ? {} : { body }),
  });

const entity = (name: string): EntityDef => model.entities.find((e) => e.name === name)!;
const route = (name: string) => `/api/v1/${entity(name).route}`;
let serial = 0;
const unique = (what: string) => `${what}-${process.pid}-${++serial}`;

const CLIP_FILE = 's3://bucket/write-authorization/take.mov';

/** What a record of each entity needs besides its required refs (test data, one line each). */
const BASE: Readonly<Record<string, () => Record<string, unknown>>> = {
  show: () => ({ title: unique('Show') }),
  episode: () => ({ title: unique('Episode') }),
  component: () => ({ type: 'audio', file_reference: `s3://bucket/${unique('c')}.wav` }),
  // One footage file for every clip: it is put in S3 before the tests (media/verify-writes.ts).
  clip: () => ({ talent_source: 'Lala', file_reference: CLIP_FILE }),
  guest: () => ({ name: unique('Guest') }),
  outfit: () => ({ name: unique('Outfit') }),
  wardrobe_item: () => ({ item_type: 'shoes', brand: unique('Brand') }),
  ui_element: () => ({ name: unique('UI'), file_reference: `s3://bucket/${unique('ui')}.png` }),
  background: () => ({ name: unique('BG'), file_reference: `s3://bucket/${unique('bg')}.png` }),
  script: () => ({}),
  script_version: () => ({ text: 'INT. STUDIO - DAY' }),
};

/** A body for a new record of `name`: its base fields and a fresh target for each required ref. */
async function bodyOf(name: string): Promise<Record<string, unknown>> {
  const base = BASE[name];
  if (!base) throw new Error(`no test data for ${name}: add it to BASE`);
  const body = base();
  for (const field of entity(name).fields)
    if (field.type === 'ref' && field.required) body[field.name] = await fresh(field.to!);
  return body;
}

/** A new live record of `name`, created by an admin; its id. */
async function fresh(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await as('admin', 'POST', route(name), { ...(await bodyOf(name)), ...extra });
  expect(reply.status, `${name}: ${JSON.stringify(reply.body.errors)}`).toBe(201);
  return reply.body.data.id;
}

/** The value that links `id` through a ref or refs field. */
const linkTo = (field: FieldDef, id: string): unknown =>
  field.type === 'ref' ? id : [field.role ? { id, role: field.role.values?.[0] ?? 'Lala' } : id];

/** Every row of every table the model writes (records, links, audit entries), hashed per table. */
async function snapshot(): Promise<Record<string, string>> {
  const tables = [
    ...model.entities.flatMap((e) => [e.table, ...e.fields.filter((f) => f.junction).map((f) => f.junction!)]),
    'audit_entries',
  ];
  const parts = tables.map(
    (t) => `'${t}', (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM "${t}" x)`,
  );
  const [row] = await db.query<{ tables: Record<string, string> }>(
    `SELECT json_build_object(${parts.join(', ')}) AS tables`,
  );
  return row!.tables;
}

/** One permission a write needs: `operation` on `entity`, for the record's own `field` when it is a link. */
interface Need {
  readonly entity: EntityDef;
  readonly operation: Operation;
  readonly field?: string;
}
const need = (name: string, operation: Operation, field?: string): Need => ({
  entity: entity(name),
  operation,
  ...(field ? { field } : {}),
});
const lacks = (caller: Caller, n: Need) => rank(caller) < ROLES.indexOf(n.entity.permissions[n.operation]);

/**
 * The write answers `allowed` when the caller holds every need; otherwise 403 FORBIDDEN naming a
 * lacking one (the first in `needs` when `ordered`), and nothing at all is written.
 */
async function expectWrite(
  caller: Caller,
  needs: readonly Need[],
  write: () => Promise<Reply<unknown>>,
  allowed: number,
  where: string,
  ordered = true,
): Promise<Reply<unknown>> {
  const before = await snapshot();
  const answer = await write();
  const lacking = needs.filter((n) => lacks(caller, n));
  const detail = `${where} as ${caller}: ${answer.status} ${JSON.stringify(answer.body?.errors)}`;
  if (lacking.length === 0) {
    expect(answer.status, detail).toBe(allowed);
    expect(await snapshot(), `${detail}: something was written`).not.toEqual(before);
    return answer;
  }
  expect(answer.status, detail).toBe(403);
  const error = answer.body.errors[0]!;
  expect(error.code, detail).toBe('FORBIDDEN');
  const named = (n: Need) =>
    error.message.includes(
      `${DOING[n.operation]} ${n.entity.plural} needs the ${n.entity.permissions[n.operation]} role`,
    ) &&
    (n.field === undefined ||
      (error.field === n.field && error.message.startsWith(`${n.field} links ${n.entity.plural}: `)));
  if (ordered)
    expect(named(lacking[0]!), `${detail}: expected ${DOING[lacking[0]!.operation]} ${lacking[0]!.entity.plural}`).toBe(
      true,
    );
  else expect(lacking.some(named), detail).toBe(true);
  expect(await snapshot(), `${detail}: a refused write changed the database`).toEqual(before);
  return answer;
}

/** Every ref and refs field a client writes, by entity. */
const writableLinks = () =>
  model.entities.flatMap((e) =>
    e.fields
      .filter((f) => (f.type === 'ref' || f.type === 'refs') && !f.readOnly)
      .map((field) => ({ owner: e, field })),
  );

describe('links a write sets', () => {
  it('the copy refuses links for some roles and allows them for others, on creates and patches', () => {
    const links = writableLinks();
    expect(links.length).toBeGreaterThanOrEqual(8);
    // Some role may write the record but not read what the field links to.
    const refusedFor = (op: Operation) =>
      links.filter(({ owner, field }) =>
        ROLES.some(
          (r) =>
            rank(r) >= ROLES.indexOf(owner.permissions[op]) &&
            rank(r) < ROLES.indexOf(entity(field.to!).permissions.read),
        ),
      );
    expect(refusedFor('create').length).toBeGreaterThanOrEqual(3);
    expect(refusedFor('update').length).toBeGreaterThanOrEqual(2);
    expect(links.some(({ field }) => field.type === 'refs')).toBe(true);
  });

  it('need read on the linked entity: every role × every ref/refs field × create and patch', async () => {
    /** Refusals that named the swept field's link (not the route's own permission). */
    const linkRefusals = { create: 0, patch: 0 };
    const byLink = (reply: Reply<unknown>, field: FieldDef) =>
      reply.status === 403 && reply.body.errors[0]?.field === field.name;
    for (const { owner, field } of writableLinks()) {
      // Refs set besides the swept one (required ones) are links too, in field order.
      for (const caller of CALLERS) {
        const body = { ...(await bodyOf(owner.name)), [field.name]: linkTo(field, await fresh(field.to!)) };
        const links = owner.fields
          .filter((f) => (f.type === 'ref' || f.type === 'refs') && body[f.name] !== undefined)
          .map((f) => need(f.to!, 'read', f.name));
        const created = await expectWrite(
          caller,
          [need(owner.name, 'create'), ...links],
          () => as(caller, 'POST', route(owner.name), body),
          201,
          `POST ${owner.plural} ${field.name}`,
        );
        if (byLink(created, field)) linkRefusals.create += 1;

        const id = await fresh(owner.name);
        const patch = { [field.name]: linkTo(field, await fresh(field.to!)) };
        const patched = await expectWrite(
          caller,
          [need(owner.name, 'update'), need(field.to!, 'read', field.name)],
          () => as(caller, 'PATCH', `${route(owner.name)}/${id}`, patch),
          200,
          `PATCH ${owner.plural} ${field.name}`,
        );
        if (byLink(patched, field)) linkRefusals.patch += 1;
      }
    }
    expect(linkRefusals.create).toBeGreaterThanOrEqual(3);
    expect(linkRefusals.patch).toBeGreaterThanOrEqual(2);
  });

  it('are not checked for fields a patch leaves alone, nor for links the record already has', async () => {
    const episode = await fresh('episode');
    const component = await fresh('component', { episode_id: episode });
    // Viewers may update components but not read episodes: a patch of other fields passes.
    await expectWrite(
      'viewer',
      [need('component', 'update')],
      () => as('viewer', 'PATCH', `${route('component')}/${component}`, { notes: 'checked' }),
      200,
      'PATCH notes',
    );
    // Sending the link it already has links nothing new.
    await expectWrite(
      'viewer',
      [need('component', 'update')],
      () => as('viewer', 'PATCH', `${route('component')}/${component}`, { episode_id: episode, notes: 'again' }),
      200,
      'PATCH same link',
    );
    // Clearing it links nothing either; setting another one does.
    await expectWrite(
      'viewer',
      [need('component', 'update')],
      () => as('viewer', 'PATCH', `${route('component')}/${component}`, { episode_id: null }),
      200,
      'PATCH clear',
    );
    await expectWrite(
      'viewer',
      [need('component', 'update'), need('episode', 'read', 'episode_id')],
      () => as('viewer', 'PATCH', `${route('component')}/${component}`, { episode_id: episode }),
      200,
      'PATCH relink',
    );
  });

  it('answer the same 403 for an id that does not exist, so a refusal is no existence oracle', async () => {
    const missing = await as('editor', 'POST', route('clip'), { ...BASE.clip!(), guest_id: 'guest_doesnotexist' });
    const existing = await as('editor', 'POST', route('clip'), { ...BASE.clip!(), guest_id: await fresh('guest') });
    expect(missing.status).toBe(403);
    expect(missing.body.errors).toEqual(existing.body.errors);
    expect(missing.body.errors[0]).toMatchObject({
      code: 'FORBIDDEN',
      field: 'guest_id',
      message: 'guest_id links guests: reading guests needs the admin role; your roles: editor',
    });
    // Allowed to read guests, the missing id is the usual 409.
    expect((await as('admin', 'POST', route('clip'), { ...BASE.clip!(), guest_id: 'guest_doesnotexist' })).status).toBe(
      409,
    );
  });
});

describe('records server rules write in other entities', () => {
  const wardrobe = () => ({
    main_outfit: { outfit_type: 'separates', top: { style: 'silk blouse', brand: unique('Top') } },
    shoes: { style: 'pumps', brand: unique('Shoes') },
  });
  const wardrobeNeeds = () => [
    need('wardrobe_item', 'read'),
    need('wardrobe_item', 'create'),
    need('outfit', 'read'),
    need('outfit', 'create'),
    need('outfit', 'read', 'outfits'),
  ];

  it('a wardrobe with new items needs create on wardrobe items and outfits: POST, PATCH and PUT of the view', async () => {
    for (const caller of CALLERS) {
      const body = { ...BASE.episode!(), wardrobe: wardrobe() };
      const created = await expectWrite(
        caller,
        [need('episode', 'create'), ...wardrobeNeeds()],
        () => as(caller, 'POST', route('episode'), body),
        201,
        'POST episode with wardrobe',
      );
      if (created.status === 201) expect((created.body.data as Rec).outfits).toHaveLength(1);
      const id = await fresh('episode');
      await expectWrite(
        caller,
        [need('episode', 'update'), ...wardrobeNeeds()],
        () => as(caller, 'PATCH', `${route('episode')}/${id}`, { wardrobe: wardrobe() }),
        200,
        'PATCH wardrobe',
      );
      await expectWrite(
        caller,
        [need('episode', 'update'), ...wardrobeNeeds()],
        () => as(caller, 'PUT', `${route('episode')}/${id}/wardrobe`, wardrobe()),
        200,
        'PUT wardrobe view',
      );
    }
  });

  it('a wardrobe already on file needs read only: editors reuse the outfit an admin recorded', async () => {
    const look = wardrobe();
    await fresh('episode', { wardrobe: look });
    for (const caller of CALLERS) {
      const id = await fresh('episode');
      const reused = await expectWrite(
        caller,
        [
          need('episode', 'update'),
          need('wardrobe_item', 'read'),
          need('outfit', 'read'),
          need('outfit', 'read', 'outfits'),
        ],
        () => as(caller, 'PATCH', `${route('episode')}/${id}`, { wardrobe: look }),
        200,
        'PATCH known wardrobe',
      );
      if (reused.status === 200) expect(JSON.stringify(reused.body.metadata)).toContain('REUSED');
    }
  });

  it('S3 URIs new to the library need create on it; URIs on file need read', async () => {
    for (const [group, library, slot] of [
      ['ui_elements', 'ui_element', 'login_screen'],
      ['backgrounds', 'background', 'main_closet'],
    ] as const) {
      const refs = entity('episode').fields.find((f) => f.library && f.name === group)!.library!.refs;
      for (const caller of CALLERS) {
        const uri = `s3://bucket/${unique(slot)}.png`;
        const body = { ...BASE.episode!(), [group]: { [slot]: uri } };
        await expectWrite(
          caller,
          [need('episode', 'create'), need(library, 'read'), need(library, 'create'), need(library, 'read', refs)],
          () => as(caller, 'POST', route('episode'), body),
          201,
          `POST ${group} new`,
        );
        const known = `s3://bucket/${unique(slot)}.png`;
        await fresh(library, { file_reference: known });
        const id = await fresh('episode');
        const linked = await expectWrite(
          caller,
          [need('episode', 'update'), need(library, 'read'), need(library, 'read', refs)],
          () => as(caller, 'PATCH', `${route('episode')}/${id}`, { [group]: { [slot]: known } }),
          200,
          `PATCH ${group} known`,
        );
        if (linked.status === 200) expect((linked.body.data as Rec)[refs]).toHaveLength(1);
      }
    }
  });

  it("a clip's guest talent needs read on guests (whether or not the guest exists) and create for a new one", async () => {
    const known = unique('Known');
    await fresh('guest', { name: known });
    const messages = new Map<string, string>();
    for (const caller of CALLERS) {
      for (const [label, name] of [
        ['new', unique('New')],
        ['known', known],
      ] as const) {
        const needs = [
          need('clip', 'create'),
          need('guest', 'read'),
          ...(label === 'new' ? [need('guest', 'create')] : []),
          need('guest', 'read', 'guest_id'),
        ];
        const body = { ...BASE.clip!(), talent_source: `Guest - ${name}` };
        const answer = await expectWrite(
          caller,
          needs,
          () => as(caller, 'POST', route('clip'), body),
          201,
          `POST clip, ${label} guest`,
        );
        if (answer.status === 403) messages.set(`${caller} ${label}`, answer.body.errors[0]!.message);
      }
      expect(messages.get(`${caller} new`)).toBe(messages.get(`${caller} known`));
    }
    expect(messages.get('editor new')).toBe(
      'this write looks up guests on file: reading guests needs the admin role; your roles: editor',
    );
  });

  it("a part's first version creates the part and its version together, or neither", async () => {
    for (const caller of CALLERS) {
      const episode = await fresh('episode');
      // The route's own needs, then the version's link to the script it creates.
      const needs = [
        need('episode', 'read'),
        need('script', 'create'),
        need('script', 'update'),
        need('script_version', 'create'),
        need('episode', 'read', 'episode_id'),
        need('script', 'read', 'script_id'),
      ];
      await expectWrite(
        caller,
        needs,
        () => as(caller, 'PUT', `${route('episode')}/${episode}/script`, { text: 'FADE IN:' }),
        200,
        'PUT script',
      );
    }
  });
});

describe('cascades', () => {
  /** A tree of records under a root (built by an admin), and what each operation on the root needs. */
  interface Tree {
    readonly label: string;
    readonly root: string;
    readonly id: string;
    readonly delete: readonly Need[];
    readonly restore: readonly Need[];
    readonly hard: readonly Need[];
  }

  /** The scenarios, following the copy's cascade declarations (checked against the model below). */
  async function build(label: string): Promise<Tree> {
    const show = await fresh('show');
    const tree = (rest: Omit<Tree, 'label' | 'root' | 'id'>, root = 'show', id = show): Tree => ({
      label,
      root,
      id,
      ...rest,
    });
    const showOnly = {
      delete: [need('show', 'delete')],
      restore: [need('show', 'restore')],
      hard: [need('show', 'delete'), need('show', 'hard_delete')],
    };
    if (label === 'show') return tree(showOnly);
    const episode = await fresh('episode', { show_id: show });
    const withEpisode = {
      delete: [...showOnly.delete, need('episode', 'delete')],
      restore: [...showOnly.restore, need('episode', 'restore')],
      hard: [...showOnly.hard, need('episode', 'hard_delete')],
    };
    if (label === 'show → episode') return tree(withEpisode);
    if (label === 'show → episode → component') {
      await fresh('component', { episode_id: episode });
      return tree({
        delete: [...withEpisode.delete, need('component', 'delete')],
        restore: [...withEpisode.restore, need('component', 'restore')],
        hard: [...withEpisode.hard, need('component', 'hard_delete')],
      });
    }
    if (label === 'show → episode ← clip (set_null)') {
      await fresh('clip', { episode_id: episode });
      // The clip's ref is cleared by the delete and stays cleared: a restore does not touch clips.
      return tree({
        delete: [...withEpisode.delete, need('clip', 'update')],
        restore: withEpisode.restore,
        hard: [...withEpisode.hard, need('clip', 'update')],
      });
    }
    if (label === 'show → episode → script → version') {
      const script = await fresh('script', { episode_id: episode });
      await fresh('script_version', { script_id: script });
      return tree({
        delete: [...withEpisode.delete, need('script', 'delete'), need('script_version', 'delete')],
        restore: [...withEpisode.restore, need('script', 'restore'), need('script_version', 'restore')],
        hard: [...withEpisode.hard, need('script', 'hard_delete'), need('script_version', 'hard_delete')],
      });
    }
    // guest ← clip (set_null)
    const guest = await fresh('guest');
    await fresh('clip', { guest_id: guest });
    return tree(
      {
        delete: [need('guest', 'delete'), need('clip', 'update')],
        restore: [need('guest', 'restore')],
        hard: [need('guest', 'delete'), need('guest', 'hard_delete'), need('clip', 'update')],
      },
      'guest',
      guest,
    );
  }
  const LABELS = [
    'show',
    'show → episode',
    'show → episode → component',
    'show → episode ← clip (set_null)',
    'show → episode → script → version',
    'guest ← clip (set_null)',
  ];

  it('the scenarios follow the copy: show cascades to episodes, episodes to components and scripts, scripts to versions, clips are detached', () => {
    const onDelete = (owner: string, field: string) => entity(owner).fields.find((f) => f.name === field)!.onDelete;
    expect(onDelete('episode', 'show_id')).toBe('cascade');
    expect(onDelete('component', 'episode_id')).toBe('cascade');
    expect(onDelete('script', 'episode_id')).toBe('cascade');
    expect(onDelete('script_version', 'script_id')).toBe('cascade');
    expect(onDelete('clip', 'episode_id')).toBe('set_null');
    expect(onDelete('clip', 'guest_id')).toBe('set_null');
    // Every cascade or set_null ref in the model is covered by a scenario above.
    const covered = new Set([
      'episode.show_id',
      'component.episode_id',
      'script.episode_id',
      'script_version.script_id',
      'clip.episode_id',
      'clip.guest_id',
    ]);
    const declared = model.entities.flatMap((e) =>
      e.fields.filter((f) => f.onDelete === 'cascade' || f.onDelete === 'set_null').map((f) => `${e.name}.${f.name}`),
    );
    expect(new Set(declared)).toEqual(covered);
  });

  it('a delete needs delete on every entity it cascades to and update on every one it detaches: every role × every scenario', async () => {
    let refused = 0;
    for (const label of LABELS) {
      for (const caller of CALLERS) {
        const tree = await build(label);
        const answer = await expectWrite(
          caller,
          tree.delete,
          () => as(caller, 'DELETE', `${route(tree.root)}/${tree.id}`),
          200,
          `DELETE ${label}`,
          false,
        );
        if (answer.status === 403) refused += 1;
        // Refused or not, the root is live exactly when the delete was refused.
        expect((await as('admin', 'GET', `${route(tree.root)}/${tree.id}`)).status).toBe(
          answer.status === 403 ? 200 : 404,
        );
      }
    }
    expect(refused).toBeGreaterThan(LABELS.length);
  });

  it('a restore needs restore on every entity it brings back: every role × every scenario', async () => {
    for (const label of LABELS) {
      for (const caller of CALLERS) {
        const tree = await build(label);
        expect((await as('admin', 'DELETE', `${route(tree.root)}/${tree.id}`)).status).toBe(200);
        await expectWrite(
          caller,
          tree.restore,
          () => as(caller, 'POST', `${route(tree.root)}/${tree.id}/restore`),
          200,
          `restore ${label}`,
          false,
        );
      }
    }
  });

  it('a hard delete needs hard_delete on every entity whose rows go with it: every role × every scenario', async () => {
    for (const label of LABELS) {
      for (const caller of CALLERS) {
        const tree = await build(label);
        await expectWrite(
          caller,
          tree.hard,
          () => as(caller, 'DELETE', `${route(tree.root)}/${tree.id}?hard=true`),
          200,
          `hard DELETE ${label}`,
          false,
        );
      }
    }
  });

  it('reverting a delete restores what it took, so it needs restore on it too', async () => {
    const tree = await build('show → episode → component');
    expect((await as('admin', 'DELETE', `${route('show')}/${tree.id}`)).status).toBe(200);
    const history = await as<Rec[]>('admin', 'GET', `${route('show')}/${tree.id}/history`);
    const entry = history.body.data.find((e) => e.operation === 'delete')!;
    for (const caller of CALLERS) {
      await expectWrite(
        caller,
        [need('show', 'update'), need('show', 'restore'), need('episode', 'restore'), need('component', 'restore')],
        () => as(caller, 'POST', `${route('show')}/${tree.id}/revert`, { audit_id: entry.id }),
        200,
        'revert delete',
        false,
      );
    }
    expect((await as('admin', 'GET', `${route('show')}/${tree.id}`)).status).toBe(200);
  });
});

describe('batch items', () => {
  it('are refused one by one for what each touches; an atomic batch is refused whole and writes nothing', async () => {
    const guest = await fresh('guest');
    const episode = await fresh('episode');
    const operations = [
      { op: 'create', data: BASE.clip!() },
      { op: 'create', data: { ...BASE.clip!(), guest_id: guest } },
      { op: 'create', data: { ...BASE.clip!(), episode_id: episode } },
    ];
    const needs = [
      [need('clip', 'create')],
      [need('clip', 'create'), need('guest', 'read', 'guest_id')],
      [need('clip', 'create'), need('episode', 'read', 'episode_id')],
    ];
    for (const caller of CALLERS) {
      const before = await snapshot();
      const reply = await as<{ status: number; errors?: { code: string; field: string; message: string }[] }[]>(
        caller,
        'POST',
        `${route('clip')}/batch`,
        { operations },
      );
      expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
      reply.body.data.forEach((item, index) => {
        const lacking = needs[index]!.filter((n) => lacks(caller, n));
        expect(item.status, `${caller} item ${index}`).toBe(lacking.length > 0 ? 403 : 201);
        if (lacking[0]?.field)
          expect(item.errors![0]).toMatchObject({
            code: 'FORBIDDEN',
            field: `operations[${index}].${lacking[0].field}`,
          });
      });
      if (reply.body.data.every((item) => item.status === 403)) expect(await snapshot()).toEqual(before);

      const atomicBefore = await snapshot();
      const atomic = await as(caller, 'POST', `${route('clip')}/batch?atomic=true`, { operations });
      const anyLacking = needs.flat().some((n) => lacks(caller, n));
      expect(atomic.status, `${caller} atomic`).toBe(anyLacking ? 403 : 200);
      if (anyLacking) expect(await snapshot()).toEqual(atomicBefore);
    }
  });

  it('a delete item that cascades to an entity the caller may not delete is refused alone', async () => {
    const alone = await fresh('episode');
    const parent = await fresh('episode');
    await fresh('component', { episode_id: parent });
    const reply = await as<{ status: number; errors?: { message: string }[] }[]>(
      'editor',
      'POST',
      `${route('episode')}/batch`,
      {
        operations: [
          { op: 'delete', id: alone },
          { op: 'delete', id: parent },
        ],
      },
    );
    expect(reply.body.data.map((item) => item.status)).toEqual([200, 403]);
    expect(reply.body.data[1]!.errors![0]!.message).toContain('deleting components needs the admin role');
    expect((await as('admin', 'GET', `${route('episode')}/${parent}`)).status).toBe(200);
  });
});
