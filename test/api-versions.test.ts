// NFR-16, NFR-17: a breaking registry change (release_date renamed to premiere_date, and
// duration_seconds moved into a new `timing` group) makes the next major registry version and API v2. One process,
// one model, serves /api/v1 in the 1.x shape through the recorded steps and /api/v2 in the new one;
// rows stored before the change are upgraded on read, and in bulk by `npm run upgrade`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabasePool } from '../src/db/pool.ts';
import { RecordStore } from '../src/db/records.ts';
import { upgradeStored } from '../src/db/upgrade-stored.ts';
import { loadModel } from '../src/load-model.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';
import { bumped } from '../src/evolution/releases.ts';
import { REGISTRY_VERSION } from './support/project-facts.ts';

/** The breaking change's registry version: the next major after the committed one. */
const MAJOR = bumped(REGISTRY_VERSION, 'major');
const MAJOR_PATTERN = MAJOR.replace(/\./g, '\\.');

const UPGRADE_STEPS = [
  'reserved: [release_date, duration_seconds]',
  'upgrades:',
  '  2:',
  '    - rename: { from: release_date, to: premiere_date }',
  '    - move: { from: duration_seconds, to: timing.duration_seconds }',
  '',
].join('\n');

const TIMING = [
  '  timing:',
  '    type: object',
  '    description: Running times.',
  '    fields:',
  '      duration_seconds: { type: integer, minimum: 0, description: Running time in seconds. }',
  '      intro_seconds: { type: integer, minimum: 0, description: Length of the intro. }',
].join('\n');

let copy: ProjectCopy;
let db: TestDatabase;
let service: TestService;
const old: Rec[] = [];
let checkOutput = '';

beforeAll(async () => {
  copy = copyProject();
  db = await createTestDatabase();
  const dirs = copy.dirs;
  const before = await startTestService({ databaseUrl: db.url, ...dirs });
  for (const [index, day] of ['2025-03-01', '2025-04-01', '2025-05-01'].entries()) {
    const reply = await before.request<Rec>('POST', '/api/v1/episodes', {
      body: { title: `Old ${index}`, release_date: day, duration_seconds: 600 + index },
    });
    expect(reply.status).toBe(201);
    old.push(reply.body.data);
  }
  await before.stop();

  // The breaking change, as a registry pull request: release 1.7.0 is what v1 keeps speaking.
  copy.edit('registry/registry.yaml', (t) =>
    t
      .replace(/registry_version: .*/, `registry_version: ${MAJOR}`)
      .replace(
        /api_versions: .*/,
        'api_versions:\n  - { name: v1, release: 1.7.0, deprecation: 2026-11-25, sunset: 2027-05-31 }\n  - v2',
      ),
  );
  copy.edit('registry/entities/episode.yaml', (t) =>
    t
      .replace('schema_version: 1\n', `schema_version: 2\n${UPGRADE_STEPS}`)
      .replace(/ {2}duration_seconds: \{[^\n]*\}/, TIMING)
      .replace('  release_date: {', '  premiere_date: {'),
  );
  const check = await runCli(['registry', 'check'], copy.env);
  checkOutput = check.stdout;
  expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
  const codegen = await runCli(['codegen'], copy.env);
  expect(codegen.code, codegen.stderr).toBe(0);
  service = await startTestService({ databaseUrl: db.url, ...dirs });
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await db?.drop();
  copy?.remove();
});

