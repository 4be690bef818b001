// Slow bounded counts (src/db/counting.ts) on a real PostgreSQL: a count that took SLOW_COUNT_MS
// or more is reused for a few seconds and then says it is an estimate; identical counts running
// at once share one; a committed write forgets what was kept; a fast count is never kept.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql, type DatabasePool } from 'slonik';
import { countMatches, forgetSlowCounts, SLOW_COUNT_MS } from '../src/db/counting.ts';
import { createDatabasePool } from '../src/db/pool.ts';
import { transact } from '../src/db/work.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

let db: TestDatabase;
let pool: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE things (id int PRIMARY KEY)');
  await db.query('INSERT INTO things SELECT generate_series(1, 50)');
  // Each evaluation of the condition takes a sequence number: how many times a count really ran.
  await db.query('CREATE SEQUENCE evaluations');
  pool = await createDatabasePool(db.url, 4);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});
beforeEach(() => forgetSlowCounts());

const table = sql.fragment`things`;
const evaluations = async () => Number((await db.query('SELECT last_value FROM evaluations'))[0]!.last_value);
/** Matches ids 1–3; each of the three evaluations sleeps, so the count is slow. */
const slow = sql.fragment`WHERE id <= 3 AND nextval('evaluations') > 0 AND pg_sleep(${SLOW_COUNT_MS / 1000 / 2}) IS NOT NULL`;
const fast = sql.fragment`WHERE id <= 3 AND nextval('evaluations') > 0`;

describe('slow counts', () => {
  it('keeps a slow count and answers it again as an estimate', async () => {
    expect(await countMatches(pool, table, slow, 'auto')).toEqual({ total: 3, isEstimate: false });
    const ran = await evaluations();
    expect(await countMatches(pool, table, slow, 'auto')).toEqual({ total: 3, isEstimate: true });
    expect(await evaluations()).toBe(ran);
  });

  it('never keeps a fast one', async () => {
    await countMatches(pool, table, fast, 'auto');
    const ran = await evaluations();
    expect(await countMatches(pool, table, fast, 'auto')).toEqual({ total: 3, isEstimate: false });
    expect(await evaluations()).toBe(ran + 3);
  });

  it('runs identical counts that arrive together once', async () => {
    const before = await evaluations();
    const answers = await Promise.all([1, 2, 3].map(() => countMatches(pool, table, slow, 'auto')));
    expect(answers.map((a) => a?.total)).toEqual([3, 3, 3]);
    expect(await evaluations()).toBe(before + 3);
  });

  it('counts again after a committed write', async () => {
    await countMatches(pool, table, slow, 'auto');
    await transact(pool, (tx) => tx.query(sql.unsafe`DELETE FROM things WHERE id = 3`));
    expect(await countMatches(pool, table, slow, 'auto')).toEqual({ total: 2, isEstimate: false });
  });
});

describe('a page that shows the total', () => {
  it('answers the total it shows, exact, without counting (automatic and exact counts)', async () => {
    const before = await evaluations();
    expect(await countMatches(pool, table, fast, 'auto', Promise.resolve(3))).toEqual({ total: 3, isEstimate: false });
    expect(await countMatches(pool, table, fast, 'exact', Promise.resolve(3))).toEqual({ total: 3, isEstimate: false });
    expect(await evaluations()).toBe(before);
  });

  it('is believed over a planner estimate above the trusted limit', async () => {
    // Statistics that still say 30,000 rows after all but 7 are gone: the planner overestimates.
    await db.query('CREATE TABLE stale (id int PRIMARY KEY) WITH (autovacuum_enabled = false)');
    await db.query('INSERT INTO stale SELECT generate_series(1, 30000)');
    await db.query('ANALYZE stale');
    await db.query('DELETE FROM stale WHERE id > 7');
    const stale = sql.fragment`stale`;
    const all = sql.fragment`WHERE id > 0`;
    const estimated = await countMatches(pool, stale, all, 'auto');
    expect(estimated?.isEstimate).toBe(true);
    expect(estimated!.total).toBeGreaterThan(20_000);
    expect(await countMatches(pool, stale, all, 'auto', Promise.resolve(7))).toEqual({ total: 7, isEstimate: false });
    // `_count=estimated` asks the planner only, whatever the page shows.
    expect((await countMatches(pool, stale, all, 'estimated', Promise.resolve(7)))?.isEstimate).toBe(true);
  });

  it('asks nothing more of PostgreSQL, not even an estimate; a full page asks for the estimate, then counts', async () => {
    const ran: string[] = [];
    const watched = await createDatabasePool(db.url, 2, {
      interceptors: [
        {
          name: 'statements-run',
          beforeQueryExecution: async (context) => {
            ran.push(context.originalQuery.sql.split(' ')[0]!);
            return null;
          },
        },
      ],
    });
    try {
      expect(await countMatches(watched, table, fast, 'auto', Promise.resolve(3))).toEqual({
        total: 3,
        isEstimate: false,
      });
      expect(ran).toEqual([]);
      await countMatches(watched, table, fast, 'auto', Promise.resolve(undefined));
      expect(ran).toEqual(['EXPLAIN', 'SELECT']);
    } finally {
      await watched.end();
    }
  });

  it('counts when the page does not show it', async () => {
    const matching = Number((await db.query('SELECT count(*) AS n FROM things WHERE id <= 3'))[0]!.n);
    const before = await evaluations();
    expect(await countMatches(pool, table, fast, 'auto', Promise.resolve(undefined))).toEqual({
      total: matching,
      isEstimate: false,
    });
    expect(await evaluations()).toBe(before + matching);
  });
});
