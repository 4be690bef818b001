// Reads through relations need read on every entity they reach (issue 13 §1): a filter, sort,
// projection or count that crosses a ref or refs field answers questions about the related records,
// so a caller who may not read those records gets 403 naming the entity, never a 200 that could
// spell a guest's address one character at a time.
//
// The property runs against a real service with real Cognito-style tokens, over a registry copy in
// which several entities have raised read roles, and enumerates from the compiled model: every
// role × every ref/refs path up to the three hops a path may cross (and every count field) × every way of using it
// (filter param, filter= JSON, an _or group, _sort, _fields, export, the lists under a parent and a
// part's versions). Expected answers are worked out here from the model, not from the code under test.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUserPool } from './support/cognito.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { CALLERS, rank, startRoleService, type Caller, type RoleService } from './support/role-service.ts';
import { startTestService, type TestService } from './support/service.ts';
import { childRelations, ROLES, type EntityDef, type FieldDef, type Model, type Role } from '../src/registry/model.ts';
import { putTestObjects } from './support/s3.ts';

/** Read roles raised in the copy, so that each hop of a path can be the one refused. */
const RAISED_READ: Readonly<Record<string, Role>> = {
  show: 'editor',
  outfit: 'admin',
  wardrobe_item: 'editor',
  ui_element: 'editor',
  guest: 'editor',
};

let roles: RoleService;
let userPool: FakeUserPool;
let service: TestService;
let model: Model;
let tokens: ReadonlyMap<Caller, string>;

beforeAll(async () => {
  roles = await startRoleService({
    permissions: Object.fromEntries(Object.entries(RAISED_READ).map(([entity, role]) => [entity, { read: role }])),
  });
  ({ userPool, service, model, tokens } = roles);
});

afterAll(async () => {
  await roles?.stop();
});

interface Answer {
  readonly status: number;
  readonly errors: readonly { code: string; message: string; field: string | null }[];
}

/** GET as `caller`; the body is read as an envelope only when it is JSON (exports stream NDJSON). */
async function get(caller: Caller, path: string): Promise<Answer> {
  const reply = await service.request('GET', path, { token: tokens.get(caller)! });
  const json: { errors?: Answer['errors'] } =
    reply.headers.get('content-type')?.includes('application/json') && reply.text ? reply.body : {};
  return { status: reply.status, errors: json.errors ?? [] };
}

// ---------------------------------------------------------------------------------------------
// The paths, from the compiled model.

const entityNamed = (name: string): EntityDef => model.entities.find((e) => e.name === name)!;
const isRelation = (f: FieldDef) => f.type === 'ref' || f.type === 'refs';
const LEAF_TYPES = new Set(['string', 'text', 'enum', 'integer', 'number', 'date', 'datetime', 'boolean']);
/** A plain field of an entity to end a path on (its first scalar, else id). */
const leafOf = (entity: EntityDef): string =>
  entity.fields.find((f) => LEAF_TYPES.has(f.type) && !f.count)?.name ?? 'id';

interface RelationPath {
  /** The queried entity. */
  readonly entity: EntityDef;
  readonly path: string;
  /** Every entity the path reaches besides the queried one, in path order. */
  readonly reaches: readonly EntityDef[];
  /** A count field (its own field, computed from other records), not a path through a ref. */
  readonly count: boolean;
}

/** A path may cross at most this many relations (the query language's limit). */
const MAX_HOPS = 3;

/** Every ref/refs path from `entity` up to MAX_HOPS deep, each ending on a field of the last entity, and every count field. */
function pathsFrom(entity: EntityDef): RelationPath[] {
  const paths: RelationPath[] = [];
  const walk = (from: EntityDef, prefix: readonly string[], reaches: readonly EntityDef[]) => {
    if (reaches.length === MAX_HOPS) return;
    for (const field of from.fields.filter(isRelation)) {
      const next = entityNamed(field.to!);
      const here = [...reaches, next];
      paths.push({ entity, path: [...prefix, field.name, leafOf(next)].join('.'), reaches: here, count: false });
      walk(next, [...prefix, field.name], here);
    }
  };
  walk(entity, [], []);
  for (const field of entity.fields.filter((f) => f.count)) {
    const reaches = [entityNamed(field.count!.entity)];
    for (const name of field.count!.path)
      reaches.push(entityNamed(reaches.at(-1)!.fields.find((f) => f.name === name)!.to!));
    paths.push({ entity, path: field.name, reaches, count: true });
  }
  return paths;
}

