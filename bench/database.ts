// The bench database: `reelmeta_bench` on BENCH_DATABASE_URL's server, or on an embedded
// PostgreSQL in .data/bench. The project's own migrations give it the current schema.
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../src/config.ts';
import { ensureDatabase, startEmbeddedPostgres } from '../src/db/embedded.ts';
import { MigrationError, migrateUp, migrationLabel } from '../src/db/migrator.ts';

export const BENCH_DATABASE = 'reelmeta_bench';

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
    const admin = new URL(external).pathname.slice(1) === BENCH_DATABASE ? withDatabase(external, 'postgres') : external;
    await ensureDatabase(admin, BENCH_DATABASE);
    return { url, embedded: false, label: `BENCH_DATABASE_URL (${redact(url)})`, stop: async () => undefined };
  }
  const dataDir = path.join(PROJECT_ROOT, '.data', 'bench');
  log(`database: starting the embedded PostgreSQL in ${path.relative(process.cwd(), dataDir) || dataDir}`);
  const embedded = await startEmbeddedPostgres({ dataDir, database: BENCH_DATABASE });
  return { url: embedded.url, embedded: true, label: 'embedded PostgreSQL (.data/bench)', stop: () => embedded.stop() };
}

async function recreate(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
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
export async function migrateBenchDatabase(url: string, migrationsDir: string, log: (line: string) => void): Promise<void> {
  let applied;
  try {
    applied = await migrateUp(url, migrationsDir);
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    log(`database: the migrations no longer apply cleanly to ${BENCH_DATABASE}:\n  ${error.message.replace(/\n/g, '\n  ')}`);
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
  log(applied.length > 0 ? `database: applied ${applied.map(migrationLabel).join(', ')}` : 'database: schema is up to date');
}

export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ version: string }>('SELECT version()');
    return result.rows[0]?.version ?? 'unknown';
  } finally {
    await client.end();
  }
}

/** Live ids to read in scenario (a), in random order. */
export async function sampleIds(url: string, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ id: string }>('SELECT id FROM episodes WHERE deleted_at IS NULL ORDER BY random() LIMIT $1', [count]);
    return result.rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}
