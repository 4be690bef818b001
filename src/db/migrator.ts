// Applies migrations/NNNN_name.{up,down}.sql in order, recording each with a checksum.
// Uses a plain pg client: migration files are trusted, multi-statement SQL written by codegen.
// A plain file runs as one transaction; an online file (see migration-script.ts) runs step by
// step, partly outside transactions, and is recorded as applied only once every step is done.
// Every statement waits at most `lockTimeoutMs` for a lock (a DDL statement waiting for its lock
// makes every later query on the table queue behind it), and what timed out is retried.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { SETTINGS, setting } from '../config.ts';
import { parseMigrationScript, type MigrationScript } from './migration-script.ts';
import { databaseTarget, explainConnectionFailure } from './tls.ts';

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

export interface MigrateOptions {
  /** How long one statement may wait for a lock; default MIGRATION_LOCK_TIMEOUT_MS, else 500. */
  readonly lockTimeoutMs?: number;
  /** How many times a step that timed out is tried again; default MIGRATION_LOCK_RETRIES, else 10. */
  readonly lockRetries?: number;
  /** migrateUp only: apply pending migrations up to this version, not beyond. */
  readonly to?: number;
  /** Told about each retry, e.g. to log it. */
  readonly onRetry?: (retry: {
    migration: string;
    step: number;
    attempt: number;
    delayMs: number;
    message: string;
  }) => void;
}

export const DEFAULT_LOCK_TIMEOUT_MS = SETTINGS.MIGRATION_LOCK_TIMEOUT_MS.fallback;
export const DEFAULT_LOCK_RETRIES = SETTINGS.MIGRATION_LOCK_RETRIES.fallback;
/** lock_not_available (lock_timeout) and deadlock_detected: both worth another try. */
const RETRYABLE = new Set(['55P03', '40P01']);

interface Settings {
  readonly lockTimeoutMs: number;
  readonly lockRetries: number;
  readonly onRetry?: MigrateOptions['onRetry'];
}

/** The options, with what is not given taken from the environment (docs/reference/environment.md). */
export function migrationSettings(options: MigrateOptions = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    lockTimeoutMs: options.lockTimeoutMs ?? setting(env, 'MIGRATION_LOCK_TIMEOUT_MS'),
    lockRetries: options.lockRetries ?? setting(env, 'MIGRATION_LOCK_RETRIES'),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  };
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
    if (entry.name !== match[2])
      throw new MigrationError(`${dir}: two migrations numbered ${match[1]} (${entry.name}, ${match[2]})`);
    entry[match[3] as 'up' | 'down'] = readFileSync(path.join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, entry]) => {
      const label = `${String(version).padStart(4, '0')}_${entry.name}`;
      if (entry.up === undefined) throw new MigrationError(`${label}.up.sql is missing`);
      if (entry.down === undefined)
        throw new MigrationError(`${label}.down.sql is missing: every migration needs its down step`);
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

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLE} (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;

async function connect(databaseUrl: string): Promise<pg.Client> {
  const target = databaseTarget(databaseUrl);
  const client = new pg.Client({ connectionString: target.url, ssl: target.ssl });
  // A server going away fails the query in flight; unheard, the event would end the process.
  client.on('error', () => undefined);
  await client.connect().catch((error: unknown) => {
    throw explainConnectionFailure(error, target);
  });
  return client;
}

const tryLock = async (client: pg.Client, fn: 'pg_try_advisory_lock' | 'pg_try_advisory_xact_lock') =>
  (await client.query<{ locked: boolean }>(`SELECT ${fn}(${LOCK_KEY}) AS locked`)).rows[0]!.locked;

/**
 * Waits for the migration lock by trying it every 100–250 ms, never by blocking in
 * pg_advisory_lock: a statement blocked there holds a snapshot, and the CREATE INDEX CONCURRENTLY
 * of the migration holding the lock waits for every older snapshot, so the two would wait for each
 * other until PostgreSQL called it a deadlock (several instances starting at once, one migrating).
 */
async function untilLocked(attempt: () => Promise<boolean>): Promise<void> {
  while (!(await attempt())) await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
}

/**
 * Migrating holds the lock for the session: online steps run outside transactions, and the
 * session's lock_timeout spans them. That needs a direct connection to PostgreSQL; through a pooler
 * in transaction mode (PgBouncer) the lock, and the setting, would stay on whichever server
 * connection the statement happened to run on (docs/deployment.md).
 */
async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(databaseUrl);
  try {
    await untilLocked(async () => tryLock(client, 'pg_try_advisory_lock'));
    await client.query(CREATE_TABLE);
    return await work(client);
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
    await client.end();
  }
}