/**
 * The entities a scope path (a child route's `via`) reaches: each ref or refs followed by more of
 * the path, and a refs at the end (which compares the related records' ids); a ref at the end is
 * the record's own column.
 */
function scopeReaches(entity: EntityDef, path: string): EntityDef[] {
  const reaches: EntityDef[] = [];
  let current = entity;
  const segments = path.split('.');
  for (const [index, name] of segments.entries()) {
    const field = current.fields.find((f) => f.name === name)!;
    if (!isRelation(field) || (field.type === 'ref' && index === segments.length - 1)) break;
    current = entityNamed(field.to!);
    reaches.push(current);
  }
  return reaches;
}

interface Case {
  readonly label: string;
  readonly url: string;
  /** Entities whose read the request needs, in the order the service checks them. */
  readonly needs: readonly EntityDef[];
  /** The answer when every read is allowed. */
  readonly allowed: number;
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** Each way of using one path on one entity's list routes. */
function usesOf(p: RelationPath): Case[] {
  const base = `/api/v1/${p.entity.route}`;
  const filterParam = p.count ? { [`${p.path}[gte]`]: '0' } : { [`${p.path}[exists]`]: 'true' };
  const json = p.count ? { [p.path]: { _gte: 0 } } : { [p.path]: { _exists: true } };
  const needs = [p.entity, ...p.reaches];
  const cases: Case[] = [
    { label: 'filter param', url: `${base}?${q(filterParam)}`, needs, allowed: 200 },
    { label: 'filter= JSON', url: `${base}?${q({ filter: JSON.stringify(json) })}`, needs, allowed: 200 },
    {
      label: 'filter= _or',
      url: `${base}?${q({ filter: JSON.stringify({ _or: [{ id: { _eq: 'x' } }, json] }) })}`,
      needs,
      allowed: 200,
    },
    // An entity with versions answers /search with its versions' text search instead.
    ...(p.entity.versions ? [] : [{ label: 'search', url: `${base}/search?${q(filterParam)}`, needs, allowed: 200 }]),
    { label: 'export', url: `${base}/export?${q(filterParam)}`, needs, allowed: 200 },
    // Sorting by or projecting a related record's field is refused for everyone (400: there is one
    // answer whatever the data); a count can be sorted and projected, and needs read on what it counts.
    {
      label: '_sort',
      url: `${base}?${q({ _sort: `-${p.path}` })}`,
      needs: p.count ? needs : [p.entity],
      allowed: p.count ? 200 : 400,
    },
    {
      label: '_fields',
      url: `${base}?${q({ _fields: p.path })}`,
      needs: p.count ? needs : [p.entity],
      allowed: p.count ? 200 : 400,
    },
    // A single GET's _fields is checked as a list's, before the record is looked up (it is missing here).
    {
      label: 'one record _fields',
      url: `${base}/${p.entity.idPrefix}_20250101_missing000?${q({ _fields: p.path })}`,
      needs: p.count ? needs : [p.entity],
      allowed: p.count ? 404 : 400,
    },
  ];
  for (const route of childRelations(model, p.entity)) {
    const url = `/api/v1/${route.parent.route}/x_missing/${p.entity.route}?${q(filterParam)}`;
    // The parent does not exist: once every read is allowed, the answer is its 404.
    cases.push({
      label: `under ${route.parent.name}`,
      url,
      needs: [route.parent, p.entity, ...scopeReaches(p.entity, route.via), ...p.reaches],
      allowed: 404,
    });
  }
  for (const parent of model.entities) {
    for (const part of parent.parts) {
      const owner = entityNamed(part.entity);
      if (owner.versions?.entity !== p.entity.name) continue;
      const url = `/api/v1/${parent.route}/x_missing/${part.name}/versions?${q(filterParam)}`;
      cases.push({ label: `${part.name} versions`, url, needs: [parent, owner, p.entity, ...p.reaches], allowed: 404 });
    }
  }
  return cases;
}

const paths = () => model.entities.flatMap(pathsFrom);

/** The first entity in `needs` that `caller` may not read. */
const firstRefused = (caller: Caller, needs: readonly EntityDef[]) =>
  needs.find((e) => rank(caller) < ROLES.indexOf(e.permissions.read));

function expectAnswer(answer: Answer, caller: Caller, c: Case, where: string) {
  const refused = firstRefused(caller, c.needs);
  if (refused) {
    expect(answer.status, where).toBe(403);
    expect(answer.errors[0]?.code, where).toBe('FORBIDDEN');
    expect(answer.errors[0]?.message, where).toContain(
      `reading ${refused.plural} needs the ${refused.permissions.read} role`,
    );
  } else {
    expect(answer.status, `${where}: ${JSON.stringify(answer.errors)}`).toBe(c.allowed);
  }
}

describe('reads through relations', () => {
  it('the registry copy has paths refused at the first hop, the second hop, and through counts', () => {
    const all = paths();
    expect(
      all.some(
        (p) =>
          !p.count &&
          p.reaches.length === 2 &&
          p.reaches[0]!.permissions.read === 'viewer' &&
          p.reaches[1]!.permissions.read !== 'viewer',
      ),
    ).toBe(true);
    expect(
      all.some(
        (p) => !p.count && p.reaches[0]!.permissions.read !== 'viewer' && p.entity.permissions.read === 'viewer',
      ),
    ).toBe(true);
    expect(all.some((p) => p.count && p.reaches.some((e) => e.permissions.read !== 'viewer'))).toBe(true);
    expect(all.some((p) => p.path.startsWith('guest_id.'))).toBe(true);
    // A list under a parent whose scope itself crosses an entity readable by fewer than the parent.
    const scoped = model.entities.flatMap((e) => childRelations(model, e).map((r) => ({ e, r })));
    expect(
      scoped.some(({ e, r }) =>
        scopeReaches(e, r.via).some(
          (x) => ROLES.indexOf(x.permissions.read) > ROLES.indexOf(r.parent.permissions.read),
        ),
      ),
    ).toBe(true);
  });

  it('answer 403 naming the entity exactly when the caller may not read one the path reaches: every role × every path × every use', async () => {
    const cases = paths().flatMap(usesOf);
    expect(cases.length).toBeGreaterThan(100);
    let refused = 0;
    for (const caller of CALLERS) {
      // Each caller's requests run a few at a time: the answers do not depend on order.
      for (let i = 0; i < cases.length; i += 8) {
        const batch = cases.slice(i, i + 8);
        const answers = await Promise.all(batch.map((c) => get(caller, c.url)));
        batch.forEach((c, j) => {
          expectAnswer(answers[j]!, caller, c, `${caller} ${c.label} ${c.url}`);
          if (answers[j]!.status === 403) refused += 1;
        });
      }
    }
    // The raised read roles make refusals common, and the allowed answers were checked above.
    expect(refused).toBeGreaterThan(cases.length);
  });

  it('holds for several paths in one filter=: refused when any one reaches an entity the caller may not read', async () => {
    const all = paths().filter((p) => !p.count);
    const byEntity = [...new Set(all.map((p) => p.entity))].filter((e) => all.filter((p) => p.entity === e).length > 1);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...byEntity).chain((entity) =>
          fc.record({
            entity: fc.constant(entity),
            picked: fc.uniqueArray(fc.constantFrom(...all.filter((p) => p.entity === entity)), {
              minLength: 2,
              maxLength: 4,
              selector: (p) => p.path,
            }),
            group: fc.constantFrom('_and', '_or'),
            caller: fc.constantFrom(...CALLERS),
          }),
        ),
        async ({ entity, picked, group, caller }) => {
          const filter = JSON.stringify({ [group]: picked.map((p) => ({ [p.path]: { _exists: true } })) });
          const answer = await get(caller, `/api/v1/${entity.route}?${q({ filter })}`);
          const needs = [entity, ...picked.flatMap((p) => p.reaches)];
          expectAnswer(answer, caller, { label: group, url: filter, needs, allowed: 200 }, `${caller} ${filter}`);
        },
      ),
      { numRuns: 60, seed: 13 },
    );
  });
});

