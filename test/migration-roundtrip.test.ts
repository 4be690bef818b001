// Every migration has a down step that really undoes it: on a fresh database each migration is
// applied, reverted and applied again, and the schema after the revert equals the one before it,
// the schema after the second up the one after the first. The same loop runs over freshly
// generated online migrations (an index on a document field, then the promotion of document
// fields of every type to columns) on a table with rows, checking the data both ways.
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PROJECT_ROOT } from '../src/config.ts';
import { migrateDown, migrateUp, readMigrationFiles, type MigrationFile } from '../src/db/migrator.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { MIGRATION_LABELS, NEXT_MIGRATION } from './support/project-facts.ts';
import { dumpSchema } from './support/schema-dump.ts';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const label = (m: MigrationFile) => `${String(m.version).padStart(4, '0')}_${m.name}`;

/** A migration's SQL without its comments and its `DO $backfill$` blocks: what would change the schema. */
const schemaStatements = (sqlText: string) =>
  sqlText
    .replace(/DO \$backfill\$[\s\S]*?\$backfill\$;/g, '')
    .replace(/^--.*$/gm, '')
    .trim();

/** Up, down, up for each of `files` in order; `check` runs after each step with its name. */
async function upDownUp(
  db: TestDatabase,
  dir: string,
  files: readonly MigrationFile[],
  check?: (after: 'up' | 'down' | 'up again', file: MigrationFile) => Promise<void>,
) {
  for (const file of files) {
    const before = await dumpSchema(db);
    expect((await migrateUp(db.url, dir, { to: file.version })).map(label)).toEqual([label(file)]);
    const afterUp = await dumpSchema(db);
    // A migration that leaves the schema as it was must be data only: backfills (normalize:).
    if (isDeepStrictEqual(afterUp, before))
      expect(schemaStatements(file.up), `${label(file)} changed nothing`).toBe('');
    await check?.('up', file);
    expect((await migrateDown(db.url, dir, 1)).map(label)).toEqual([label(file)]);
    expect(await dumpSchema(db), `${label(file)}.down.sql did not restore the schema`).toEqual(before);
    await check?.('down', file);
    await migrateUp(db.url, dir, { to: file.version });
    expect(await dumpSchema(db), `${label(file)} applied again differs`).toEqual(afterUp);
    await check?.('up again', file);
  }
}