/**
 * Reading the history needs no session: one transaction, under the same lock taken for the
 * transaction only (it still waits for a migration under way), so that it also works through a
 * pooler in transaction mode, as instances started with MIGRATE_ON_START=false and the CLI's
 * commands read it (a session lock there was left behind on a pooled server connection).
 */
async function readingHistory<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(databaseUrl);
  try {
    await untilLocked(async () => {
      await client.query('BEGIN');
      if (await tryLock(client, 'pg_try_advisory_xact_lock')) return true;
      await client.query('ROLLBACK');
      return false;
    });
    await client.query(CREATE_TABLE);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

async function appliedRows(client: pg.Client): Promise<AppliedRow[]> {
  const result = await client.query<AppliedRow>(
    `SELECT version, name, checksum, applied_at FROM ${TABLE} ORDER BY version`,
  );
  return result.rows;
}

function compare(files: readonly MigrationFile[], applied: readonly AppliedRow[]): MigrationState[] {
  const states: MigrationState[] = [];
  const fileByVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of applied) {
    const file = fileByVersion.get(row.version);
    const appliedAt = row.applied_at.toISOString();
    if (!file) states.push({ version: row.version, name: row.name, state: 'missing', appliedAt });
    else
      states.push({
        version: row.version,
        name: row.name,
        state: file.checksum === row.checksum ? 'applied' : 'changed',
        appliedAt,
      });
  }
  const appliedVersions = new Set(applied.map((r) => r.version));
  for (const file of files)
    if (!appliedVersions.has(file.version)) states.push({ version: file.version, name: file.name, state: 'pending' });
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
    if (s.state === 'pending' && s.version < lastApplied)
      problems.push(`${label(s)} is older than the last applied migration but was never applied`);
  }
  if (problems.length > 0) throw new MigrationError(`migrations refused:\n  ${problems.join('\n  ')}`);
}

export async function migrationStatus(databaseUrl: string, dir: string): Promise<MigrationState[]> {
  const files = readMigrationFiles(dir);
  return readingHistory(databaseUrl, async (client) => compare(files, await appliedRows(client)));
}

/** 0.2 s, 0.4 s, 0.8 s … up to 5 s, with ±25 % jitter so that two waiting parties do not meet again. */
const backoff = (attempt: number) => Math.round(Math.min(5000, 200 * 2 ** attempt) * (0.75 + Math.random() / 2));

/** Runs `work` again after a lock timeout or a deadlock, up to `lockRetries` more times. */
async function withRetry(
  settings: Settings,
  migration: string,
  step: number,
  work: () => Promise<void>,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await work();
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= settings.lockRetries) throw error;
      const delayMs = backoff(attempt);
      settings.onRetry?.({ migration, step, attempt: attempt + 1, delayMs, message: (error as Error).message });
      await sleep(delayMs);
    }
  }
}

