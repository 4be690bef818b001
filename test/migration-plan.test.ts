// The migration planner's output for online changes, on small hand-made table layouts: what runs
// in a transaction and what runs outside one, the order of the steps, and their down steps.
import { describe, expect, it } from 'vitest';
import { BACKFILL_BATCH_ROWS, MigrationRefused, planMigration, type MigrationStep } from '../src/codegen/migration.ts';
import { runCodegen } from '../src/codegen/run.ts';
import type { ColumnSpec, NamedSql, TableSpec } from '../src/codegen/table-spec.ts';
import { parseMigrationScript } from '../src/db/migration-script.ts';
import { loadModel } from '../src/load-model.ts';
import { copyProject } from './support/project-copy.ts';

const column = (name: string, type = 'text', extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  type,
  notNull: false,
  ...extra,
});
const items = (changes: Partial<TableSpec> = {}): TableSpec => ({
  name: 'items',
  entity: 'item',
  columns: [
    column('id', 'text', { notNull: true }),
    column('title'),
    column('doc', 'jsonb', { notNull: true, default: "'{}'::jsonb" }),
  ],
  checks: [],
  foreignKeys: [],
  indexes: [],
  ...changes,
});
const withColumns = (...extra: ColumnSpec[]) => items().columns.slice(0, -1).concat(extra, items().columns.slice(-1));
const titleIndex: NamedSql = { name: 'items_title_idx', definition: 'USING btree ("title")' };
const tx = (...statements: string[]): MigrationStep => ({ statements });
const outside = (...statements: string[]): MigrationStep => ({ statements, outsideTransaction: true });