describe('up, down, up', () => {
  it('restores the schema exactly for every committed migration', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const dir = path.join(PROJECT_ROOT, 'migrations');
    const files = readMigrationFiles(dir);
    expect(files.map(label)).toEqual(MIGRATION_LABELS);
    await upDownUp(db, dir, files);
  });

  it('restores schema and data for generated online migrations: a document index, then a promotion of every field type', async () => {
    const copy: ProjectCopy = copyProject();
    cleanup.push(() => copy.remove());
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const documentFields = [
      '  tier: { type: string, max_length: 40, storage: document }',
      '  code: { type: string, required: true, storage: document }',
      '  rank: { type: integer, minimum: 1, indexed: true, storage: document }',
      '  score: { type: number, storage: document }',
      '  featured: { type: boolean, default: false, storage: document }',
      '  air_date: { type: date, storage: document }',
      '  embargo_until: { type: datetime, storage: document }',
      '  extras: { type: object, storage: document }',
      '',
    ].join('\n');
    copy.edit('registry/entities/episode.yaml', (t) =>
      t.replace('  # --- Production content', `${documentFields}  # --- Production content`),
    );
    const first = await runCli(['codegen'], copy.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`new migration: ${NEXT_MIGRATION}_update_constraints`);
    copy.edit('registry/entities/episode.yaml', (t) => t.replaceAll(', storage: document }', ' }'));
    const second = await runCli(['codegen'], copy.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/new migration: \d{4}_promote_episodes_tier_episodes_code_episodes_rank/);

    const files = readMigrationFiles(copy.migrationsDir);
    const committed = files.filter((f) => MIGRATION_LABELS.includes(label(f)));
    const generated = files.filter((f) => !MIGRATION_LABELS.includes(label(f)));
    expect(generated).toHaveLength(2);
    await migrateUp(db.url, copy.migrationsDir, { to: committed.at(-1)!.version });

    // 5,000 rows, so that the backfill takes several batches; a few with odd or missing values.
    await db.query(`
      INSERT INTO episodes (id, schema_version, title, doc)
      SELECT 'ep_20250101_' || lpad(g::text, 10, '0'), 1, 'Episode ' || g,
             jsonb_strip_nulls(jsonb_build_object(
               'tier', (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3], 'code', 'C' || g, 'rank', g, 'score', g / 4.0,
               'featured', g % 2 = 0, 'air_date', CASE WHEN g % 10 <> 0 THEN '2025-03-' || lpad((1 + g % 28)::text, 2, '0') END,
               'embargo_until', '2025-06-01T12:00:00.' || lpad((g % 1000)::text, 3, '0') || 'Z', 'extras', jsonb_build_object('n', g)))
      FROM generate_series(1, 5000) AS g`);
    // Values the columns cannot hold stay in doc and read as null in the column.
    await db.query(
      `UPDATE episodes SET doc = doc || '{"air_date": "2025-02-30", "score": "high"}' WHERE id = 'ep_20250101_0000000007'`,
    );
    const odd = 'ep_20250101_0000000007';
    const viaColumn = 'ep_20250101_0000000011';
    const viaDoc = 'ep_20250101_0000000012';
    const promoted = ['tier', 'code', 'rank', 'score', 'featured', 'air_date', 'embargo_until', 'extras'];
    const expected = (id: number) => ({
      tier: ['gold', 'silver', 'bronze'][id % 3],
      code: `C${id}`,
      rank: String(id),
      score: id / 4,
      featured: id % 2 === 0,
      air_date: id % 10 === 0 ? null : `2025-03-${String(1 + (id % 28)).padStart(2, '0')}`,
      embargo_until: `2025-06-01T12:00:00.${String(id % 1000).padStart(3, '0')}Z`,
      extras: { n: id },
    });
    const docOf = async (id: string) =>
      (await db.query<{ doc: Record<string, unknown> }>('SELECT doc FROM episodes WHERE id = $1', [id]))[0]!.doc;
    const columnsOf = async (id: string) =>
      (
        await db.query(
          `SELECT tier, code, rank::text, score, featured, to_char(air_date, 'YYYY-MM-DD') AS air_date,
                  to_char(embargo_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS embargo_until, extras
           FROM episodes WHERE id = $1`,
          [id],
        )
      )[0]!;

    await upDownUp(db, copy.migrationsDir, generated, async (after, file) => {
      if (file !== generated[1]) return;
      if (after === 'down') {
        // Back in doc, including what was written through the columns while they existed.
        expect((await docOf(viaColumn)).tier).toBe('written through the column');
        expect((await docOf(viaDoc)).tier).toBe('written through doc');
        expect(await docOf(odd)).toMatchObject({ air_date: '2025-02-30', score: 'high' });
        return;
      }
      // Every row's columns hold its doc values, and doc keeps them (old code still reads doc).
      const disagreeing = await db.query(
        `SELECT id FROM episodes WHERE ${promoted.map((f) => `${f} IS DISTINCT FROM promote_episodes_${f}_from_doc(doc -> '${f}')`).join(' OR ')}`,
      );
      expect(disagreeing).toEqual([]);
      expect(await columnsOf('ep_20250101_0000000020')).toEqual(expected(20));
      expect(await columnsOf('ep_20250101_0000004999')).toEqual(expected(4999));
      expect(await columnsOf(odd)).toMatchObject({ air_date: null, score: null, tier: 'silver' });
      expect(await docOf(odd)).toMatchObject({ air_date: '2025-02-30', score: 'high' });
      const invalid = await db.query(
        `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'episodes'::regclass AND NOT indisvalid`,
      );
      expect(invalid).toEqual([]);
      if (after === 'up') {
        // Writes through either side reach the other; the up-again pass re-reads them from doc.
        await db.query(`UPDATE episodes SET tier = 'written through the column' WHERE id = $1`, [viaColumn]);
        expect((await docOf(viaColumn)).tier).toBe('written through the column');
        await db.query(`UPDATE episodes SET doc = jsonb_set(doc, '{tier}', '"written through doc"') WHERE id = $1`, [
          viaDoc,
        ]);
        expect((await columnsOf(viaDoc)).tier).toBe('written through doc');
      } else {
        expect((await columnsOf(viaColumn)).tier).toBe('written through the column');
        expect((await columnsOf(viaDoc)).tier).toBe('written through doc');
      }
    });
    const columns = await db.query<{ column_name: string; is_nullable: string; column_default: string | null }>(
      `SELECT column_name, is_nullable, column_default FROM information_schema.columns WHERE table_name = 'episodes' AND column_name IN ('code', 'featured')`,
    );
    expect(columns).toEqual(
      expect.arrayContaining([
        { column_name: 'code', is_nullable: 'NO', column_default: null },
        { column_name: 'featured', is_nullable: 'YES', column_default: 'false' },
      ]),
    );
  }, 180_000);
});
