// Seeds the episodes (and what writing them through the API would have stored beside them) with COPY FROM STDIN. PostgreSQL's side (JSONB parsing, the generated
// search_vector, TOAST) costs far more than generating the text, so the rows go through several
// COPY streams at once, with the secondary indexes dropped and rebuilt afterwards (building an
// index once is far cheaper than maintaining it row by row), in parallel too.
import { once } from 'node:events';
import os from 'node:os';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EPISODE_COLUMNS, GENERATOR_VERSION, MAX_ROWS, createRng, episodeRow, makeShows } from './data.ts';
import { connectClient } from './database.ts';
import { LINK_TABLES, LinkCatalog, emptyChunks, type LinkTable } from './links.ts';
import { assertLinksValid, assertSampleValid } from './validate.ts';

const MARKER = 'bench_seed';
/** Index definitions dropped for the load, kept until rebuilt: an interrupted seed can restore them. */
const DROPPED = 'bench_dropped_indexes';
const BLOCK_ROWS = 500;
const STREAMS = Math.max(2, Math.min(4, os.availableParallelism()));
/** Every table the seed fills, emptied first. */
const SEEDED_TABLES = ['episodes', 'shows', ...Object.keys(LINK_TABLES)] as const;

export interface SeedResult {
  readonly reused: boolean;
  readonly rows: number;
  /** Seconds the (original) seed took: COPY, index builds and VACUUM ANALYZE. */
  readonly seconds: number;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Runs `work` on `count` connections at once, closing them afterwards. */
async function withClients<T>(
  url: string,
  count: number,
  work: (client: pg.Client, index: number) => Promise<T>,
): Promise<T[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => connectClient(url)));
  try {
    return await Promise.all(clients.map(work));
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** Rebuilds `defs` on a few connections, each taking the next index from a shared queue. */
async function buildIndexes(url: string, defs: readonly { name: string; def: string }[]): Promise<void> {
  const queue = [...defs];
  await withClients(url, Math.min(STREAMS, Math.max(1, queue.length)), async (client) => {
    await client.query(`SET maintenance_work_mem = '512MB'`);
    for (let next = queue.shift(); next; next = queue.shift()) {
      const exists = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [next.name]);
      if (exists.rows[0]?.found === null) await client.query(next.def);
    }
  });
}