async function inTransaction(client: pg.Client, work: () => Promise<unknown>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/**
 * Runs one direction of a migration and `record`s it. A plain script: one transaction, retried as
 * a whole. An online one: step by step, each step retried on its own; `record` runs only after the
 * last step, so an interrupted migration stays pending and runs again from its first step.
 */
async function runScript(
  client: pg.Client,
  file: string,
  script: MigrationScript,
  settings: Settings,
  record: () => Promise<unknown>,
): Promise<void> {
  const timeout = `${settings.lockTimeoutMs}ms`;
  if (!script.online) {
    await withRetry(settings, file, 1, () =>
      inTransaction(client, async () => {
        await client.query("SELECT set_config('lock_timeout', $1, true)", [timeout]);
        await client.query(script.steps[0]!.statements[0]!);
        await record();
      }),
    );
    return;
  }
  await client.query("SELECT set_config('lock_timeout', $1, false)", [timeout]);
  try {
    for (const [index, step] of script.steps.entries()) {
      try {
        await withRetry(settings, file, index + 1, async () => {
          if (!step.outsideTransaction) return inTransaction(client, () => client.query(step.statements.join('\n')));
          for (const statement of step.statements) await client.query(statement);
        });
      } catch (error) {
        throw new OnlineStepFailed(index + 1, script.steps.length, error as Error);
      }
    }
    await record();
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
}

class OnlineStepFailed extends Error {
  constructor(
    readonly step: number,
    readonly steps: number,
    error: Error,
  ) {
    super(error.message, { cause: error });
  }
}

/** A migration error naming the file and, for an online one, the step and how to carry on. */
function failure(file: string, error: unknown): MigrationError {
  if (error instanceof OnlineStepFailed) {
    return new MigrationError(
      `${file} failed at step ${error.step} of ${error.steps}: ${error.message}. The steps before it stay done and are safe to run again; fix the cause and run the migration again`,
    );
  }
  return new MigrationError(`${file} failed and was rolled back: ${(error as Error).message}`);
}

function parse(file: string, text: string): MigrationScript {
  try {
    return parseMigrationScript(text);
  } catch (error) {
    throw new MigrationError(`${file}: ${(error as Error).message}`);
  }
}

/** Applies every pending migration (up to `options.to`), in order. Returns those applied. */
export async function migrateUp(
  databaseUrl: string,
  dir: string,
  options: MigrateOptions = {},
): Promise<MigrationFile[]> {
  const settings = migrationSettings(options);
  const files = readMigrationFiles(dir);
  return withClient(databaseUrl, async (client) => {
    const states = compare(files, await appliedRows(client));
    assertConsistent(states, dir);
    const pending = new Set(states.filter((s) => s.state === 'pending').map((s) => s.version));
    const applied: MigrationFile[] = [];
    for (const file of files.filter(
      (f) => pending.has(f.version) && (options.to === undefined || f.version <= options.to),
    )) {
      const name = `${label(file)}.up.sql`;
      const script = parse(name, file.up);
      try {
        await runScript(client, name, script, settings, () =>
          client.query(`INSERT INTO ${TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [
            file.version,
            file.name,
            file.checksum,
          ]),
        );
      } catch (error) {
        throw failure(name, error);
      }
      applied.push(file);
    }
    return applied;
  });
}

/** Reverts the last `steps` applied migrations, newest first. Returns those reverted. */
export async function migrateDown(
  databaseUrl: string,
  dir: string,
  steps = 1,
  options: MigrateOptions = {},
): Promise<MigrationFile[]> {
  const settings = migrationSettings(options);
  const files = readMigrationFiles(dir);
  return withClient(databaseUrl, async (client) => {
    const states = compare(files, await appliedRows(client));
    assertConsistent(states, dir);
    const fileByVersion = new Map(files.map((f) => [f.version, f]));
    const targets = states
      .filter((s) => s.state === 'applied')
      .slice(-steps)
      .reverse();
    const reverted: MigrationFile[] = [];
    for (const state of targets) {
      const file = fileByVersion.get(state.version)!;
      const name = `${label(file)}.down.sql`;
      const script = parse(name, file.down);
      try {
        await runScript(client, name, script, settings, () =>
          client.query(`DELETE FROM ${TABLE} WHERE version = $1`, [file.version]),
        );
      } catch (error) {
        throw failure(name, error);
      }
      reverted.push(file);
    }
    return reverted;
  });
}

export { label as migrationLabel };
