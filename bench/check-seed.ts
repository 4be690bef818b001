// `node --import tsx bench/check-seed.ts`: does the seed store what the API would have? Writes the
// generator's first episodes through the real API into one scratch database, seeds the same
// episodes into another, and compares the two GET answers of each episode and of every record it
// links (ids and timestamps aside). Needs BENCH_DATABASE_URL; drops and recreates both databases.
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../src/config.ts';
import { startServer, type ServerChild } from './children.ts';
import { compareAnswers } from './compare.ts';
import { EPISODE_COLUMNS, createRng, episodeRow, makeShows } from './data.ts';
import { migrateBenchDatabase } from './database.ts';
import { ensureSeeded } from './seed.ts';

const COUNT = Number(process.env.CHECK_EPISODES || 20);
const admin = process.env.BENCH_DATABASE_URL;
if (!admin) throw new Error('BENCH_DATABASE_URL is required');
const urlOf = (name: string) => Object.assign(new URL(admin), { pathname: `/${name}` }).toString();

async function recreate(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  await migrateBenchDatabase(urlOf(name), path.join(PROJECT_ROOT, 'migrations'), () => undefined);
  return urlOf(name);
}

const serve = (url: string, name: string) =>
  startServer({
    name,
    script: ['src/cli.ts', 'serve'],
    env: {
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'off',
      MIGRATE_ON_START: 'false',
      RATE_LIMIT_ENABLED: 'false',
      JOBS_WORKER: 'false',
      DATA_DIR: path.join(PROJECT_ROOT, '.data', `bench-check-${name}`),
    },
  });

// biome-ignore lint/suspicious/noExplicitAny: the answers are walked ad hoc, field by field
async function call(server: ServerChild, method: string, p: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server.url}/api/v1${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as { data: unknown; errors: unknown[] };
  if (!response.ok) throw new Error(`${method} ${p}: ${response.status} ${JSON.stringify(json.errors)}`);
  return json.data;
}

/**
 * Server-made values go: ids, times (the generator's dates follow each run's clock), and the
 * thumbnail job's state and output (a write queues the job, which this check does not run; the
 * seed stores its thumbnails as made).
 */
const VOLATILE = new Set([
  'id',
  'created_at',
  'updated_at',
  'released_at',
  'thumbnail_status',
  'thumbnails',
  'show_id',
  'times_worn',
]);
/** The counts grow with every later episode: compared once all are written. */
const counted: { path: string; api: string; seed: string }[] = [];
function strip(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !VOLATILE.has(k)));
}
const roles = (links: { role: string }[]) => links.map((l) => l.role);

const LINKED = { outfits: '/outfits', ui_element_refs: '/ui-elements', background_refs: '/backgrounds' } as const;