describe('count fields of records the caller may not read', () => {
  it('are left out of the records they see (record, list, export), and refused when asked for by name', async () => {
    const counted = model.entities.flatMap(pathsFrom).find((p) => p.count && p.entity.name === 'wardrobe_item')!;
    // In the copy, editors read wardrobe items but not the outfits their times_worn counts through.
    expect(counted.reaches.map((e) => `${e.name}:${e.permissions.read}`)).toContain('outfit:admin');
    expect(counted.entity.permissions.read).toBe('editor');
    const created = await service.request<{ id: string }>('POST', `/api/v1/${counted.entity.route}`, {
      token: tokens.get('admin')!,
      body: { item_type: 'shoes' },
    });
    expect(created.status).toBe(201);
    const { data } = created.body;
    const read = async (caller: Caller, path: string) => {
      const reply = await service.request('GET', `/api/v1/${counted.entity.route}${path}`, {
        token: tokens.get(caller)!,
      });
      expect(reply.status, `${caller} ${path}`).toBe(200);
      return reply.text;
    };
    const one = (text: string) => (JSON.parse(text) as { data: Record<string, unknown> }).data;
    const list = (text: string) =>
      (JSON.parse(text) as { data: Record<string, unknown>[] }).data.find((r) => r.id === data.id)!;
    const exported = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((r) => r.id === data.id)!;
    expect(one(await read('admin', `/${data.id}`))).toHaveProperty(counted.path, 0);
    expect(list(await read('admin', ''))).toHaveProperty(counted.path, 0);
    expect(exported(await read('admin', '/export'))).toHaveProperty(counted.path, 0);
    expect((await read('admin', '/export?format=csv')).split('\n')[0]).toContain(counted.path);
    expect(one(await read('editor', `/${data.id}`))).not.toHaveProperty(counted.path);
    expect(list(await read('editor', ''))).not.toHaveProperty(counted.path);
    expect(exported(await read('editor', '/export'))).not.toHaveProperty(counted.path);
    expect((await read('editor', '/export?format=csv')).split('\n')[0]).not.toContain(counted.path);
    expect(one(await read('editor', `/${data.id}`))).toHaveProperty('item_type', 'shoes');
    const named = await get('editor', `/api/v1/${counted.entity.route}?${q({ _fields: counted.path })}`);
    expect(named.status).toBe(403);
    expect(named.errors[0]!.message).toContain('reading outfits needs the admin role');
  });
});