describe('two API versions from one model', () => {
  it('passes registry:check as a major version whose steps cover the rename and the move', () => {
    expect(checkOutput).toMatch(
      new RegExp(
        `episode\\.yaml: fields\\.premiere_date: FIELD_RENAMED: breaking \\(covered\\): episode\\.premiere_date renamed from release_date; covered by registry_version ${MAJOR_PATTERN} and upgrades\\.2\\.0`,
      ),
    );
    expect(checkOutput).toMatch(
      /episode\.yaml: fields\.timing\.fields\.duration_seconds: FIELD_RENAMED: breaking \(covered\): .* and upgrades\.2\.1/,
    );
    expect(checkOutput).toMatch(new RegExp(`^registry check passed: ${MAJOR_PATTERN}`, 'm'));
  });

  it('keeps the renamed and moved columns for old rows, and adds the new ones', async () => {
    const columns = (
      await db.query<{ column_name: string; is_nullable: string }>(
        "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'episodes'",
      )
    ).map((c) => c.column_name);
    expect(columns).toEqual(expect.arrayContaining(['release_date', 'duration_seconds', 'premiere_date', 'timing']));
    const stored = await db.query<{ schema_version: number; release_date: string }>(
      'SELECT schema_version, release_date::text FROM episodes WHERE id = $1',
      [old[0]!.id],
    );
    expect(stored).toEqual([{ schema_version: 1, release_date: '2025-03-01' }]);
  });

  it('answers v2 in the current shape, upgrading a row stored in schema_version 1 on read', async () => {
    const reply = await service.request<Rec>('GET', `/api/v2/episodes/${old[0]!.id}`);
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({
      premiere_date: '2025-03-01',
      timing: { duration_seconds: 600 },
      schema_version: 2,
    });
    expect(reply.body.data).not.toHaveProperty('release_date');
    expect(reply.body.data).not.toHaveProperty('duration_seconds');
    expect(reply.body.metadata).toMatchObject({ schema_version: 2, registry_version: MAJOR });
    expect(reply.headers.get('deprecation')).toBeNull();
  });

  it('answers v1 in the 1.x shape, with Deprecation, Sunset and successor headers', async () => {
    const reply = await service.request<Rec>('GET', `/api/v1/episodes/${old[1]!.id}`);
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ release_date: '2025-04-01', duration_seconds: 601, schema_version: 1 });
    expect(reply.body.data).not.toHaveProperty('premiere_date');
    expect(reply.body.data).not.toHaveProperty('timing');
    expect(reply.body.metadata).toMatchObject({ schema_version: 1, registry_version: MAJOR });
    expect(reply.headers.get('deprecation')).toBe(`@${Date.UTC(2026, 10, 25) / 1000}`);
    expect(reply.headers.get('sunset')).toBe('Mon, 31 May 2027 00:00:00 GMT');
    expect(reply.headers.get('link')).toBe('</api/v2>; rel="successor-version"');
  });

  it('takes v1 writes in the old shape and stores the current one', async () => {
    const created = await service.request<Rec>('POST', '/api/v1/episodes', {
      body: { title: 'Written through v1', release_date: '2026-01-10', duration_seconds: 900 },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ release_date: '2026-01-10', duration_seconds: 900, schema_version: 1 });
    const id = created.body.data.id;
    const stored = await db.query<Rec>(
      'SELECT schema_version, premiere_date::text, timing, release_date FROM episodes WHERE id = $1',
      [id],
    );
    expect(stored).toEqual([
      { schema_version: 2, premiere_date: '2026-01-10', timing: { duration_seconds: 900 }, release_date: null },
    ]);

    // A v2 client sets a field v1 does not know; a v1 PATCH of the moved field keeps it.
    expect(
      (await service.request('PATCH', `/api/v2/episodes/${id}`, { body: { timing: { intro_seconds: 30 } } })).status,
    ).toBe(200);
    const patched = await service.request<Rec>('PATCH', `/api/v1/episodes/${id}`, {
      body: { duration_seconds: 950, release_date: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ duration_seconds: 950, release_date: null });
    const v2 = await service.request<Rec>('GET', `/api/v2/episodes/${id}`);
    expect(v2.body.data).toMatchObject({ premiere_date: null, timing: { duration_seconds: 950, intro_seconds: 30 } });

    const batch = await service.request<Rec[]>('POST', '/api/v1/episodes/batch', {
      body: {
        operations: [
          { op: 'create', data: { title: 'Batch through v1', release_date: '2026-02-01' } },
          { op: 'update', id, data: { duration_seconds: 960 } },
        ],
      },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.data.map((r) => (r.data as Rec).release_date ?? (r.data as Rec).duration_seconds)).toEqual([
      '2026-02-01',
      960,
    ]);
  });

  it('names fields as v1 does in its errors, and refuses the new names there', async () => {
    const bad = await service.request('POST', '/api/v1/episodes', {
      body: { title: 'x', release_date: 'soon', duration_seconds: -1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['duration_seconds', 'release_date']);
    expect(bad.body.errors.find((e) => e.field === 'duration_seconds')?.message).toBe(
      'duration_seconds must be at least 0',
    );
    const newName = await service.request('POST', '/api/v1/episodes', {
      body: { title: 'x', premiere_date: '2026-01-01' },
    });
    expect(newName.status).toBe(422);
    expect(newName.body.errors[0]).toMatchObject({
      field: 'premiere_date',
      message: 'premiere_date is not a field of episode in v1; send release_date, or use the current API version',
    });
    const inV2 = await service.request('POST', '/api/v2/episodes', {
      body: { title: 'x', release_date: '2026-01-01' },
    });
    expect(inV2.status).toBe(422);
    expect(inV2.body.errors[0]?.field).toBe('release_date');
  });

  it('names fields as v1 does in the errors of every write route: patch, replace, batch items and an atomic batch', async () => {
    const id = old[0]!.id as string;
    const v1Problem = { field: 'duration_seconds', message: 'duration_seconds must be at least 0' };
    for (const [method, body] of [
      ['PATCH', { duration_seconds: -1 }],
      ['PUT', { title: 'x', duration_seconds: -1 }],
    ] as const) {
      const reply = await service.request(method, `/api/v1/episodes/${id}`, { body });
      expect(reply.status, method).toBe(422);
      expect(reply.body.errors, method).toContainEqual(expect.objectContaining(v1Problem));
    }
    // Nothing here may succeed: a later test counts the episodes.
    const operations = [{ op: 'update', id, data: { duration_seconds: -1 } }, { op: 'bogus' }];
    type Item = { errors?: { field: string; message: string }[] };
    const items = await service.request<Item[]>('POST', '/api/v1/episodes/batch', { body: { operations } });
    expect(items.status).toBe(200);
    expect(items.body.data[0]!.errors).toContainEqual(
      expect.objectContaining({ field: 'operations[0].duration_seconds', message: v1Problem.message }),
    );
    // An operation's own fields (op, id, data) are not record fields: never renamed.
    expect(items.body.data[1]!.errors![0]).toMatchObject({ field: 'operations[1].op' });
    const atomic = await service.request('POST', '/api/v1/episodes/batch?atomic=true', {
      body: { operations: operations.slice(0, 1) },
    });
    expect(atomic.status).toBe(422);
    expect(atomic.body.errors).toContainEqual(
      expect.objectContaining({
        field: 'operations[0].duration_seconds',
        message: `operation 0 failed, so none was applied: ${v1Problem.message}`,
      }),
    );
    // And the current version names the same problem by its current path.
    const v2 = await service.request('PATCH', `/api/v2/episodes/${id}`, { body: { timing: { duration_seconds: -1 } } });
    expect(v2.body.errors).toContainEqual(
      expect.objectContaining({
        field: 'timing.duration_seconds',
        message: 'timing.duration_seconds must be at least 0',
      }),
    );
  });

  it('documents each version in its own shape in /openapi.json', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { parameters?: { name: string }[]; requestBody?: { content: Record<string, { schema: unknown }> } }
        >
      >;
      components: { schemas: Record<string, { properties: Record<string, { properties?: Record<string, unknown> }> }> };
    };
    const v1 = doc.components.schemas.Episode_v1!;
    expect(Object.keys(v1.properties)).toEqual(expect.arrayContaining(['release_date', 'duration_seconds']));
    expect(v1.properties).not.toHaveProperty('premiere_date');
    expect(Object.keys(v1.properties.timing!.properties!)).toEqual(['intro_seconds']);
    expect(doc.components.schemas.Episode!.properties).toHaveProperty('premiere_date');
    expect(doc.paths['/api/v1/episodes']!.post!.requestBody!.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Episode_v1',
    });
    expect(doc.paths['/api/v2/episodes']!.post!.requestBody!.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Episode',
    });
    expect(doc.paths['/api/v1/episodes']!.get!.parameters!.map((p) => p.name)).toContain('release_date');
    expect(doc.paths['/api/v2/episodes']!.get!.parameters!.map((p) => p.name)).toContain('premiere_date');
    expect(doc.paths['/api/v1/shows']!.post!.requestBody!.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Show',
    });
  });

  it('refuses to upgrade a database that is not migrated, saying what to run', async () => {
    const empty = await createTestDatabase();
    try {
      const run = await runCli(['upgrade', 'episode'], { ...copy.env, DATABASE_URL: empty.url });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^error: the database is not migrated: 0001_\w+ is pending and \d+ more; run `npm run migrate`/,
      );
      expect(run.stderr).not.toMatch(/relation .* does not exist/);
    } finally {
      await empty.drop();
    }
  });

  it('upgrades every old row in bulk, resumably, and then v1 queries by the old names find them', async () => {
    const run = await runCli(['upgrade', 'episode', '--batch-size', '2'], { ...copy.env, DATABASE_URL: db.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('upgraded 3 episodes to schema_version 2; 0 left in an older version');
    const versions = await db.query<{ schema_version: number; n: number }>(
      'SELECT schema_version, count(*)::int AS n FROM episodes GROUP BY 1',
    );
    expect(versions).toEqual([{ schema_version: 2, n: 5 }]);
    const again = await runCli(['upgrade', 'episode'], { ...copy.env, DATABASE_URL: db.url });
    expect(again.stdout).toContain('upgraded 0 episodes');

    const list = await service.request<Rec[]>(
      'GET',
      '/api/v1/episodes?release_date[gte]=2025-04-01&_sort=-release_date&_fields=release_date,duration_seconds',
    );
    expect(list.status).toBe(200);
    expect(list.body.data.map((r) => [r.release_date, r.duration_seconds])).toEqual([
      ['2026-02-01', null],
      ['2025-05-01', 602],
      ['2025-04-01', 601],
    ]);
    const filter = encodeURIComponent(
      JSON.stringify({ duration_seconds: { _gte: 601 }, release_date: { _nnull: true } }),
    );
    const byFilter = await service.request<Rec[]>('GET', `/api/v1/episodes?filter=${filter}&_sort=release_date`);
    expect(byFilter.body.data.map((r) => r.title)).toEqual(['Old 1', 'Old 2']);
    const v2 = await service.request<Rec[]>(
      'GET',
      '/api/v2/episodes?timing.duration_seconds[gte]=601&_sort=premiere_date',
    );
    expect(v2.body.data.map((r) => r.title)).toEqual(['Old 1', 'Old 2', 'Written through v1']);

    const csv = await fetch(
      `${service.url}/api/v1/episodes/export?format=csv&_fields=title,release_date&_sort=release_date&title=Old%200`,
    );
    expect(await csv.text()).toBe(`id,title,release_date\n${old[0]!.id},Old 0,2025-03-01\n`);
  });
});

