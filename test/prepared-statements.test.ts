// Named prepared statements (src/db/prepared.ts, src/db/driver.ts) on a real PostgreSQL: a
// statement marked PREPARED is prepared once per connection, an unmarked or value-less one is not
// (a filter's generic plan can be far worse than its custom one), the number per connection is bounded, a statement whose result type a migration changed keeps
// working (outside and inside a transaction), and DB_PREPARED_STATEMENTS=false names nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createDatabasePool } from '../src/db/pool.ts';
import { MAX_PER_CONNECTION, PREPARED } from '../src/db/prepared.ts';
import { transact } from '../src/db/work.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

let db: TestDatabase;
let pool: DatabasePool;
let unprepared: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE things (id int PRIMARY KEY, v int NOT NULL)');
  await db.query('INSERT INTO things SELECT g, g * 10 FROM generate_series(1, 100) g');
  // One connection each, so what one query prepared is what the next one sees.
  pool = await createDatabasePool(db.url, 1);
  unprepared = await createDatabasePool(db.url, 1, { preparedStatements: false });
});

afterAll(async () => {
  await pool?.end();
  await unprepared?.end();
  await db?.drop();
});

const prepared = async (on: DatabasePool) =>
  (await on.any(sql.unsafe`SELECT name, statement FROM pg_prepared_statements ORDER BY statement`)) as readonly {
    name: string;
    statement: string;
  }[];
const thingValue = (on: DatabasePool, id: number) =>
  on.oneFirst(sql.unsafe`${PREPARED}SELECT v FROM things WHERE id = ${id}`);

describe('named prepared statements', () => {
  it('prepares a marked statement once per connection, and answers the same', async () => {
    expect(await thingValue(pool, 1)).toBe(10);
    expect(await thingValue(pool, 2)).toBe(20);
    const named = (await prepared(pool)).filter((p) => p.statement.includes('FROM things WHERE id'));
    expect(named).toEqual([
      {
        name: expect.stringMatching(/^rm_[0-9a-f]{24}$/),
        statement: '/* prepared */ SELECT v FROM things WHERE id = $1',
      },
    ]);
  });

  it('leaves an unmarked statement unnamed, however often it runs (a filter keeps its custom plan)', async () => {
    for (let run = 0; run < 6; run++)
      expect(await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM things WHERE v > ${run}`)).toBe(100);
    expect((await prepared(pool)).map((p) => p.statement).join('\n')).not.toContain('count(*)');
  });

  it('leaves a statement without values alone (the simple protocol: DDL, SET, transaction control)', async () => {
    for (let run = 0; run < 3; run++) {
      await pool.query(sql.unsafe`CREATE TABLE IF NOT EXISTS simple_one (x int)`);
      expect(await pool.oneFirst(sql.unsafe`SELECT 42 AS answer`)).toBe(42);
    }
    await pool.query(sql.unsafe`DROP TABLE simple_one`);
    const statements = (await prepared(pool)).map((p) => p.statement).join('\n');
    expect(statements).not.toContain('simple_one');
    expect(statements).not.toContain('42');
  });

  it(`holds at most ${MAX_PER_CONNECTION} named statements on a connection, and runs the rest unnamed`, async () => {
    for (let shape = 0; shape < MAX_PER_CONNECTION + 20; shape++) {
      for (let run = 0; run < 2; run++) {
        const v = await pool.oneFirst(
          sql.type(
            z.object({ v: z.number() }),
          )`${PREPARED}SELECT v + ${sql.literalValue(String(shape))}::int AS v FROM things WHERE id = ${1}`,
        );
        expect(v).toBe(10 + shape);
      }
    }
    expect((await prepared(pool)).length).toBe(MAX_PER_CONNECTION);
  });

  it('keeps answering after a migration changes the result type under a prepared statement', async () => {
    const fresh = await createDatabasePool(db.url, 1);
    try {
      const read = (id: number) => fresh.oneFirst(sql.unsafe`${PREPARED}SELECT v FROM things WHERE id = ${id}`);
      const readInTransaction = (id: number) =>
        transact(fresh, (tx) => tx.oneFirst(sql.unsafe`${PREPARED}SELECT v AS v FROM things WHERE id = ${id}`));
      await read(1);
      await read(1);
      await readInTransaction(2);
      await readInTransaction(2);
      await db.query('ALTER TABLE things ALTER COLUMN v TYPE text');
      // Outside a transaction it runs again unnamed at once; inside one, transact runs the transaction again.
      expect(await read(4)).toBe('40');
      expect(await readInTransaction(5)).toBe('50');
      expect(await read(6)).toBe('60');
      expect(await readInTransaction(7)).toBe('70');
    } finally {
      await fresh.end();
      await db.query('ALTER TABLE things ALTER COLUMN v TYPE int USING v::int');
    }
  });

  it('names nothing with DB_PREPARED_STATEMENTS=false', async () => {
    for (let run = 0; run < 3; run++) expect(await thingValue(unprepared, 7)).toBe(70);
    expect(await prepared(unprepared)).toEqual([]);
  });
});
