// The migration runner: up, down, status, checksums, and the server's start-up behaviour.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { migrateDown, migrateUp, MigrationError, migrationStatus } from '../src/db/migrator.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { MIGRATED_TABLES, MIGRATION_LABELS, NEXT_MIGRATION } from './support/project-facts.ts';
import { startTestService } from './support/service.ts';

const MIGRATIONS = path.join(PROJECT_ROOT, 'migrations');
const COUNT = MIGRATION_LABELS.length;
const FIRST = MIGRATION_LABELS[0]!;
const states = (state: string) => MIGRATION_LABELS.map(() => state);

let db: TestDatabase | undefined;
let copy: ProjectCopy | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
  copy?.remove();
  copy = undefined;
});

const tables = async (database: TestDatabase) =>
  (
    await database.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
  ).map((r) => r.table_name);

describe('migrate up, status and down', () => {
  it('applies pending migrations once, records them, and reverts them with their down step', async () => {
    db = await createTestDatabase();
    expect((await migrationStatus(db.url, MIGRATIONS)).map((s) => s.state)).toEqual(states('pending'));

    const applied = await migrateUp(db.url, MIGRATIONS);
    expect(applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`)).toEqual(MIGRATION_LABELS);
    expect(await tables(db)).toEqual(MIGRATED_TABLES);
    const recorded = await db.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM reelmeta_migrations',
    );
    expect(recorded).toEqual(applied.map((m) => ({ version: m.version, checksum: m.checksum })));
    expect((await migrationStatus(db.url, MIGRATIONS)).map((s) => s.state)).toEqual(states('applied'));
    expect(await migrateUp(db.url, MIGRATIONS)).toEqual([]);

    const reverted = await migrateDown(db.url, MIGRATIONS, COUNT);
    expect(reverted.map((m) => m.version)).toEqual(applied.map((m) => m.version).reverse());
    expect(await tables(db)).toEqual(['reelmeta_migrations']);
    expect((await migrationStatus(db.url, MIGRATIONS)).map((s) => s.state)).toEqual(states('pending'));
    expect(await migrateDown(db.url, MIGRATIONS)).toEqual([]);

    await migrateUp(db.url, MIGRATIONS);
    expect(await tables(db)).toEqual(MIGRATED_TABLES);
  });

  it('works from the command line: npm run migrate, migrate status, migrate down', async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url };
    const up = await runCli(['migrate'], env);
    expect(up.code, up.stderr).toBe(0);
    for (const label of MIGRATION_LABELS) expect(up.stdout).toContain(`applied ${label}`);
    const status = await runCli(['migrate', 'status'], env);
    expect(status.stdout).toMatch(new RegExp(`^applied\\s+${FIRST}\\s+\\(applied `, 'm'));
    const down = await runCli(['migrate', 'down', '--steps', String(COUNT)], env);
    expect(down.stdout).toContain(`reverted ${FIRST}`);
    expect((await runCli(['migrate', 'status'], env)).stdout).toMatch(new RegExp(`^pending\\s+${FIRST}`, 'm'));
    const wrong = await runCli(['migrate', 'sideways'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/unknown direction "sideways"/);
  });

  it('still runs while the registry is broken, so a bad registry change can be rolled back', async () => {
    db = await createTestDatabase();
    copy = copyProject();
    copy.edit('registry/entities/episode.yaml', (t) =>
      t.replace('  title:\n    type: string', '  title:\n    type: strng'),
    );
    const up = await runCli(['migrate'], { ...copy.env, DATABASE_URL: db.url });
    expect(up.code, up.stderr).toBe(0);
    const down = await runCli(['migrate', 'down', '--steps', '1'], { ...copy.env, DATABASE_URL: db.url });
    expect(down.stdout).toContain(`reverted ${MIGRATION_LABELS.at(-1)}`);
  });

  it('refuses to run when an applied migration was edited, and says which one', async () => {
    db = await createTestDatabase();
    copy = copyProject();
    await migrateUp(db.url, copy.migrationsDir);
    copy.edit('migrations/0001_create_shows_episodes.up.sql', (t) =>
      t.replace('"title" text NOT NULL', '"title" varchar(10) NOT NULL'),
    );
    await expect(migrateUp(db.url, copy.migrationsDir)).rejects.toThrow(MigrationError);
    await expect(migrateUp(db.url, copy.migrationsDir)).rejects.toThrow(
      /0001_create_shows_episodes\.up\.sql was edited after it was applied/,
    );
    const cli = await runCli(['migrate'], { ...copy.env, DATABASE_URL: db.url });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/edited after it was applied/);
    const status = await runCli(['migrate', 'status'], { ...copy.env, DATABASE_URL: db.url });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^changed\s+0001/m);
  });

  it('rolls a failing migration back entirely and does not record it', async () => {
    db = await createTestDatabase();
    copy = copyProject();
    copy.write(
      `migrations/${NEXT_MIGRATION}_broken.up.sql`,
      'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n',
    );
    copy.write(`migrations/${NEXT_MIGRATION}_broken.down.sql`, 'DROP TABLE half_done;\n');
    await expect(migrateUp(db.url, copy.migrationsDir)).rejects.toThrow(
      new RegExp(
        `${NEXT_MIGRATION}_broken\\.up\\.sql failed and was rolled back: relation "no_such_table" does not exist`,
      ),
    );
    expect(await tables(db)).toEqual(MIGRATED_TABLES);
    expect((await migrationStatus(db.url, copy.migrationsDir)).map((s) => s.state)).toEqual([
      ...states('applied'),
      'pending',
    ]);
  });

  it('needs a down step for every migration', async () => {
    copy = copyProject();
    copy.write(`migrations/${NEXT_MIGRATION}_one_way.up.sql`, 'SELECT 1;\n');
    db = await createTestDatabase();
    await expect(migrateUp(db.url, copy.migrationsDir)).rejects.toThrow(
      `${NEXT_MIGRATION}_one_way.down.sql is missing`,
    );
  });
});

describe('the server at start', () => {
  it('applies pending migrations, or refuses to serve an outdated schema when told not to migrate', async () => {
    db = await createTestDatabase();
    await expect(startTestService({ databaseUrl: db.url, migrateOnStart: false })).rejects.toThrow(
      `MIGRATE_ON_START=false but the database is not up to date (${MIGRATION_LABELS.map((l) => `${l}: pending`).join(', ')})`,
    );
    const service = await startTestService({ databaseUrl: db.url });
    await service.stop();
    expect((await migrationStatus(db.url, MIGRATIONS)).map((s) => s.state)).toEqual(states('applied'));
    const again = await startTestService({ databaseUrl: db.url, migrateOnStart: false });
    expect((await again.request('GET', '/api/v1/episodes')).status).toBe(200);
    await again.stop();
  });
});
