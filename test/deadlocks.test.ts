// Concurrent creates that link the same new library assets in different orders: every one
// succeeds (no 500, no 503), and each S3 URI and wardrobe item ends up as exactly one library
// record. Locks are taken in a stable order, and a transaction that still deadlocks is run again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier } from '../src/records/failures.ts';
import { createDatabasePool, type DatabasePool } from '../src/db/pool.ts';
import { TRANSACTION_ATTEMPTS, transact } from '../src/db/work.ts';
import { sql } from 'slonik';
import { useServiceForFile } from './support/file-service.ts';
import { shippedModel } from './support/fixtures.ts';

const fixture = useServiceForFile({ poolSize: 8 });

const ROUNDS = 12;
const WRITERS = 6;
const ASSETS = 5;

/** Fisher–Yates with a seeded LCG, so a failing round can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function episode(round: number, writer: number, ui: string[], backgrounds: string[], accessories: string[]) {
  // Half the writers see the lists reversed, the others shuffled.
  const order = <T>(items: T[]) => (writer % 2 === 0 ? [...items].reverse() : shuffled(items, round * 100 + writer));
  return {
    title: `race ${round}.${writer}`,
    ui_elements: { screen_accessories: { custom: order(ui).map((file, i) => ({ name: `ui ${i}`, file })) } },
    backgrounds: { additional: order(backgrounds).map((file, i) => ({ name: `bg ${i}`, file })) },
    wardrobe: { accessories: { other: order(accessories) } },
  };
}

describe('concurrent creates linking the same new library assets', () => {
  it('all succeed, in any order, and make each asset once', async () => {
    const statuses = new Map<number, number>();
    const uiUris: string[] = [];
    const bgUris: string[] = [];
    const styles: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ui = Array.from({ length: ASSETS }, (_, i) => `s3://race/r${round}/ui-${i}.png`);
      const backgrounds = Array.from({ length: ASSETS }, (_, i) => `s3://race/r${round}/bg-${i}.jpg`);
      const accessories = Array.from({ length: ASSETS }, (_, i) => `race ${round} accessory ${i}`);
      uiUris.push(...ui);
      bgUris.push(...backgrounds);
      styles.push(...accessories);
      const replies = await Promise.all(
        Array.from({ length: WRITERS }, (_, writer) =>
          fixture.service.request('POST', '/api/v1/episodes', {
            body: episode(round, writer, ui, backgrounds, accessories),
          }),
        ),
      );
      for (const reply of replies) statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 201: ROUNDS * WRITERS });

    const once = async (table: string, column: string, values: string[]) => {
      const rows = await fixture.db.query<{ value: string; n: number }>(
        `SELECT ${column} AS value, count(*)::int AS n FROM ${table} WHERE ${column} = ANY($1) AND deleted_at IS NULL GROUP BY ${column}`,
        [values],
      );
      return { distinct: rows.length, duplicated: rows.filter((r) => r.n !== 1).map((r) => r.value) };
    };
    expect(await once('ui_elements', 'file_reference', uiUris)).toEqual({ distinct: uiUris.length, duplicated: [] });
    expect(await once('backgrounds', 'file_reference', bgUris)).toEqual({ distinct: bgUris.length, duplicated: [] });
    expect(await once('wardrobe_items', 'style', styles)).toEqual({ distinct: styles.length, duplicated: [] });
  });
});

describe('a transaction that keeps conflicting', () => {
  let pool: DatabasePool | undefined;
  beforeAll(async () => {
    pool = await createDatabasePool(fixture.db.url, 2);
  });
  afterAll(() => pool?.end());

  /** A real serialization failure: PostgreSQL raises 40001 when asked to. */
  const raise = (tx: Parameters<Parameters<typeof transact>[1]>[0], code: string) =>
    tx.query(sql.unsafe`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = ${sql.literalValue(code)}; END $$`);

  it('is run again from the start, and succeeds when the conflict is gone', async () => {
    let runs = 0;
    const result = await transact(pool!, async (tx) => {
      runs++;
      await tx.query(sql.unsafe`CREATE TEMP TABLE IF NOT EXISTS attempt_log (n int) ON COMMIT DROP`);
      await tx.query(sql.unsafe`INSERT INTO attempt_log VALUES (${runs})`);
      if (runs < 3) await raise(tx, runs === 1 ? '40P01' : '40001');
      // Only this run's row: the earlier runs were rolled back.
      return tx.anyFirst(sql.unsafe`SELECT n FROM attempt_log`);
    });
    expect(runs).toBe(3);
    expect(result).toEqual([3]);
  });

  it(`gives up after ${TRANSACTION_ATTEMPTS} runs and answers 503 TRANSACTION_CONFLICT with Retry-After, not 500`, async () => {
    let runs = 0;
    const failure = await transact(pool!, async (tx) => {
      runs++;
      await raise(tx, '40P01');
    }).catch((error: unknown) => error as Error);
    expect(runs).toBe(TRANSACTION_ATTEMPTS);
    const classified = createClassifier(shippedModel())(failure as Error, 'POST');
    expect(classified).toMatchObject({ status: 503, retryAfter: 1, problems: [{ code: 'TRANSACTION_CONFLICT' }] });
  });

  it('does not retry other errors', async () => {
    let runs = 0;
    await expect(
      transact(pool!, async (tx) => {
        runs++;
        await raise(tx, '22023');
      }),
    ).rejects.toThrow(/conflict/);
    expect(runs).toBe(1);
  });
});
