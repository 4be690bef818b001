// The migrator on online migrations: a statement waits at most the lock timeout for its lock, so
// queries queued behind it are held up no longer, and the step is retried; it gives up after the
// retries; a migration that stopped half-way is finished by running it again.
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCK_RETRIES,
  DEFAULT_LOCK_TIMEOUT_MS,
  migrateUp,
  MigrationError,
  migrationSettings,
  migrationStatus,
} from '../src/db/migrator.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { NEXT_MIGRATION } from './support/project-facts.ts';

let db: TestDatabase | undefined;
let copy: ProjectCopy | undefined;
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  await db?.drop();
  db = undefined;
  copy?.remove();
  copy = undefined;
});

/** A migrated database and, in a project copy, the next migration: an indexed `sponsor` on episodes. */
async function withSponsorMigration(): Promise<{ db: TestDatabase; copy: ProjectCopy; migration: string }> {
  db = await createTestDatabase();
  copy = copyProject();
  await migrateUp(db.url, copy.migrationsDir);
  copy.edit('registry/entities/episode.yaml', (t) =>
    t.replace(
      '  # --- Production content',
      '  sponsor: { type: string, max_length: 120, indexed: true }\n  # --- Production content',
    ),
  );
  const codegen = await runCli(['codegen'], copy.env);
  expect(codegen.code, codegen.stderr).toBe(0);
  return { db, copy, migration: `${NEXT_MIGRATION}_add_episodes_sponsor` };
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

/** Holds a lock on episodes that ALTER TABLE must wait for, for `ms`; `released` settles after. */
async function holdLock(url: string, ms: number): Promise<{ released: Promise<void> }> {
  const holder = await connect(url);
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE episodes IN ACCESS SHARE MODE');
  return {
    released: new Promise<void>((resolve) => setTimeout(resolve, ms)).then(() =>
      holder.query('COMMIT').then(() => undefined),
    ),
  };
}

const indexState = (database: TestDatabase, name: string) =>
  database.query<{ valid: boolean }>(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
    [name],
  );

describe('lock_timeout and retries', () => {
  it('gives up its place in the lock queue after the timeout, so readers are held up no longer, and retries until it gets the lock', async () => {
    const { db, copy, migration } = await withSponsorMigration();
    const { released } = await holdLock(db.url, 1500);
    // A reader that keeps querying the table while the migration waits for its lock. It gives up
    // on any lock after 800 ms, so a read queued behind the ALTER for the whole 1.5 s fails, while
    // a read that is merely slow on a busy machine does not.
    const reader = await connect(db.url);
    await reader.query("SET lock_timeout = '800ms'");
    let reading = true;
    const reads: string[] = [];
    const reading$ = (async () => {
      while (reading) {
        reads.push(
          await reader.query('SELECT count(*) FROM episodes').then(
            () => 'read',
            (error: Error) => error.message,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const retries: { step: number; message: string }[] = [];
    const applied = await migrateUp(db.url, copy.migrationsDir, {
      lockTimeoutMs: 200,
      lockRetries: 20,
      onRetry: (r) => retries.push(r),
    });
    reading = false;
    await reading$;
    await released;
    expect(applied.map((m) => m.name)).toEqual([migration.slice(5)]);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toMatchObject({ step: 1, message: 'canceling statement due to lock timeout' });
    // Without the migrator's lock_timeout the reader would wait behind the ALTER for the whole 1.5 s.
    expect(reads.length).toBeGreaterThan(5);
    expect(reads.filter((r) => r !== 'read')).toEqual([]);
    expect(await indexState(db, 'episodes_sponsor_idx')).toEqual([{ valid: true }]);
  });

  it('gives up after its retries, names the step, and leaves the migration pending', async () => {
    const { db, copy, migration } = await withSponsorMigration();
    const { released } = await holdLock(db.url, 1500);
    const error = await migrateUp(db.url, copy.migrationsDir, { lockTimeoutMs: 100, lockRetries: 1 }).catch(
      (e: unknown) => e,
    );
    await released;
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${migration}\\.up\\.sql failed at step 1 of 3: canceling statement due to lock timeout\\. .*run the migration again$`,
      ),
    );
    expect((await migrationStatus(db.url, copy.migrationsDir)).at(-1)).toMatchObject({ state: 'pending' });
    expect(await migrateUp(db.url, copy.migrationsDir)).toHaveLength(1);
  });

  it('takes its settings from MIGRATION_LOCK_TIMEOUT_MS and MIGRATION_LOCK_RETRIES, with defaults', () => {
    expect(migrationSettings({}, {})).toEqual({
      lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
      lockRetries: DEFAULT_LOCK_RETRIES,
    });
    expect(migrationSettings({}, { MIGRATION_LOCK_TIMEOUT_MS: '2000', MIGRATION_LOCK_RETRIES: '0' })).toEqual({
      lockTimeoutMs: 2000,
      lockRetries: 0,
    });
    expect(migrationSettings({ lockTimeoutMs: 50 }, { MIGRATION_LOCK_TIMEOUT_MS: '2000' }).lockTimeoutMs).toBe(50);
    expect(() => migrationSettings({}, { MIGRATION_LOCK_TIMEOUT_MS: '2s' })).toThrow(
      'MIGRATION_LOCK_TIMEOUT_MS must be an integer from 1 to 600000 (got "2s")',
    );
  });
});

describe('a migration that stopped half-way', () => {
  it('is finished by running it again: a failed VALIDATE keeps the new check for new writes until the data is fixed', async () => {
    db = await createTestDatabase();
    copy = copyProject();
    await migrateUp(db.url, copy.migrationsDir);
    await db.query(
      `INSERT INTO episodes (id, schema_version, title, copyright) VALUES ('ep_20250101_aaaaaaaaaa', 1, 'Long', repeat('c', 50))`,
    );
    copy.edit('registry/entities/episode.yaml', (t) =>
      t.replace('  copyright: { type: string, max_length: 300 }', '  copyright: { type: string, max_length: 20 }'),
    );
    expect((await runCli(['codegen'], copy.env)).code).toBe(0);

    await expect(migrateUp(db.url, copy.migrationsDir)).rejects.toThrow(
      /failed at step 2 of 2: check constraint "episodes_copyright_check" of relation "episodes" is violated by some row/,
    );
    expect((await migrationStatus(db.url, copy.migrationsDir)).at(-1)).toMatchObject({ state: 'pending' });
    // Step 1 stays: the tighter check is enforced for new writes already, just not validated.
    await expect(db.query(`UPDATE episodes SET copyright = repeat('d', 30)`)).rejects.toThrow(
      /violates check constraint "episodes_copyright_check"/,
    );
    await db.query(`UPDATE episodes SET copyright = 'short'`);

    expect(await migrateUp(db.url, copy.migrationsDir)).toHaveLength(1);
    expect(await db.query(`SELECT convalidated FROM pg_constraint WHERE conname = 'episodes_copyright_check'`)).toEqual(
      [{ convalidated: true }],
    );
  });

  it('rebuilds an index that a failed concurrent build left invalid', async () => {
    const { db, copy } = await withSponsorMigration();
    // As if a first run added the column, then its index build timed out half-way.
    await db.query('ALTER TABLE episodes ADD COLUMN sponsor text');
    const holder = await connect(db.url);
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await holder.query(
      `INSERT INTO episodes (id, schema_version, title) VALUES ('ep_20250101_bbbbbbbbbb', 1, 'Writer')`,
    );
    const builder = await connect(db.url);
    await builder.query(`SET lock_timeout = '100ms'`);
    await expect(builder.query('CREATE INDEX CONCURRENTLY episodes_sponsor_idx ON episodes (sponsor)')).rejects.toThrow(
      /lock timeout/,
    );
    await holder.query('COMMIT');
    expect(await indexState(db, 'episodes_sponsor_idx')).toEqual([{ valid: false }]);

    expect(await migrateUp(db.url, copy.migrationsDir)).toHaveLength(1);
    expect(await indexState(db, 'episodes_sponsor_idx')).toEqual([{ valid: true }]);
  });
});
