// Concurrent creates that link the same new library assets in different orders: every one
// succeeds (no 500, no 503), and each S3 URI and wardrobe item ends up as exactly one library
// record. Locks are taken in a stable order, and a transaction that still deadlocks is run again.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';

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
        Array.from({ length: WRITERS }, (_, writer) => fixture.service.request('POST', '/api/v1/episodes', { body: episode(round, writer, ui, backgrounds, accessories) })),
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
