// Codegen: generated/ and migrations/ follow the registry, `--check` catches drift, and the
// OpenAPI document covers every route the service serves.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createApp } from '../src/api/app.ts';
import { documentPaths } from '../src/api/openapi/document.ts';
import type { Parameter, Route } from '../src/api/route.ts';
import { PROJECT_ROOT } from '../src/config.ts';
import { migrateDown, migrateUp } from '../src/db/migrator.ts';
import { createDatabasePool, type DatabasePool } from '../src/db/pool.ts';
import { createAjv } from '../src/registry/ajv.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { NEXT_MIGRATION } from './support/project-facts.ts';
import { appendixB, shippedModel } from './support/fixtures.ts';

let copy: ProjectCopy | undefined;
afterEach(() => copy?.remove());

const EPISODE = 'registry/entities/episode.yaml';
const addFields = (yaml: string) =>
  yaml.replace(
    '  # --- Production content',
    '  sponsor:\n    type: string\n    max_length: 120\n    indexed: true\n    description: Brand sponsoring the episode.\n  # --- Production content',
  );

describe('npm run codegen -- --check', () => {
  it('passes on the repository as committed', async () => {
    const result = await runCli(['codegen', '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/match the registry/);
  });

  it('fails and names every stale file when the registry changed', async () => {
    copy = copyProject();
    copy.edit(EPISODE, addFields);
    const result = await runCli(['codegen', '--check'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stale: .*generated\/schemas\/episode\.schema\.json/);
    expect(result.stderr).toMatch(/stale: .*generated\/types\/episode\.ts/);
    expect(result.stderr).toMatch(/stale: .*generated\/openapi\.json/);
    expect(result.stderr).toContain(`would write ${NEXT_MIGRATION}_add_episodes_sponsor`);
    expect(readdirSync(copy.migrationsDir).filter((f) => f.startsWith(NEXT_MIGRATION))).toEqual([]);
  });

  it('fails when a generated file was edited by hand', async () => {
    copy = copyProject();
    copy.edit('generated/types/show.ts', (t) => `${t}\nexport const handEdited = true;\n`);
    const result = await runCli(['codegen', '--check'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stale: .*generated\/types\/show\.ts/);
  });
});

describe('npm run codegen', () => {
  it('writes the next migration with ADD COLUMN, its constraint and index, and a down step', async () => {
    copy = copyProject();
    copy.edit(EPISODE, addFields);
    const result = await runCli(['codegen'], copy.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`new migration: ${NEXT_MIGRATION}_add_episodes_sponsor`);
    const up = copy.read(`migrations/${NEXT_MIGRATION}_add_episodes_sponsor.up.sql`);
    expect(up).toMatch(/^-- reelmeta: no-transaction$/m);
    expect(up).toContain('ALTER TABLE "episodes" ADD COLUMN IF NOT EXISTS "sponsor" text;');
    expect(up).toContain('ADD CONSTRAINT "episodes_sponsor_check" CHECK (char_length("sponsor") <= 120) NOT VALID;');
    expect(up).toContain('VALIDATE CONSTRAINT "episodes_sponsor_check"');
    expect(up).toContain('CREATE INDEX CONCURRENTLY "episodes_sponsor_idx" ON "episodes" USING btree ("sponsor");');
    const down = copy.read(`migrations/${NEXT_MIGRATION}_add_episodes_sponsor.down.sql`);
    expect(down).toContain('DROP INDEX CONCURRENTLY IF EXISTS "episodes_sponsor_idx";');
    expect(down).toContain('ALTER TABLE "episodes" DROP COLUMN IF EXISTS "sponsor";');
    expect(down.indexOf('DROP INDEX')).toBeLessThan(down.indexOf('DROP COLUMN'));
    expect(JSON.parse(copy.read('generated/schemas/episode.schema.json')).properties.sponsor).toMatchObject({
      type: ['string', 'null'],
      maxLength: 120,
    });
    expect(copy.read('generated/types/episode.ts')).toMatch(/sponsor\?: string \| null;/);

    const again = await runCli(['codegen'], copy.env);
    expect(again.stdout).toMatch(/everything is up to date/);
    expect((await runCli(['codegen', '--check'], copy.env)).code).toBe(0);
  }, 180_000);

  it('refuses to drop a field that holds data, and writes nothing', async () => {
    copy = copyProject();
    copy.edit(EPISODE, (t) => t.replace('  copyright: { type: string, max_length: 300 }\n', ''));
    const result = await runCli(['codegen'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^registry\/entities\/episode\.yaml: fields\.copyright: field "copyright" was removed .* mark the field deprecated instead/,
    );
    expect(readdirSync(copy.migrationsDir).filter((f) => f.startsWith(NEXT_MIGRATION))).toEqual([]);
  });

  it('refuses to change a field’s storage type', async () => {
    copy = copyProject();
    copy.edit(EPISODE, (t) => t.replace('duration_seconds: { type: integer', 'duration_seconds: { type: number'));
    const result = await runCli(['codegen'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/duration_seconds.*changed storage type from bigint to double precision/);
  });
});

describe('the generated full-text column', () => {
  it('is rebuilt with its index when the searchable fields change, and the down step restores it', async () => {
    copy = copyProject();
    copy.edit(EPISODE, (t) =>
      t.replace(
        '  copyright: { type: string, max_length: 300 }',
        '  copyright: { type: string, max_length: 300, searchable: true }',
      ),
    );
    const result = await runCli(['codegen'], copy.env);
    expect(result.code, result.stderr).toBe(0);
    const [upFile] = readdirSync(copy.migrationsDir).filter(
      (f) => f.startsWith(NEXT_MIGRATION) && f.endsWith('.up.sql'),
    );
    const up = copy.read(`migrations/${upFile}`);
    expect(up).toContain('ALTER TABLE "episodes" DROP COLUMN IF EXISTS "search_vector";');
    expect(up).toMatch(
      /ADD COLUMN IF NOT EXISTS "search_vector" tsvector GENERATED ALWAYS AS \(.*coalesce\("copyright", ''\).*\) STORED;/,
    );
    expect(up).toContain(
      'CREATE INDEX IF NOT EXISTS "episodes_search_vector_idx" ON "episodes" USING gin ("search_vector");',
    );

    const db = await createTestDatabase();
    try {
      await migrateUp(db.url, path.join(PROJECT_ROOT, 'migrations'));
      await db.query(
        "INSERT INTO episodes (id, schema_version, title, copyright) VALUES ('ep_20250101_aaaaaaaaaa', 1, 'Gala', 'Maison Lumiere')",
      );
      const matches = (word: string) =>
        db
          .query(`SELECT id FROM episodes WHERE search_vector @@ websearch_to_tsquery('english', $1)`, [word])
          .then((rows) => rows.length);
      expect(await matches('lumiere')).toBe(0);
      await migrateUp(db.url, copy.migrationsDir);
      expect(await matches('lumiere')).toBe(1);
      expect(await matches('gala')).toBe(1);
      const indexes = await db.query<{ indexname: string }>(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'episodes' AND indexname = 'episodes_search_vector_idx'",
      );
      expect(indexes).toHaveLength(1);
      await migrateDown(db.url, copy.migrationsDir);
      expect(await matches('lumiere')).toBe(0);
      expect(await matches('gala')).toBe(1);
      expect(
        await db.query("SELECT indexname FROM pg_indexes WHERE indexname = 'episodes_search_vector_idx'"),
      ).toHaveLength(1);
    } finally {
      await db.drop();
    }
  });
});

describe('generated schemas', () => {
  it('are JSON Schema 2020-12 that accept the Appendix B records', () => {
    const ajv = createAjv();
    const schema = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'generated/schemas/episode.schema.json'), 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const validate = ajv.compile(schema);
    for (const name of ['minimal', 'with-production-assets', 'fully-evolved']) {
      const record = appendixB(name);
      if (record.status === 'in-production') record.status = 'in_production';
      expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(validate({ title: 'x', wardrobe: { shoes: { colour: 'red' } } })).toBe(false);
  });
});

describe('the route table', () => {
  const route = (path: string, parameters: Parameter[]): Route => ({
    method: 'get',
    path,
    operationId: 'probe',
    summary: 'A probe',
    tags: ['ops'],
    parameters,
    responses: { 200: { description: 'OK' } },
    handler: () => (c) => c.text('ok'),
  });
  const id: Parameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

  it('documents a path parameter for each :name of a route, once per path', () => {
    expect(documentPaths([route('/x/:id', [id])])['/x/{id}']).toMatchObject({ parameters: [id] });
    expect(() => documentPaths([route('/x/:id', [])])).toThrow(/path parameters/);
    expect(() => documentPaths([route('/x', [id])])).toThrow(/path parameters/);
    expect(() => documentPaths([route('/x/:id', [id]), route('/x/:id', [id])])).toThrow(/twice/);
  });
});

describe('generated/openapi.json', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('is OpenAPI 3.1 and documents exactly the routes the app serves', async () => {
    db = await createTestDatabase();
    pool = await createDatabasePool(db.url, 1);
    const model = shippedModel();
    const app = createApp({ model, pool, logger: pino({ level: 'silent' }) });
    const openapi = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'generated/openapi.json'), 'utf8'));
    expect(openapi.openapi).toBe('3.1.0');

    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
        .filter((r) => !r.includes('/docs/')),
    );
    const documented = new Set(
      Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
        Object.keys(item)
          .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
          .map((method) => `${method} ${p}`),
      ),
    );
    expect([...documented].sort()).toEqual([...served].sort());
    expect(served.has('patch /api/v1/episodes/{id}')).toBe(true);
    // Every operation says what it answers when it works.
    for (const [p, item] of Object.entries(openapi.paths as Record<string, Record<string, unknown>>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const { summary, tags, responses } = operation as { summary?: string; tags?: string[]; responses: object };
        expect(summary, `${method} ${p}`).toBeTruthy();
        expect(tags?.length, `${method} ${p}`).toBe(1);
        expect(
          Object.keys(responses).some((status) => /^[23]/.test(status)),
          `${method} ${p}`,
        ).toBe(true);
      }
    }

    const ajv = createAjv();
    // Every component schema compiles as JSON Schema 2020-12, its $refs included.
    const defs = JSON.parse(JSON.stringify(openapi.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'));
    ajv.addSchema({ $id: 'https://reelmeta.test/openapi.json', $defs: defs });
    for (const name of Object.keys(defs))
      expect(ajv.getSchema(`https://reelmeta.test/openapi.json#/$defs/${name}`), name).toBeTypeOf('function');
  });
});
