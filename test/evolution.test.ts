// FR-11: a new field ships as a registry change. Copy the registry, add fields to episode, run
// codegen and migrate against a live database that already holds rows, and show that old rows read
// the new fields as null (or their default), new rows accept them, and no TypeScript changed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { bumped } from '../src/evolution/releases.ts';
import { NEXT_MIGRATION, REGISTRY_VERSION } from './support/project-facts.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';

/** relative path → sha256 of every file under `root`. */
function fingerprint(root: string, dir = root): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) for (const [k, v] of fingerprint(root, full)) files.set(k, v);
    else files.set(path.relative(root, full), createHash('sha256').update(readFileSync(full)).digest('hex'));
  }
  return files;
}

const NEW_FIELDS = [
  '  sponsor:',
  '    type: string',
  '    max_length: 120',
  '    indexed: true',
  '  content_rating:',
  '    type: enum',
  '    values: [general, mature]',
  '    default: general',
  '  styling_notes:',
  '    type: text',
  '    storage: document',
  '',
].join('\n');

let copy: ProjectCopy;
let db: TestDatabase;
const services: TestService[] = [];

afterAll(async () => {
  for (const s of services) await s.stop();
  await db?.drop();
  copy?.remove();
});

describe('schema evolution (FR-11)', () => {
  it('adds fields with a YAML change, codegen and migrate, while the service keeps serving', async () => {
    const sourceBefore = fingerprint(path.join(PROJECT_ROOT, 'src'));
    copy = copyProject();
    db = await createTestDatabase();
    const dirs = copy.dirs;

    const before = await startTestService({ databaseUrl: db.url, ...dirs });
    services.push(before);
    const old = (
      await before.request<Rec>('POST', '/api/v1/episodes', {
        body: { title: 'Recorded before the change', season: 1 },
      })
    ).body.data;
    const rejected = await before.request('POST', '/api/v1/episodes', {
      body: { title: 'Too early', sponsor: 'Chanel' },
    });
    expect(rejected.status).toBe(422);
    expect(rejected.body.errors[0]?.field).toBe('sponsor');

    // The product owner's pull request: YAML only.
    const projectBefore = fingerprint(copy.root);
    copy.edit('registry/entities/episode.yaml', (t) =>
      t.replace('  # --- Production content', `${NEW_FIELDS}  # --- Production content`),
    );
    copy.edit('registry/registry.yaml', (t) =>
      t.replace(/^registry_version: .*$/m, `registry_version: ${bumped(REGISTRY_VERSION, 'minor')}`),
    );
    const check = await runCli(['registry', 'check'], copy.env);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout.match(/FIELD_ADDED: compatible/g)).toHaveLength(3);
    const codegen = await runCli(['codegen'], copy.env);
    expect(codegen.code, codegen.stderr).toBe(0);
    const migrate = await runCli(['migrate'], { ...copy.env, DATABASE_URL: db.url });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toContain(`applied ${NEXT_MIGRATION}_add_episodes_sponsor_episodes_content_rating`);

    // No downtime: the running instance keeps answering through the additive migration.
    const during = await before.request<Rec>('GET', `/api/v1/episodes/${old.id}`);
    expect(during.status).toBe(200);
    expect(during.body.data.title).toBe('Recorded before the change');

    const after = await startTestService({ databaseUrl: db.url, ...dirs, migrateOnStart: false });
    services.push(after);
    const oldRead = await after.request<Rec>('GET', `/api/v1/episodes/${old.id}`);
    expect(oldRead.status).toBe(200);
    expect(oldRead.body.data).toMatchObject({
      id: old.id,
      title: 'Recorded before the change',
      season: 1,
      sponsor: null,
      styling_notes: null,
      content_rating: 'general',
    });
    expect(oldRead.body.data.schema_version).toBe(1);

    const created = await after.request<Rec>('POST', '/api/v1/episodes', {
      body: {
        title: 'Recorded after the change',
        sponsor: 'Chanel',
        content_rating: 'mature',
        styling_notes: 'Steam the blazer',
      },
    });
    expect(created.status).toBe(201);
    const newRead = await after.request<Rec>('GET', `/api/v1/episodes/${created.body.data.id}`);
    expect(newRead.body.data).toMatchObject({
      sponsor: 'Chanel',
      content_rating: 'mature',
      styling_notes: 'Steam the blazer',
    });
    const tooLong = await after.request('POST', '/api/v1/episodes', { body: { title: 'x', sponsor: 'y'.repeat(121) } });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.errors[0]).toMatchObject({
      field: 'sponsor',
      message: 'sponsor must be at most 120 characters long',
    });
    const filtered = await after.request<Rec[]>('GET', '/api/v1/episodes?sponsor=Chanel');
    expect(filtered.body.data.map((r) => r.id)).toEqual([created.body.data.id]);
    const byDocumentField = await after.request<Rec[]>('GET', '/api/v1/episodes?styling_notes=Steam%20the%20blazer');
    expect(byDocumentField.body.data.map((r) => r.id)).toEqual([created.body.data.id]);
    const patched = await after.request<Rec>('PATCH', `/api/v1/episodes/${old.id}`, { body: { sponsor: 'Dior' } });
    expect(patched.body.data).toMatchObject({ sponsor: 'Dior', title: 'Recorded before the change' });

    // What changed: registry/, generated/, migrations/ and the generated field catalog (docs/reference/)
    // only; not one line of TypeScript in src/.
    const projectAfter = fingerprint(copy.root);
    const changed = [...projectAfter]
      .filter(([file, hash]) => projectBefore.get(file) !== hash)
      .map(([file]) => file.split(path.sep)[0]);
    expect(new Set(changed)).toEqual(new Set(['registry', 'generated', 'migrations', 'docs']));
    expect(
      [...projectAfter]
        .filter(([file, hash]) => file.startsWith(`docs${path.sep}`) && projectBefore.get(file) !== hash)
        .map(([file]) => file),
    ).toEqual([path.join('docs', 'reference', 'fields.md')]);
    expect(fingerprint(path.join(PROJECT_ROOT, 'src'))).toEqual(sourceBefore);

    // And the generated down step takes it back out.
    await after.stop();
    services.splice(services.indexOf(after), 1);
    const down = await runCli(['migrate', 'down'], { ...copy.env, DATABASE_URL: db.url });
    expect(down.code, down.stderr).toBe(0);
    const columns = await db.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'episodes'",
    );
    expect(columns.map((c) => c.column_name)).not.toContain('sponsor');
  });
});
