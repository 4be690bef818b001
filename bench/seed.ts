// Seeds BENCH_N episodes with COPY FROM STDIN, in one transaction: truncate, drop the secondary
// indexes, COPY ... FREEZE, rebuild the indexes, record a marker. Building an index once is far
// cheaper than maintaining it row by row, and FREEZE spares VACUUM a full rewrite of hint bits.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EPISODE_COLUMNS, GENERATOR_VERSION, MAX_ROWS, createRng, episodeLine, makeShows } from './data.ts';

const MARKER = 'bench_seed';
const ROWS_PER_CHUNK = 500;

export interface SeedResult {
  readonly reused: boolean;
  readonly rows: number;
  /** Seconds the (original) seed took, COPY plus index builds plus VACUUM ANALYZE. */
  readonly seconds: number;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function existingSeed(client: pg.Client, n: number): Promise<number | undefined> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${MARKER} (rows bigint NOT NULL, generator text NOT NULL, seconds double precision NOT NULL, finished_at timestamptz NOT NULL DEFAULT now())`,
  );
  const marker = await client.query<{ rows: string; generator: string; seconds: number }>(`SELECT rows, generator, seconds FROM ${MARKER} LIMIT 1`);
  const row = marker.rows[0];
  if (!row || Number(row.rows) !== n || row.generator !== GENERATOR_VERSION) return undefined;
  const count = await client.query<{ n: string }>('SELECT count(*) AS n FROM episodes');
  return Number(count.rows[0]?.n) === n ? row.seconds : undefined;
}

/** Fails with a clear message if the schema no longer has a column the generator writes. */
async function assertColumns(client: pg.Client): Promise<void> {
  const found = await client.query<{ column_name: string; is_generated: string }>(
    `SELECT column_name, is_generated FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'episodes'`,
  );
  const writable = new Set(found.rows.filter((r) => r.is_generated === 'NEVER').map((r) => r.column_name));
  const missing = EPISODE_COLUMNS.filter((c) => !writable.has(c));
  if (missing.length > 0) throw new Error(`the episodes table has no writable column(s) ${missing.join(', ')}: bench/data.ts must follow the schema`);
}

function* copyChunks(n: number, showIds: readonly string[], now: number, progress: (done: number) => void): Generator<Buffer> {
  const ctx = { n, now, showIds, rng: createRng(42) };
  for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
    let text = '';
    const end = Math.min(n, start + ROWS_PER_CHUNK);
    for (let i = start; i < end; i += 1) text += episodeLine(i, ctx);
    progress(end);
    yield Buffer.from(text);
  }
}

export async function ensureSeeded(databaseUrl: string, n: number, log: (line: string) => void): Promise<SeedResult> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROWS) throw new Error(`BENCH_N must be an integer from 1 to ${MAX_ROWS}`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const previous = await existingSeed(client, n);
    if (previous !== undefined) {
      log(`seed: reusing the existing ${n.toLocaleString('en-US')} episodes (seeded earlier in ${previous.toFixed(1)} s)`);
      return { reused: true, rows: n, seconds: previous };
    }
    await assertColumns(client);
    log(`seed: generating ${n.toLocaleString('en-US')} episodes with COPY ...`);
    const started = performance.now();
    const now = Date.now();
    const shows = makeShows(now);

    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL synchronous_commit = off');
      await client.query(`SET LOCAL maintenance_work_mem = '512MB'`);
      await client.query(`DELETE FROM ${MARKER}`);
      await client.query('TRUNCATE episodes, shows CASCADE');
      // Secondary indexes only: those behind a constraint (the primary key) stay.
      const indexes = await client.query<{ name: string; def: string }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
           FROM pg_index i
          WHERE i.indrelid = 'episodes'::regclass
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
      );
      for (const index of indexes.rows) await client.query(`DROP INDEX ${index.name}`);

      for (const s of shows) {
        await client.query(
          'INSERT INTO shows (id, schema_version, title, slug, description, status, hosts, language, created_at, updated_at, approval_status, doc) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)',
          [s.id, s.title, s.slug, s.description, s.status, s.hosts, s.language, s.created_at, 'approved', '{}'],
        );
      }

      let nextReport = Math.max(1, Math.floor(n / 10));
      const progress = (done: number) => {
        if (done < nextReport && done < n) return;
        nextReport += Math.max(1, Math.floor(n / 10));
        const seconds = (performance.now() - started) / 1000;
        log(`seed:   ${done.toLocaleString('en-US')} rows sent (${seconds.toFixed(1)} s)`);
      };
      const columns = EPISODE_COLUMNS.map(quoteIdent).join(', ');
      const copy = client.query(copyFrom(`COPY episodes (${columns}) FROM STDIN WITH (FORMAT text, FREEZE true)`));
      await pipeline(Readable.from(copyChunks(n, shows.map((s) => s.id), now, progress)), copy);
      const copied = (performance.now() - started) / 1000;
      log(`seed: COPY done in ${copied.toFixed(1)} s; rebuilding ${indexes.rowCount ?? 0} index(es) ...`);
      for (const index of indexes.rows) await client.query(index.def);
      const indexed = (performance.now() - started) / 1000;
      log(`seed: indexes rebuilt in ${(indexed - copied).toFixed(1)} s`);
      await client.query(`INSERT INTO ${MARKER} (rows, generator, seconds) VALUES ($1, $2, 0)`, [n, GENERATOR_VERSION]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    // VACUUM cannot run inside a transaction block; it sets the visibility map for index-only scans.
    await client.query('VACUUM (ANALYZE) episodes');
    await client.query('ANALYZE shows');
    const seconds = (performance.now() - started) / 1000;
    await client.query(`UPDATE ${MARKER} SET seconds = $1`, [seconds]);
    log(`seed: ${n.toLocaleString('en-US')} episodes in ${seconds.toFixed(1)} s (${Math.round(n / seconds).toLocaleString('en-US')} rows/s, including indexes and VACUUM ANALYZE)`);
    return { reused: false, rows: n, seconds };
  } finally {
    await client.end();
  }
}