describe('npm run upgrade while the service writes', () => {
  it('upgrades thousands of old rows in batches, survives an interruption, and loses no concurrent write', async () => {
    await db.query(`
      INSERT INTO episodes (id, schema_version, title, release_date, duration_seconds, status, doc)
      SELECT 'ep_20250101_bulk' || lpad(n::text, 6, '0'), 1, 'Bulk ' || n, date '2024-01-01' + n, n, 'draft', '{}'::jsonb
      FROM generate_series(1, 3000) AS n`);
    const model = loadModel(copy.registryDir);
    const pool = await createDatabasePool(db.url, 2);
    const store = new RecordStore(pool, model.entities.find((e) => e.name === 'episode')!, model.entities);
    try {
      // A run that dies after its first batch leaves the rest for the next run.
      const crash = new Error('interrupted');
      await expect(
        upgradeStored(store, {
          batchSize: 250,
          onProgress: () => {
            throw crash;
          },
        }),
      ).rejects.toBe(crash);
      expect(await store.countOutdated()).toBe(3000 - 250);

      let writing = true;
      const failures: number[] = [];
      const writes = (async () => {
        for (let n = 1; writing; n = (n % 3000) + 1) {
          const id = `ep_20250101_bulk${String(n).padStart(6, '0')}`;
          const reply = await service.request('PATCH', `/api/v2/episodes/${id}`, { body: { title: `Edited ${n}` } });
          if (reply.status !== 200) failures.push(reply.status);
        }
      })();
      const outcome = await upgradeStored(store, { batchSize: 250 });
      writing = false;
      await writes;
      expect(failures).toEqual([]);
      expect(outcome.remaining).toBe(0);
      const rows = await db.query<{ n: number; wrong: number }>(`
        SELECT count(*)::int AS n, count(*) FILTER (WHERE premiere_date IS DISTINCT FROM release_date OR (timing->>'duration_seconds')::int IS DISTINCT FROM duration_seconds)::int AS wrong
        FROM episodes WHERE id LIKE 'ep_20250101_bulk%' AND schema_version = 2`);
      expect(rows).toEqual([{ n: 3000, wrong: 0 }]);
      const edited = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM episodes WHERE title LIKE 'Edited %'",
      );
      expect(edited[0]!.n).toBeGreaterThan(0);
    } finally {
      await pool.end();
    }
  }, 120_000);
});

