// Regression tests for what the fuzz test (fuzz.test.ts) found: inputs a client can send that
// once answered 500. Each is now a clear 4xx in the envelope. The sweeps below send every name
// Object.prototype has, and lone surrogates, in every position of every entity route.
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_ENTITY } from '../src/audit/audit-entity.ts';
import { InvalidInputError } from 'slonik';
import { createClassifier } from '../src/records/failures.ts';
import type { EntityDef, FieldDef } from '../src/registry/model.ts';
import { useServiceForFile } from './support/file-service.ts';
import { putTestObjects } from './support/s3.ts';
import { shippedModel } from './support/fixtures.ts';
import { encodeQueryValue } from './support/service.ts';

const fixture = useServiceForFile();

const nested = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

describe('hostile request bodies', () => {
  it('a very deeply nested JSON body is refused with 400, not a 500 (stack overflow while walking it)', async () => {
    const show = await fixture.create({ title: 'Deep' }, 'shows');
    for (const [method, path] of [
      ['PUT', `/api/v1/shows/${show.id}`],
      ['PATCH', `/api/v1/shows/${show.id}`],
      ['POST', '/api/v1/shows'],
      ['POST', '/api/v1/shows/batch'],
    ] as const) {
      const reply = await fixture.service.request(method, path, { raw: nested(6000) });
      expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(400);
      expect(reply.body.errors[0]).toMatchObject({ code: 'INVALID_BODY', message: expect.stringMatching(/nested/) });
    }
    const wardrobe = await fixture.service.request('POST', '/api/v1/episodes', {
      raw: `{"title":"w","wardrobe":${nested(6000)}}`,
    });
    expect(wardrobe.status).toBe(400);
  });

  it('a body that is not valid UTF-8 is refused with 400, not stored with replacement characters', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"title":"bad '),
      Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
      Buffer.from('"}'),
    ]);
    const reply = await fetch(`${fixture.service.url}/api/v1/shows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bytes,
    });
    expect(reply.status).toBe(400);
    expect(((await reply.json()) as { errors: unknown[] }).errors[0]).toMatchObject({
      code: 'INVALID_JSON',
      message: 'the request body is not valid UTF-8',
    });
    expect(await fixture.db.query("SELECT id FROM shows WHERE title LIKE 'bad %'")).toEqual([]);
  });
});

// ---- Object.prototype names and lone surrogates, swept over every entity route -------------------

const model = shippedModel();
/** Every name Object.prototype has (constructor, __proto__, toString, hasOwnProperty, valueOf, …), and `prototype`. */
const PROTO_NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const q = (key: string, value: string) => `${encodeQueryValue(key)}=${encodeQueryValue(value)}`;

/** What Object.prototype holds now, to compare after the sweep. */
function prototypeSnapshot(): string {
  return Object.getOwnPropertyNames(Object.prototype)
    .map((name) => `${name}:${String(Object.getOwnPropertyDescriptor(Object.prototype, name)?.value ?? 'accessor')}`)
    .sort()
    .join('|');
}

/** A value a field accepts, for building a valid record without knowing the entity. */
function sampleValue(field: FieldDef, made: Map<string, string>): unknown {
  if (field.default !== undefined) return field.default;
  switch (field.type) {
    case 'enum':
      return field.values![0];
    case 'integer':
    case 'number':
      return field.minimum ?? 1;
    case 'boolean':
      return true;
    case 'date':
      return '2026-01-05';
    case 'datetime':
      return '2026-01-05T10:00:00Z';
    case 's3_uri':
      return 's3://bucket/sweep/file.txt';
    case 'url':
      return 'https://example.com/sweep';
    case 'ref':
      return made.get(field.to!);
    case 'refs':
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries(
        (field.fields ?? []).filter((f) => f.required).map((f) => [f.name, sampleValue(f, made)]),
      );
    default:
      return 'sweep';
  }
}

const writable = (entity: EntityDef) => entity.fields.filter((f) => !f.readOnly && !f.deprecated && !f.count);
const minimalRecord = (entity: EntityDef, made: Map<string, string>) =>
  Object.fromEntries(
    writable(entity)
      .filter((f) => f.required)
      .map((f) => [f.name, sampleValue(f, made)]),
  );

describe('database errors a client caused, as the driver reports them', () => {
  it("takes slonik's InvalidInputError (22P02, which it passes on without the SQLSTATE) as the client's value: 400 on a read, 422 on a write", () => {
    const classify = createClassifier(model);
    const error = new InvalidInputError('invalid input syntax for type bigint: "1.5"');
    expect(classify(error, 'GET')).toMatchObject({
      status: 400,
      problems: [{ code: 'INVALID_QUERY', message: expect.stringContaining('bigint') }],
    });
    expect(classify(error, 'POST')).toMatchObject({ status: 422, problems: [{ code: 'VALIDATION_ERROR' }] });
    // The same class is also slonik's refusal of several statements in one query: our bug, a 500.
    expect(
      classify(new InvalidInputError('Must not use multiple statements in a single query.'), 'GET'),
    ).toBeUndefined();
  });
});

describe('names that exist on Object.prototype, and lone surrogates, in every position of every entity route', () => {
  const seeds = new Map<string, string>();
  const targets = new Map<string, string>();
  let before = '';
  let prototypeBefore = '';

  const dumpSeeds = async () =>
    JSON.stringify(
      await Promise.all(
        model.entities
          .filter((e) => seeds.has(e.name))
          .map((e) =>
            fixture.db.query(`SELECT to_jsonb(t) AS row FROM ${e.table} t WHERE id = $1`, [seeds.get(e.name)]),
          ),
      ),
    );

  beforeAll(async () => {
    prototypeBefore = prototypeSnapshot();
    // Media fields name objects that must exist (media/verify-writes.ts).
    await putTestObjects(['s3://bucket/sweep/file.txt']);
    // Records of every entity, referenced ones first: a seed that is only ever read, and a target for writes.
    const pending = [...model.entities];
    while (pending.length > 0) {
      // Each round's refs point at that round's records, so unique sets over refs do not clash.
      const ready = pending.findIndex((e) =>
        e.fields.every((f) => f.type !== 'ref' || !f.required || f.to === e.name || targets.has(f.to!)),
      );
      const entity = pending.splice(ready === -1 ? 0 : ready, 1)[0]!;
      for (const into of [seeds, targets]) {
        const reply = await fixture.service.request<{ id: string }>('POST', `/api/v1/${entity.route}`, {
          body: minimalRecord(entity, into),
        });
        expect(reply.status, `${entity.name}: ${JSON.stringify(reply.body.errors)}`).toBe(201);
        into.set(entity.name, reply.body.data.id);
      }
    }
    before = await dumpSeeds();
  });

  /** Sends every request (four at a time) and insists none answers 5xx. */
  async function sweep(
    requests: readonly { method: string; path: string; raw?: string }[],
  ): Promise<Map<string, number>> {
    const statuses = new Map<string, number>();
    for (let i = 0; i < requests.length; i += 4) {
      await Promise.all(
        requests.slice(i, i + 4).map(async ({ method, path: url, raw }) => {
          const reply = await fixture.service.request(method, url, raw === undefined ? {} : { raw });
          const label = `${method} ${url} ${raw ?? ''} → ${reply.status} ${JSON.stringify(reply.body?.errors)}`;
          expect(reply.status, label).toBeLessThan(500);
          if (reply.status >= 400) expect(reply.body.errors.length, label).toBeGreaterThan(0);
          statuses.set(`${method} ${url} ${raw ?? ''}`, reply.status);
        }),
      );
    }
    return statuses;
  }

  it('query parameter names, values, in lists, filter= keys and values, sorts, projections and cursors: 4xx, never 5xx', async () => {
    const requests: { method: string; path: string }[] = [];
    for (const version of model.apiVersions) {
      // Every entity's list, search and export, and the audit trail's list (its own fields).
      for (const entity of [...model.entities, AUDIT_ENTITY]) {
        const base = entity === AUDIT_ENTITY ? `/api/${version.name}/audit` : `/api/${version.name}/${entity.route}`;
        const scalars = entity.fields.filter((f) => !['object', 'array', 'refs'].includes(f.type));
        // Every enum, and one field of each other scalar type.
        const probes = scalars.filter((f, i) => f.type === 'enum' || scalars.findIndex((g) => g.type === f.type) === i);
        const objects = entity.fields.filter((f) => f.type === 'object');
        for (const name of [...PROTO_NAMES, '\ud800', 'a\udc00b']) {
          const params = [
            q(name, 'x'),
            q(`${name}[eq]`, 'x'),
            q('_sort', name),
            q('_fields', name),
            q('_count', name),
            q('include_deleted', name),
            q('q', name),
            q('filter', JSON.stringify({ [name]: 'x' })),
            q('filter', JSON.stringify({ _and: [{ [name]: { [`_${name}`]: name } }] })),
            q('_cursor', b64({ s: name, v: [name], id: name })),
            q('_cursor', b64({ s: '', v: [], id: name })),
            q('_cursor', b64({ [name]: 1 })),
            ...probes.flatMap((f) => [
              q(f.name, name),
              q(`${f.name}[in]`, `${name},x`),
              q(`${f.name}[${name}]`, 'x'),
              q('filter', JSON.stringify({ [f.name]: name })),
              q('filter', JSON.stringify({ [f.name]: { _in: [name, 'x'] } })),
              q('filter', JSON.stringify({ [f.name]: { [`_${name}`]: 'x' } })),
              q('filter', JSON.stringify({ [f.name]: { [name]: 'x' } })),
            ]),
            ...objects.flatMap((f) => [
              q(`${f.name}.${name}`, 'x'),
              q('_fields', `${f.name}.${name}`),
              q('filter', JSON.stringify({ [`${f.name}.${name}`]: name })),
              q('_sort', `${f.name}.${name}`),
            ]),
          ];
          // Typed garbage in a cursor for each sortable field: values of every other JSON type.
          if (name === 'constructor') {
            for (const f of probes)
              for (const v of [name, 1.5, -1, 1e300, true, [], {}, '2026-02-30', '\ud800'])
                params.push(`_sort=${f.name}&${q('_cursor', b64({ s: f.name, v: [v], id: 'x_1' }))}`);
          }
          for (const p of params) requests.push({ method: 'GET', path: `${base}?${p}` });
          if (entity !== AUDIT_ENTITY)
            for (const p of params.slice(0, 12)) requests.push({ method: 'GET', path: `${base}/export?${p}` });
        }
      }
    }
    const statuses = await sweep(requests);
    // The enum spellings of the issue, answered 400 naming the parameter (they were 500s).
    expect(statuses.get('GET /api/v1/episodes?status=constructor ')).toBe(400);
    expect(statuses.get(`GET /api/v1/episodes?${q('status[in]', 'toString,x')} `)).toBe(400);
    expect(prototypeSnapshot()).toBe(prototypeBefore);
    expect(await dumpSeeds()).toBe(before);
  }, 600_000);

  it('body keys, nested keys and enum values on create, replace, merge patch, views and batch: 4xx or stored as data, never 5xx', async () => {
    const requests: { method: string; path: string; raw: string }[] = [];
    for (const version of model.apiVersions) {
      for (const entity of model.entities) {
        const base = `/api/${version.name}/${entity.route}`;
        const item = `${base}/${targets.get(entity.name)}`;
        const valid = minimalRecord(entity, targets);
        const fields = writable(entity);
        for (const name of [...PROTO_NAMES, '\ud800']) {
          const key = JSON.stringify(name);
          const parts = [
            `${key}:"x"`,
            `${key}:{"polluted":1}`,
            `${key}:null`,
            ...fields.filter((f) => f.type === 'enum').map((f) => `"${f.name}":${key}`),
            ...fields.filter((f) => f.type === 'array' && f.items?.type === 'enum').map((f) => `"${f.name}":[${key}]`),
            ...fields
              .filter((f) => f.type === 'object')
              .flatMap((f) => [`"${f.name}":{${key}:"x"}`, `"${f.name}":{${key}:{"polluted":1}}`]),
            ...fields
              .filter((f) => f.type === 'string' || f.type === 'text')
              .slice(0, 1)
              .map((f) => `"${f.name}":"\\ud800"`),
          ];
          const validText = JSON.stringify(valid).slice(1, -1);
          for (const part of parts) {
            requests.push({ method: 'POST', path: base, raw: `{${validText}${validText ? ',' : ''}${part}}` });
            requests.push({ method: 'PUT', path: item, raw: `{${validText}${validText ? ',' : ''}${part}}` });
            requests.push({ method: 'PATCH', path: item, raw: `{${part}}` });
            requests.push({
              method: 'POST',
              path: `${base}/batch`,
              raw: `{"operations":[{"op":"create","data":{${part}}},{"op":"update","id":${JSON.stringify(targets.get(entity.name))},"data":{${part}}}]}`,
            });
          }
          requests.push({
            method: 'POST',
            path: `${base}/batch`,
            raw: `{"operations":[{"op":${key},"data":{}}],${key}:1}`,
          });
          for (const view of entity.views) {
            requests.push({ method: 'PUT', path: `${item}/${view.name}`, raw: `{${key}:"x"}` });
            requests.push({ method: 'PUT', path: `${item}/${view.name}`, raw: `{${key}:{${key}:"x"}}` });
          }
        }
      }
    }
    const statuses = await sweep(requests);
    // Where a field is free-form (an object without declared fields), the name is stored as data.
    for (const entity of model.entities) {
      const free = writable(entity).find((f) => f.type === 'object' && !f.fields);
      if (!free) continue;
      const reply = await fixture.service.request<Record<string, Record<string, unknown>>>(
        'PATCH',
        `/api/v1/${entity.route}/${targets.get(entity.name)}`,
        { raw: `{"${free.name}":{"constructor":"c","__proto__":"p","toString":"t"}}` },
      );
      expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
      const read = await fixture.service.request<Record<string, Record<string, unknown>>>(
        'GET',
        `/api/v1/${entity.route}/${targets.get(entity.name)}`,
      );
      const value = read.body.data[free.name]!;
      for (const [key, stored] of [
        ['constructor', 'c'],
        ['__proto__', 'p'],
        ['toString', 't'],
      ])
        expect(Object.getOwnPropertyDescriptor(value, key!)?.value).toBe(stored);
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    }
    expect(statuses.size).toBeGreaterThan(0);
    expect(prototypeSnapshot()).toBe(prototypeBefore);
    expect(await dumpSeeds()).toBe(before);
  }, 600_000);

  it("walks every entity's records with next_cursor under a sort by each of its scalar fields: checking cursor values against field types refuses no real cursor", async () => {
    const scalarPaths = (fields: readonly FieldDef[], prefix: string): { path: string; field: FieldDef }[] =>
      fields.flatMap((f) =>
        f.type === 'object' && f.fields
          ? scalarPaths(f.fields, `${prefix}${f.name}.`)
          : ['array', 'refs', 'object'].includes(f.type)
            ? []
            : [{ path: `${prefix}${f.name}`, field: f }],
      );
    for (const entity of model.entities) {
      // A third record with a value in as many scalar fields as validation lets through.
      const made = new Map([...targets].map(([name, id]) => [name, id]));
      let body: Record<string, unknown> = { ...minimalRecord(entity, made) };
      for (const { field } of scalarPaths(writable(entity), '')) {
        if (field.path.length === 1 && body[field.name] === undefined && field.type !== 'ref')
          body[field.name] = sampleValue(field, made);
      }
      for (let attempt = 0; attempt < 5; attempt++) {
        const reply = await fixture.service.request('POST', `/api/v1/${entity.route}`, { body });
        if (reply.status === 201) break;
        const refused = new Set(reply.body.errors.map((e) => e.field?.split(/[.[]/)[0]));
        body = Object.fromEntries(
          Object.entries(body).filter(
            ([name]) => !refused.has(name) || writable(entity).find((f) => f.name === name)?.required,
          ),
        );
      }
      for (const { path: sortPath } of scalarPaths(entity.fields, '')) {
        for (const sort of [sortPath, `-${sortPath}`]) {
          const all = await fixture.service.request<{ id: string }[]>(
            'GET',
            `/api/v1/${entity.route}?_sort=${sort}&_limit=1000`,
          );
          if (all.status !== 200) continue; // not sortable (e.g. a field of related records)
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await fixture.service.request<{ id: string }[]>(
              'GET',
              `/api/v1/${entity.route}?_sort=${sort}&_limit=1${cursor ? `&_cursor=${cursor}` : ''}`,
            );
            expect(page.status, `${entity.plural} _sort=${sort}: ${JSON.stringify(page.body.errors)}`).toBe(200);
            seen.push(...page.body.data.map((r) => r.id));
            cursor = page.body.metadata.next_cursor as string | undefined;
          } while (cursor && seen.length <= all.body.data.length);
          expect(seen, `${entity.plural} _sort=${sort}`).toEqual(all.body.data.map((r) => r.id));
        }
      }
    }
  }, 300_000);
});