async function prepareTables(client: pg.Client): Promise<void> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${MARKER} (rows bigint NOT NULL, generator text NOT NULL, seconds double precision NOT NULL, finished_at timestamptz NOT NULL DEFAULT now())`,
  );
  await client.query(`CREATE TABLE IF NOT EXISTS ${DROPPED} (name text PRIMARY KEY, def text NOT NULL)`);
}

async function reusableSeed(client: pg.Client, n: number, generator: string): Promise<number | undefined> {
  const marker = await client.query<{ rows: string; generator: string; seconds: number }>(
    `SELECT rows, generator, seconds FROM ${MARKER} LIMIT 1`,
  );
  const row = marker.rows[0];
  if (!row || Number(row.rows) !== n || row.generator !== generator) return undefined;
  // Indexes still dropped means an interrupted seed: redo it (it rebuilds them).
  const dropped = await client.query(`SELECT 1 FROM ${DROPPED} LIMIT 1`);
  if ((dropped.rowCount ?? 0) > 0) return undefined;
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
  if (missing.length > 0)
    throw new Error(
      `the episodes table has no writable column(s) ${missing.join(', ')}: bench/data.ts must follow the schema`,
    );
}

/** Writes `chunk`, waiting while the stream's buffer is full (a failed COPY rejects the wait). */
async function write(stream: Writable, chunk: string): Promise<void> {
  if (chunk && !stream.write(chunk)) await once(stream, 'drain');
}

/**
 * Seeds `n` episodes and about `clips` clips (spread over them), with what the API's write rules
 * would have stored beside them (bench/links.ts); reuses a finished seed of the same shape.
 */
export async function ensureSeeded(
  url: string,
  n: number,
  clips: number,
  log: (line: string) => void,
): Promise<SeedResult> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROWS)
    throw new Error(`the bench size must be an integer from 1 to ${MAX_ROWS}`);
  const generator = `${GENERATOR_VERSION}+clips${clips}`;
  const client = await connectClient(url);
  try {
    await prepareTables(client);
    const previous = await reusableSeed(client, n, generator);
    if (previous !== undefined) {
      log(
        `seed: reusing the ${n.toLocaleString('en-US')} episodes already there (that seed took ${previous.toFixed(1)} s)`,
      );
      return { reused: true, rows: n, seconds: previous };
    }
    await assertColumns(client);
    const now = Date.now();
    const shows = makeShows(now);
    const ctx = { n, now, showIds: shows.map((s) => s.id) };
    assertSampleValid(shows, ctx);
    log(
      `seed: generating ${n.toLocaleString('en-US')} episodes over ${STREAMS} COPY streams, ~${clips.toLocaleString('en-US')} clips and the linked records ...`,
    );
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;

    // Empty the tables and drop the secondary indexes (not those behind constraints), remembering
    // their definitions in the same transaction. Any an interrupted seed left dropped are still listed.
    await client.query('BEGIN');
    try {
      await client.query(`DELETE FROM ${MARKER}`);
      await client.query(`TRUNCATE ${SEEDED_TABLES.join(', ')} CASCADE`);
      const indexes = await client.query<{ name: string; def: string }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
          WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
        [SEEDED_TABLES.filter((t) => t !== 'shows')],
      );
      for (const index of indexes.rows) {
        await client.query(`INSERT INTO ${DROPPED} (name, def) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
          index.name,
          index.def,
        ]);
        await client.query(`DROP INDEX ${index.name}`);
      }
      for (const s of shows) {
        await client.query(
          `INSERT INTO shows (id, schema_version, title, slug, description, status, hosts, language, created_at, updated_at, approval_status, doc)
           VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $8, 'approved', '{}')`,
          [s.id, s.title, s.slug, s.description, s.status, s.hosts, s.language, s.created_at],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }

    let done = 0;
    let nextReport = Math.ceil(n / 10);
    const columns = EPISODE_COLUMNS.map(quoteIdent).join(', ');
    const tables = Object.keys(LINK_TABLES) as LinkTable[];
    const catalog = new LinkCatalog(clips / n);
    // One producer, in creation order (the catalog's reuse needs it): each block of episodes goes
    // to the next episodes stream, the linked rows to one stream per table. Foreign keys are not
    // checked during the load (session_replication_role): parents and children arrive on
    // different connections, and the data is consistent by construction (validated below).
    const clients = await Promise.all(Array.from({ length: STREAMS + tables.length }, () => connectClient(url)));
    try {
      for (const c of clients) {
        await c.query('SET synchronous_commit = off');
        await c.query('SET session_replication_role = replica').catch((error: Error) => {
          throw new Error(
            `the seed loads linked tables side by side with foreign-key checks off, which needs a superuser: ${error.message}`,
          );
        });
      }
      const episodeStreams = clients
        .slice(0, STREAMS)
        .map((c) => c.query(copyFrom(`COPY episodes (${columns}) FROM STDIN WITH (FORMAT text)`)));
      const linkStreams = Object.fromEntries(
        tables.map((table, k) => [
          table,
          clients[STREAMS + k]!.query(
            copyFrom(`COPY ${table} (${LINK_TABLES[table].map(quoteIdent).join(', ')}) FROM STDIN WITH (FORMAT text)`),
          ),
        ]),
      ) as unknown as Record<LinkTable, Writable>;
      const all = [...episodeStreams, ...Object.values(linkStreams)];
      // A COPY failing while another stream is waiting: the error must not go unhandled.
      const failures = all.map((stream) => finished(stream));
      for (const failure of failures) failure.catch(() => undefined);
      for (let start = 0, block = 0; start < n; start += BLOCK_ROWS, block += 1) {
        const end = Math.min(n, start + BLOCK_ROWS);
        // Each block has its own PRNG seeded by its first row, as before.
        const blockCtx = { ...ctx, rng: createRng(0x2545f491 ^ start) };
        const chunks = emptyChunks();
        let text = '';
        for (let i = start; i < end; i += 1) {
          const row = episodeRow(i, blockCtx);
          text += row.line;
          catalog.add(row, chunks);
        }
        await write(episodeStreams[block % STREAMS]!, text);
        for (const table of tables) await write(linkStreams[table], chunks[table].join(''));
        done += end - start;
        if (done >= nextReport || done === n) {
          nextReport += Math.ceil(n / 10);
          log(`seed:   ${done.toLocaleString('en-US')} episodes sent (${elapsed().toFixed(1)} s)`);
        }
      }
      for (const stream of all) stream.end();
      await Promise.all(failures);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
    log(`seed: ${catalog.clipCount.toLocaleString('en-US')} clips`);
    const copied = elapsed();
    log(
      `seed: COPY done in ${copied.toFixed(1)} s (${Math.round(n / copied).toLocaleString('en-US')} rows/s); rebuilding indexes ...`,
    );

    const dropped = await client.query<{ name: string; def: string }>(
      `SELECT name, def FROM ${DROPPED} ORDER BY def LIKE '%USING gin%' DESC, name`,
    );
    await buildIndexes(url, dropped.rows); // the slow GIN builds first, so they overlap the rest
    await client.query(`DELETE FROM ${DROPPED}`);
    const indexed = elapsed();
    log(`seed: ${dropped.rows.length} index(es) rebuilt in ${(indexed - copied).toFixed(1)} s`);

    for (const table of SEEDED_TABLES) await client.query(`VACUUM (ANALYZE) ${table}`);
    await assertLinksValid(client);
    const seconds = elapsed();
    log(`seed: VACUUM (ANALYZE) in ${(seconds - indexed).toFixed(1)} s`);
    // The marker goes last: a seed interrupted before this point is redone on the next run.
    await client.query(`INSERT INTO ${MARKER} (rows, generator, seconds) VALUES ($1, $2, $3)`, [n, generator, seconds]);
    log(
      `seed: ${n.toLocaleString('en-US')} episodes in ${seconds.toFixed(1)} s (${Math.round(n / seconds).toLocaleString('en-US')} rows/s overall)`,
    );
    return { reused: false, rows: n, seconds };
  } finally {
    await client.end();
  }
}