describe('an enum value renamed by map_values', () => {
  it('migrates without validating old rows against the new values, reads them mapped, and upgrades them in bulk', async () => {
    const mapped = copyProject();
    const database = await createTestDatabase();
    const dirs = mapped.dirs;
    let running: TestService | undefined;
    try {
      running = await startTestService({ databaseUrl: database.url, ...dirs });
      const paused = (
        await running.request<Rec>('POST', '/api/v1/shows', { body: { title: 'On a break', status: 'on_hold' } })
      ).body.data;
      await running.stop();

      mapped.edit('registry/registry.yaml', (t) =>
        t
          .replace(/registry_version: .*/, `registry_version: ${MAJOR}`)
          .replace(
            /api_versions: .*/,
            'api_versions:\n  - { name: v1, release: 1.7.0, deprecation: 2026-11-25, sunset: 2027-05-31 }\n  - v2',
          ),
      );
      mapped.edit('registry/entities/show.yaml', (t) =>
        t
          .replace(
            'schema_version: 1\n',
            'schema_version: 2\nupgrades:\n  2:\n    - map_values: { field: status, map: { on_hold: paused } }\n',
          )
          .replace(
            'values: [active, on_hold, ended]\n    aliases:\n      on-hold: on_hold',
            'values: [active, paused, ended]\n    aliases:\n      on-hold: paused',
          ),
      );
      const check = await runCli(['registry', 'check'], mapped.env);
      expect(check.stdout).toMatch(/show\.yaml: fields\.status: ENUM_VALUE_REMOVED: breaking \(covered\)/);
      expect(check.code, check.stdout).toBe(0);
      expect((await runCli(['codegen'], mapped.env)).code).toBe(0);
      running = await startTestService({ databaseUrl: database.url, ...dirs });

      const constraint = await database.query<{ convalidated: boolean }>(
        "SELECT convalidated FROM pg_constraint WHERE conname = 'shows_status_check'",
      );
      expect(constraint).toEqual([{ convalidated: false }]);
      expect((await running.request<Rec>('GET', `/api/v2/shows/${paused.id}`)).body.data.status).toBe('paused');
      expect((await running.request<Rec>('GET', `/api/v1/shows/${paused.id}`)).body.data.status).toBe('on_hold');
      // New writes are held to the new values (v1's old value is mapped on the way in).
      expect((await running.request('POST', '/api/v2/shows', { body: { title: 'x', status: 'on_hold' } })).status).toBe(
        422,
      );
      const throughV1 = await running.request<Rec>('POST', '/api/v1/shows', {
        body: { title: 'y', status: 'on_hold' },
      });
      expect(throughV1.status).toBe(201);
      expect(
        (
          await database.query<{ status: string }>('SELECT status FROM shows WHERE id = $1', [throughV1.body.data.id])
        )[0]!.status,
      ).toBe('paused');

      const upgrade = await runCli(['upgrade', 'show'], { ...mapped.env, DATABASE_URL: database.url });
      expect(upgrade.stdout, upgrade.stderr).toContain('upgraded 1 shows to schema_version 2');
      expect(await database.query('SELECT status, schema_version FROM shows WHERE id = $1', [paused.id])).toEqual([
        { status: 'paused', schema_version: 2 },
      ]);
    } finally {
      await running?.stop();
      await database.drop();
      mapped.remove();
    }
  }, 120_000);
});