const now = Date.now();
const apiUrl = await recreate('reelmeta_bench_check_api');
const seedUrl = await recreate('reelmeta_bench_check_seed');
await ensureSeeded(seedUrl, COUNT, 0, () => undefined);
const api = await serve(apiUrl, 'api');
const seeded = await serve(seedUrl, 'seeded');
const problems: string[] = [];
try {
  // The seed's shows, then its episodes, written through the API in creation order.
  const seedDb = new pg.Client({ connectionString: seedUrl });
  await seedDb.connect();
  const seedRows = (
    await seedDb.query<{ id: string; show_id: string }>('SELECT id, show_id FROM episodes ORDER BY created_at')
  ).rows;
  await seedDb.end();
  const shows = makeShows(now);
  const showIds = new Map<string, string>();
  for (const show of shows) {
    const created = await call(api, 'POST', '/shows', { title: show.title, slug: show.slug, status: show.status });
    showIds.set(show.id, created.id);
  }
  const ctx = { n: COUNT, now, showIds: shows.map((s) => s.id), rng: createRng(0x2545f491) };
  for (let i = 0; i < COUNT; i += 1) {
    const row = episodeRow(i, ctx);
    const cells = row.line.replace(/\n$/, '').split('\t');
    const body: Record<string, unknown> = {};
    EPISODE_COLUMNS.forEach((column, k) => {
      const raw = cells[k]!;
      if (['id', 'schema_version', 'doc', 'created_at', 'updated_at', 'approval_status'].includes(column)) return;
      if (column.startsWith('deleted_')) return;
      body[column] =
        raw === '\\N'
          ? null
          : /^[[{]/.test(raw)
            ? JSON.parse(raw)
            : ['episode_number', 'season', 'duration_seconds'].includes(column)
              ? Number(raw)
              : raw;
    });
    body.show_id = showIds.get(String(body.show_id));
    const written = await call(api, 'POST', '/episodes', body);
    // Ids and dates follow each run's clock: the seed's episodes are matched by creation order.
    const seedId = seedRows[i]?.id;
    if (!seedId) {
      problems.push(`episode ${i}: not in the seed`);
      continue;
    }
    // A deleted seed episode is not readable by id: skipped.
    const mine = await call(seeded, 'GET', `/episodes/${seedId}`).catch(() => null);
    if (!mine) continue;
    const theirs = await call(api, 'GET', `/episodes/${written.id}`);
    // The episode itself, its links by role only (their ids are each database's own).
    const plain = (record: Record<string, unknown>) =>
      strip({
        ...record,
        ...Object.fromEntries(Object.keys(LINKED).map((f) => [f, roles(record[f] as { role: string }[])])),
      });
    const difference = compareAnswers(plain(theirs), plain(mine));
    if (difference) problems.push(`${row.id} episode: ${difference}`);
    for (const field of Object.keys(LINKED) as (keyof typeof LINKED)[]) {
      const a = theirs[field] as { id: string; role: string }[];
      const b = mine[field] as { id: string; role: string }[];
      if (JSON.stringify(roles(a)) !== JSON.stringify(roles(b))) {
        problems.push(`${row.id} ${field}: API roles ${roles(a).join(',')} vs seed ${roles(b).join(',')}`);
        continue;
      }
      for (let k = 0; k < a.length; k += 1) {
        const ra = await call(api, 'GET', `${LINKED[field]}/${a[k]!.id}`);
        const rb = await call(seeded, 'GET', `${LINKED[field]}/${b[k]!.id}`);
        if (field === 'outfits') {
          if (JSON.stringify(roles(ra.items)) !== JSON.stringify(roles(rb.items)))
            problems.push(`${row.id} outfit items: ${roles(ra.items).join(',')} vs ${roles(rb.items).join(',')}`);
          for (let m = 0; m < ra.items.length; m += 1) {
            counted.push({ path: '/wardrobe-items', api: ra.items[m].id, seed: rb.items[m].id });
            const ia = strip(await call(api, 'GET', `/wardrobe-items/${ra.items[m].id}`));
            const ib = strip(await call(seeded, 'GET', `/wardrobe-items/${rb.items[m].id}`));
            if (JSON.stringify(ia) !== JSON.stringify(ib))
              problems.push(`${row.id} item ${m}: ${JSON.stringify(ia)} vs ${JSON.stringify(ib)}`);
          }
          counted.push({ path: '/outfits', api: a[k]!.id, seed: b[k]!.id });
          ra.items = roles(ra.items);
          rb.items = roles(rb.items);
        }
        const sa = JSON.stringify(strip(ra));
        const sb = JSON.stringify(strip(rb));
        if (sa !== sb) problems.push(`${row.id} ${field}[${k}]: ${sa} vs ${sb}`);
      }
    }
  }
  for (const c of counted) {
    const [ta, tb] = [
      (await call(api, 'GET', `${c.path}/${c.api}`)).times_worn,
      (await call(seeded, 'GET', `${c.path}/${c.seed}`)).times_worn,
    ];
    if (ta !== tb) problems.push(`${c.path}/${c.seed} times_worn: API ${ta} vs seed ${tb}`);
  }
} finally {
  await api.stop();
  await seeded.stop();
}
console.log(
  problems.length === 0
    ? `check-seed: ${COUNT} episodes: the seed's links and linked records match the API's`
    : `check-seed: ${problems.length} difference(s):\n  ${problems.slice(0, 30).join('\n  ')}`,
);
process.exit(problems.length === 0 ? 0 : 1);
