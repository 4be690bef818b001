// Applies migrations/NNNN_name.{up,down}.sql in order, recording each with a checksum.
// Uses a plain pg client: migration files are trusted, multi-statement SQL written by codegen.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const TABLE = 'reelmeta_migrations';
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;
/** Any constant will do: it only has to be the same for every instance of the service. */
const LOCK_KEY = 72_616_801;

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly up: string;
  readonly down: string;
  readonly checksum: string;
}

export interface MigrationState {
  readonly version: number;
  readonly name: string;
  readonly state: 'applied' | 'pending' | 'changed' | 'missing';
  readonly appliedAt?: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export function checksum(sqlText: string): string {
  return createHash('sha256').update(sqlText.replace(/\r\n/g, '\n')).digest('hex');
}

export function readMigrationFiles(dir: string): MigrationFile[] {
  if (!existsSync(dir)) return [];
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of readdirSync(dir).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    const version = Number(match[1]);
    const entry = byVersion.get(version) ?? { name: match[2]! };
    if (entry.name !== match[2]) throw new MigrationError(`${dir}: two migrations numbered ${match[1]} (${entry.name}, ${match[2]})`);
    entry[match[3] as 'up' | 'down'] = readFileSync(path.join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, entry]) => {
      const label = `${String(version).padStart(4, '0')}_${entry.name}`;
      if (entry.up === undefined) throw new MigrationError(`${label}.up.sql is missing`);
      if (entry.down === undefined) throw new MigrationError(`${label}.down.sql is missing: every migration needs its down step`);
      return { version, name: entry.name, up: entry.up, down: entry.down, checksum: checksum(entry.up) };
    });
}

const label = (m: { version: number; name: string }) => `${String(m.version).padStart(4, '0')}_${m.name}`;

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(${LOCK_KEY})`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    return await work(client);
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
    await client.end();
  }
}

async function appliedRows(client: pg.Client): Promise<AppliedRow[]> {
  const result = await client.query<AppliedRow>(`SELECT version, name, checksum, applied_at FROM ${TABLE} ORDER BY version`);
  return result.rows;
}

function compare(files: readonly MigrationFile[], applied: readonly AppliedRow[]): MigrationState[] {
  const states: MigrationState[] = [];
  const fileByVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of applied) {
    const file = fileByVersion.get(row.version);
    const appliedAt = row.applied_at.toISOString();
    if (!file) states.push({ version: row.version, name: row.name, state: 'missing', appliedAt });
    else states.push({ version: row.version, name: row.name, state: file.checksum === row.checksum ? 'applied' : 'changed', appliedAt });
  }
  const appliedVersions = new Set(applied.map((r) => r.version));
  for (const file of files) if (!appliedVersions.has(file.version)) states.push({ version: file.version, name: file.name, state: 'pending' });
  return states.sort((a, b) => a.version - b.version);
}

/** Refuses to go on when history and files disagree: an edited or deleted applied migration. */
function assertConsistent(states: readonly MigrationState[], dir: string): void {
  const problems = states
    .filter((s) => s.state === 'changed' || s.state === 'missing')
    .map((s) =>
      s.state === 'changed'
        ? `${label(s)}.up.sql was edited after it was applied (checksum differs); restore it, and put changes in a new migration with npm run codegen`
        : `${label(s)} was applied but its file is not in ${dir}`,
    );
  const lastApplied = Math.max(0, ...states.filter((s) => s.state !== 'pending').map((s) => s.version));
  for (const s of states) {
    if (s.state === 'pending' && s.version < lastApplied) problems.push(`${label(s)} is older than the last applied migration but was never applied`);
  }
  if (problems.length > 0) throw new MigrationError(`migrations refused:\n  ${problems.join('\n  ')}`);
}

export async function migrationStatus(databaseUrl: string, dir: string): Promise<MigrationState[]> {
  const files = readMigrationFiles(dir);
  return withClient(databaseUrl, async (client) => compare(files, await appliedRows(client)));
}

async function runInTransaction(client: pg.Client, statements: string, record: () => Promise<unknown>): Promise<void> {
  await client.query('BEGIN');
  try {
    // Fail fast instead of queueing behind a long transaction and blocking every reader.
    await client.query("SET LOCAL lock_timeout = '10s'");
    await client.query(statements);
    await record();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** Applies every pending migration, each in its own transaction. Returns those applied. */
export async function migrateUp(databaseUrl: string, dir: string): Promise<MigrationFile[]> {
  const files = readMigrationFiles(dir);
  return withClient(databaseUrl, async (client) => {
    const states = compare(files, await appliedRows(client));
    assertConsistent(states, dir);
    const pending = new Set(states.filter((s) => s.state === 'pending').map((s) => s.version));
    const applied: MigrationFile[] = [];
    for (const file of files.filter((f) => pending.has(f.version))) {
      try {
        await runInTransaction(client, file.up, () =>
          client.query(`INSERT INTO ${TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [file.version, file.name, file.checksum]),
        );
      } catch (error) {
        throw new MigrationError(`${label(file)}.up.sql failed and was rolled back: ${(error as Error).message}`);
      }
      applied.push(file);
    }
    return applied;
  });
}

/** Reverts the last `steps` applied migrations, newest first. Returns those reverted. */
export async function migrateDown(databaseUrl: string, dir: string, steps = 1): Promise<MigrationFile[]> {
  const files = readMigrationFiles(dir);
  return withClient(databaseUrl, async (client) => {
    const states = compare(files, await appliedRows(client));
    assertConsistent(states, dir);
    const fileByVersion = new Map(files.map((f) => [f.version, f]));
    const targets = states.filter((s) => s.state === 'applied').slice(-steps).reverse();
    const reverted: MigrationFile[] = [];
    for (const state of targets) {
      const file = fileByVersion.get(state.version)!;
      try {
        await runInTransaction(client, file.down, () => client.query(`DELETE FROM ${TABLE} WHERE version = $1`, [file.version]));
      } catch (error) {
        throw new MigrationError(`${label(file)}.down.sql failed and was rolled back: ${(error as Error).message}`);
      }
      reverted.push(file);
    }
    return reverted;
  });
}

export { label as migrationLabel };