// Last, so that the row counts above are not disturbed.
describe('the audit trail in an older API version', () => {
  it("shows a record's history and answers its revert in the v1 shape", async () => {
    const created = await service.request<Rec>('POST', '/api/v1/episodes', {
      body: { title: 'Audited through v1', release_date: '2026-03-01' },
    });
    const id = created.body.data.id;
    expect(
      (await service.request('PATCH', `/api/v1/episodes/${id}`, { body: { release_date: '2026-03-15' } })).status,
    ).toBe(200);
    const history = await service.request<Rec[]>('GET', `/api/v1/episodes/${id}/history`);
    expect(history.status).toBe(200);
    const update = history.body.data[0]!;
    expect(update).toMatchObject({ operation: 'update', before: { release_date: '2026-03-01', schema_version: 1 } });
    expect(update.before).not.toHaveProperty('premiere_date');
    const reverted = await service.request<Rec>('POST', `/api/v1/episodes/${id}/revert`, {
      body: { audit_id: update.id },
    });
    expect(reverted.status, JSON.stringify(reverted.body.errors)).toBe(200);
    expect(reverted.body.data).toMatchObject({ release_date: '2026-03-01', schema_version: 1 });
    expect(reverted.body.data).not.toHaveProperty('premiere_date');
    expect((await service.request<Rec>('GET', `/api/v2/episodes/${id}`)).body.data).toMatchObject({
      premiere_date: '2026-03-01',
    });
  });
});