describe('planMigration', () => {
  it('creates a new table in one plain transaction, its indexes inside it', () => {
    const plan = planMigration([], [items({ indexes: [titleIndex] })])!;
    expect(plan.online).toBe(false);
    expect(plan.up).toHaveLength(1);
    expect(plan.up[0]!.statements.at(-1)).toBe('CREATE INDEX "items_title_idx" ON "items" USING btree ("title");');
    expect(plan.down).toEqual([tx('DROP INDEX "items_title_idx";', 'DROP TABLE "items";')]);
  });

  it('creates new tables first, in a step that can run again, when existing tables change too', () => {
    const tags = items({
      name: 'tags',
      entity: 'tag',
      indexes: [{ name: 'tags_title_idx', definition: 'USING btree ("title")' }],
    });
    const onlyDocument = planMigration(
      [items()],
      [items({ documentFields: [{ name: 'notes', type: 'text' }] }), tags],
    )!;
    expect(onlyDocument.online).toBe(false);
    const plan = planMigration([items()], [items({ indexes: [titleIndex] }), tags])!;
    expect(plan.name).toBe('create_tags');
    expect(plan.online).toBe(true);
    expect(plan.up[0]!.statements[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "tags" \(/);
    expect(plan.up[0]!.statements[1]).toBe(
      'CREATE INDEX IF NOT EXISTS "tags_title_idx" ON "tags" USING btree ("title");',
    );
    expect(plan.up[1]).toEqual(
      outside(
        'DROP INDEX CONCURRENTLY IF EXISTS "items_title_idx";',
        'CREATE INDEX CONCURRENTLY "items_title_idx" ON "items" USING btree ("title");',
      ),
    );
    expect(plan.down).toEqual([
      outside('DROP INDEX CONCURRENTLY IF EXISTS "items_title_idx";'),
      tx('DROP INDEX IF EXISTS "tags_title_idx";', 'DROP TABLE IF EXISTS "tags";'),
    ]);
  });

  it('adds a column to an existing table nullable, its check NOT VALID then VALIDATE, its index CONCURRENTLY', () => {
    const after = items({
      columns: withColumns(column('sponsor')),
      checks: [{ name: 'items_sponsor_check', definition: 'CHECK (char_length("sponsor") <= 120)' }],
      indexes: [{ name: 'items_sponsor_idx', definition: 'USING btree ("sponsor")' }],
    });
    const plan = planMigration([items()], [after])!;
    expect(plan.name).toBe('add_items_sponsor');
    expect(plan.online).toBe(true);
    expect(plan.up).toEqual([
      tx(
        'ALTER TABLE "items" ADD COLUMN IF NOT EXISTS "sponsor" text;',
        'ALTER TABLE "items" DROP CONSTRAINT IF EXISTS "items_sponsor_check";',
        'ALTER TABLE "items" ADD CONSTRAINT "items_sponsor_check" CHECK (char_length("sponsor") <= 120) NOT VALID;',
      ),
      tx('ALTER TABLE "items" VALIDATE CONSTRAINT "items_sponsor_check";'),
      outside(
        'DROP INDEX CONCURRENTLY IF EXISTS "items_sponsor_idx";',
        'CREATE INDEX CONCURRENTLY "items_sponsor_idx" ON "items" USING btree ("sponsor");',
      ),
    ]);
    expect(plan.down).toEqual([
      outside('DROP INDEX CONCURRENTLY IF EXISTS "items_sponsor_idx";'),
      tx(
        'ALTER TABLE "items" DROP CONSTRAINT IF EXISTS "items_sponsor_check";',
        'ALTER TABLE "items" DROP COLUMN IF EXISTS "sponsor";',
      ),
    ]);
  });

  it('replaces a changed check NOT VALID, validates it after, and puts the old one back the same way', () => {
    const check = (max: number): NamedSql => ({
      name: 'items_title_check',
      definition: `CHECK (char_length("title") <= ${max})`,
    });
    const plan = planMigration([items({ checks: [check(300)] })], [items({ checks: [check(20)] })])!;
    const swap = (max: number) => [
      'ALTER TABLE "items" DROP CONSTRAINT IF EXISTS "items_title_check";',
      'ALTER TABLE "items" DROP CONSTRAINT IF EXISTS "items_title_check";',
      `ALTER TABLE "items" ADD CONSTRAINT "items_title_check" CHECK (char_length("title") <= ${max}) NOT VALID;`,
    ];
    const validate = tx('ALTER TABLE "items" VALIDATE CONSTRAINT "items_title_check";');
    expect(plan.up).toEqual([tx(...swap(20)), validate]);
    expect(plan.down).toEqual([tx(...swap(300)), validate]);
  });

  it('builds a replacement index before dropping the old one, and rebuilds a redefined one under its name', () => {
    const before = items({
      indexes: [titleIndex, { name: 'items_old_idx', definition: 'USING btree ("title", "id")' }],
    });
    const after = items({
      indexes: [
        { ...titleIndex, definition: 'USING btree (lower("title"))' },
        { name: 'items_new_idx', definition: 'USING btree ("id", "title")' },
      ],
    });
    const plan = planMigration([before], [after])!;
    expect(plan.up).toEqual([
      outside(
        'DROP INDEX CONCURRENTLY IF EXISTS "items_title_idx";',
        'CREATE INDEX CONCURRENTLY "items_title_idx" ON "items" USING btree (lower("title"));',
      ),
      outside(
        'DROP INDEX CONCURRENTLY IF EXISTS "items_new_idx";',
        'CREATE INDEX CONCURRENTLY "items_new_idx" ON "items" USING btree ("id", "title");',
      ),
      outside('DROP INDEX CONCURRENTLY IF EXISTS "items_old_idx";'),
    ]);
    expect(plan.down).toEqual([
      outside(
        'DROP INDEX CONCURRENTLY IF EXISTS "items_old_idx";',
        'CREATE INDEX CONCURRENTLY "items_old_idx" ON "items" USING btree ("title", "id");',
      ),
      outside('DROP INDEX CONCURRENTLY IF EXISTS "items_new_idx";'),
      outside(
        'DROP INDEX CONCURRENTLY IF EXISTS "items_title_idx";',
        'CREATE INDEX CONCURRENTLY "items_title_idx" ON "items" USING btree ("title");',
      ),
    ]);
  });

  it('refuses a required column without a default on an existing table; with a constant default it is added NOT NULL at once', () => {
    const refused = () =>
      planMigration([items()], [items({ columns: withColumns(column('code', 'text', { notNull: true })) })]);
    expect(refused).toThrow(MigrationRefused);
    expect(refused).toThrow(
      /field "code" of entity "item" is required without a default, so it cannot be added to the existing table "items"/,
    );
    const plan = planMigration(
      [items()],
      [items({ columns: withColumns(column('rating', 'text', { notNull: true, default: "'general'" })) })],
    )!;
    expect(plan.up).toEqual([
      tx(`ALTER TABLE "items" ADD COLUMN IF NOT EXISTS "rating" text NOT NULL DEFAULT 'general';`),
    ]);
  });

  it('makes a column NOT NULL through a validated CHECK, so that nothing scans under a lock', () => {
    const required = items({ columns: items().columns.map((c) => (c.name === 'title' ? { ...c, notNull: true } : c)) });
    const plan = planMigration([items()], [required])!;
    expect(plan.up).toEqual([
      tx(
        'ALTER TABLE "items" DROP CONSTRAINT IF EXISTS "items_title_not_null";',
        'ALTER TABLE "items" ADD CONSTRAINT "items_title_not_null" CHECK ("title" IS NOT NULL) NOT VALID;',
      ),
      tx('ALTER TABLE "items" VALIDATE CONSTRAINT "items_title_not_null";'),
      tx(
        'ALTER TABLE "items" ALTER COLUMN "title" SET NOT NULL;',
        'ALTER TABLE "items" DROP CONSTRAINT IF EXISTS "items_title_not_null";',
      ),
    ]);
    expect(plan.down).toEqual([tx('ALTER TABLE "items" ALTER COLUMN "title" DROP NOT NULL;')]);
    // And the way back is the same dance.
    expect(planMigration([required], [items()])!.down).toEqual(plan.up);
  });

  it('needs no migration when only document fields change, since doc holds them', () => {
    expect(planMigration([items()], [items({ documentFields: [{ name: 'notes', type: 'text' }] })])).toBeUndefined();
  });

  describe('promoting a document field to a column', () => {
    const before = items({
      documentFields: [{ name: 'tier', type: 'text' }],
      indexes: [{ name: 'items_tier_idx', definition: `USING btree (("doc" #>> '{tier}'))` }],
    });
    const after = items({
      columns: withColumns(column('tier')),
      indexes: [{ name: 'items_tier_idx', definition: 'USING btree ("tier")' }],
    });
    const plan = planMigration([before], [after])!;

    it('adds the column with its sync triggers, backfills it in batches, then rebuilds the index on it concurrently', () => {
      expect(plan.name).toBe('promote_items_tier');
      expect(plan.online).toBe(true);
      expect(plan.up.map((s) => Boolean(s.outsideTransaction))).toEqual([false, true, true]);
      const [expand, backfill, index] = plan.up as [MigrationStep, MigrationStep, MigrationStep];
      expect(expand.statements[0]).toBe('ALTER TABLE "items" ADD COLUMN IF NOT EXISTS "tier" text;');
      expect(expand.statements).toContain(
        `CREATE TRIGGER "promote_1_items_tier" BEFORE INSERT OR UPDATE OF "tier" ON "items" FOR EACH ROW EXECUTE FUNCTION "promote_items_tier_sync"('column');`,
      );
      expect(expand.statements).toContain(
        `CREATE TRIGGER "promote_2_items_tier" BEFORE INSERT OR UPDATE ON "items" FOR EACH ROW EXECUTE FUNCTION "promote_items_tier_sync"('doc');`,
      );
      expect(backfill.statements).toHaveLength(1);
      expect(backfill.statements[0]).toMatch(/^DO \$backfill\$/);
      expect(backfill.statements[0]).toContain(`ORDER BY id LIMIT ${BACKFILL_BATCH_ROWS}`);
      expect(backfill.statements[0]).toContain(
        `UPDATE "items" SET "tier" = "promote_items_tier_from_doc"("doc" -> 'tier')`,
      );
      expect(backfill.statements[0]).toMatch(/COMMIT;\n {2}END LOOP;/);
      expect(index).toEqual(
        outside(
          'DROP INDEX CONCURRENTLY IF EXISTS "items_tier_idx";',
          'CREATE INDEX CONCURRENTLY "items_tier_idx" ON "items" USING btree ("tier");',
        ),
      );
    });

    it('goes back by restoring the document index, checking doc in batches, then dropping the triggers and the column', () => {
      expect(plan.down.map((s) => Boolean(s.outsideTransaction))).toEqual([true, true, false]);
      const [index, copyBack, contract] = plan.down as [MigrationStep, MigrationStep, MigrationStep];
      expect(index).toEqual(
        outside(
          'DROP INDEX CONCURRENTLY IF EXISTS "items_tier_idx";',
          `CREATE INDEX CONCURRENTLY "items_tier_idx" ON "items" USING btree (("doc" #>> '{tier}'));`,
        ),
      );
      expect(copyBack.statements[0]).toMatch(
        /^DO \$backfill\$[\s\S]*UPDATE "items" SET "doc" = [\s\S]*"promote_items_tier_from_doc"\("doc" -> 'tier'\) IS DISTINCT FROM "tier"/,
      );
      expect(contract).toEqual(
        tx(
          'DROP TRIGGER IF EXISTS "promote_2_items_tier" ON "items";',
          'DROP TRIGGER IF EXISTS "promote_1_items_tier" ON "items";',
          'DROP FUNCTION IF EXISTS "promote_items_tier_sync"();',
          'ALTER TABLE "items" DROP COLUMN IF EXISTS "tier";',
          'DROP FUNCTION IF EXISTS "promote_items_tier_from_doc"(jsonb);',
        ),
      );
    });

    it('refuses a promotion that also changes the type, and a move back into doc', () => {
      expect(() => planMigration([before], [items({ columns: withColumns(column('tier', 'bigint')) })])).toThrow(
        /field "tier" of entity "item" changed storage type from text to bigint while moving out of the document/,
      );
      expect(() => planMigration([after], [before])).toThrow(
        /field "tier" of entity "item" moved from its column into the document .* not supported/,
      );
    });
  });
});

describe('the files codegen writes', () => {
  it('mark an online migration and its steps so the migrator can read them back', async () => {
    const copy = copyProject();
    try {
      copy.edit('registry/entities/episode.yaml', (t) =>
        t.replace(
          '  # --- Production content',
          '  sponsor: { type: string, max_length: 120, indexed: true }\n  # --- Production content',
        ),
      );
      const result = await runCodegen(loadModel(copy.registryDir), copy, { check: false });
      const up = parseMigrationScript(copy.read(`migrations/${result.migration}.up.sql`));
      expect(up.online).toBe(true);
      expect(up.steps.map((s) => s.outsideTransaction)).toEqual([false, false, true]);
      expect(up.steps[2]!.statements).toEqual([
        'DROP INDEX CONCURRENTLY IF EXISTS "episodes_sponsor_idx";',
        'CREATE INDEX CONCURRENTLY "episodes_sponsor_idx" ON "episodes" USING btree ("sponsor");',
      ]);
      const down = parseMigrationScript(copy.read(`migrations/${result.migration}.down.sql`));
      expect(down.steps.map((s) => s.outsideTransaction)).toEqual([true, false]);
      expect(down.steps[1]!.statements).toEqual([
        'ALTER TABLE "episodes" DROP CONSTRAINT IF EXISTS "episodes_sponsor_check";\nALTER TABLE "episodes" DROP COLUMN IF EXISTS "sponsor";',
      ]);
      // The committed migrations are plain: one transaction each.
      expect(parseMigrationScript(copy.read('migrations/0001_create_shows_episodes.up.sql')).online).toBe(false);
    } finally {
      copy.remove();
    }
  });

  it('record a new document field in the snapshot without a migration, and --check asks for it', async () => {
    const copy = copyProject();
    try {
      const lastMigration = JSON.parse(copy.read('migrations/snapshot.json')).last_migration;
      copy.edit('registry/entities/episode.yaml', (t) =>
        t.replace(
          '  # --- Production content',
          '  notes_doc: { type: text, storage: document }\n  # --- Production content',
        ),
      );
      const model = loadModel(copy.registryDir);
      const check = await runCodegen(model, copy, { check: true });
      expect(check.migration).toBeUndefined();
      expect(check.changed.map((f) => f.slice(copy.root.length + 1))).toContain('migrations/snapshot.json');
      const written = await runCodegen(model, copy, { check: false });
      expect(written.migration).toBeUndefined();
      const snapshot = JSON.parse(copy.read('migrations/snapshot.json'));
      expect(snapshot.tables.find((t: TableSpec) => t.name === 'episodes').documentFields).toEqual([
        { name: 'notes_doc', type: 'text' },
      ]);
      expect(snapshot.last_migration).toBe(lastMigration);
      expect((await runCodegen(model, copy, { check: true })).changed).toEqual([]);
    } finally {
      copy.remove();
    }
  });
});

describe('parseMigrationScript', () => {
  it('reads a plain file as one transaction', () => {
    expect(parseMigrationScript('-- a comment\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n')).toEqual({
      online: false,
      steps: [
        {
          statements: ['-- a comment\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n'],
          outsideTransaction: false,
        },
      ],
    });
  });

  it('refuses directives it does not know, SQL before the first step, and statement markers inside a transaction', () => {
    expect(() => parseMigrationScript('-- reelmeta: no-transaction\n-- reelmeta: stepp\nSELECT 1;')).toThrow(
      /unknown directive "-- reelmeta: stepp"/,
    );
    expect(() => parseMigrationScript('-- reelmeta: no-transaction\nSELECT 1;\n-- reelmeta: step\nSELECT 2;')).toThrow(
      /SQL before the first/,
    );
    expect(() => parseMigrationScript('-- reelmeta: step\nSELECT 2;')).toThrow(/without "-- reelmeta: no-transaction"/);
    expect(() =>
      parseMigrationScript(
        '-- reelmeta: no-transaction\n-- reelmeta: step\nSELECT 1;\n-- reelmeta: statement\nSELECT 2;',
      ),
    ).toThrow(/mark the step outside-transaction/);
  });
});