describe("a guest's address through a clip (the reported oracle)", () => {
  let shipped: TestService;
  let shippedDb: TestDatabase;
  const as = (caller: Caller, method: string, path: string, body?: unknown) =>
    shipped.request<Record<string, unknown>>(method, path, {
      token: tokens.get(caller)!,
      ...(body === undefined ? {} : { body }),
    });

  beforeAll(async () => {
    shippedDb = await createTestDatabase();
    shipped = await startTestService({ databaseUrl: shippedDb.url, authMode: 'cognito', cognito: userPool.settings() });
  });
  afterAll(async () => {
    await shipped?.stop();
    await shippedDb?.drop();
  });

  it('is closed to viewers in every form, and still answers editors', async () => {
    const guest = await as('editor', 'POST', '/api/v1/guests', {
      name: 'Sarah Johnson',
      business_email: 'sarah@example.com',
      consent_given: true,
    });
    expect(guest.status).toBe(201);
    await putTestObjects(['s3://bucket/raw/take.mov']);
    const clip = await as('editor', 'POST', '/api/v1/clips', {
      talent_source: 'Guest - Sarah Johnson',
      file_reference: 's3://bucket/raw/take.mov',
      guest_id: guest.body.data.id,
    });
    expect(clip.status).toBe(201);

    const probes = [
      `/api/v1/clips?${q({ 'guest_id.business_email[startswith]': 's' })}`,
      `/api/v1/clips?${q({ filter: JSON.stringify({ guest_id: { business_email: { _starts_with: 's' } } }) })}`,
      `/api/v1/clips?${q({ filter: JSON.stringify({ _or: [{ 'guest_id.business_email': { _starts_with: 's' } }, { id: 'x' }] }) })}`,
      `/api/v1/clips/search?${q({ 'guest_id.business_email[startswith]': 's' })}`,
      `/api/v1/clips/export?${q({ 'guest_id.business_email[startswith]': 's', format: 'csv' })}`,
    ];
    for (const probe of probes) {
      const refused = await as('viewer', 'GET', probe);
      expect(refused.status, probe).toBe(403);
      expect(refused.body.errors[0], probe).toMatchObject({ code: 'FORBIDDEN', field: 'guest_id.business_email' });
      expect(refused.body.errors[0]!.message, probe).toMatch(
        /^guest_id\.business_email reads guests: reading guests needs the editor role; your roles: viewer$/,
      );
    }
    // The same question for an editor: a hit and a miss, so the refusal above is hiding something.
    const hit = await as('editor', 'GET', probes[0]!);
    expect(hit.status).toBe(200);
    expect((hit.body.data as unknown as unknown[]).length).toBe(1);
    const miss = await as('editor', 'GET', `/api/v1/clips?${q({ 'guest_id.business_email[startswith]': 'z' })}`);
    expect((miss.body.data as unknown as unknown[]).length).toBe(0);
    // The clip's own ref stays readable: it is the clip's field, not the guest's.
    const own = await as('viewer', 'GET', `/api/v1/clips?${q({ guest_id: String(guest.body.data.id) })}`);
    expect(own.status).toBe(200);
    expect((own.body.data as unknown as unknown[]).length).toBe(1);
  });
});
