// Indexes from the registry are the ones the query compiler's SQL uses: EXPLAIN on 100,000
// episodes for the Appendix D queries (top colour + status, shoe brand, status + projection).
import path from 'node:path';
import { sql, type QuerySqlToken } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { migrateUp } from '../src/db/migrator.ts';
import { createDatabasePool, type DatabasePool } from '../src/db/pool.ts';
import { RecordStore } from '../src/db/records.ts';
import { parseListQuery } from '../src/query/list-query.ts';
import { findEntity } from '../src/registry/model.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { shippedModel } from './support/fixtures.ts';

const ROWS = 100_000;
const model = shippedModel();
const store = (pool: DatabasePool) => new RecordStore(pool, findEntity(model, 'episode')!);

let db: TestDatabase;
let pool: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase();
  await migrateUp(db.url, path.join(PROJECT_ROOT, 'migrations'));
  // 1 in 10 published, 1 in 100 champagne tops, 1 in 40 pairs of Louboutins.
  await db.query(`
    INSERT INTO episodes (id, schema_version, title, status, season, wardrobe, backgrounds)
    SELECT 'ep_20250101_' || lpad(g::text, 10, '0'), 1, 'Episode ' || g,
           CASE WHEN g % 10 = 0 THEN 'published' ELSE (ARRAY['draft','in_production','archived'])[1 + g % 3] END,
           1 + g % 12,
           jsonb_build_object(
             'main_outfit', jsonb_build_object('top', jsonb_build_object('color', CASE WHEN g % 100 = 7 THEN 'champagne' ELSE 'colour ' || (g % 97) END)),
             'shoes', jsonb_build_object('brand', CASE WHEN g % 40 = 3 THEN 'Christian Louboutin' ELSE 'brand ' || (g % 37) END)),
           jsonb_build_object('main_closet', 's3://bucket/backgrounds/closet_' || (g % 50) || '.jpg')
    FROM generate_series(1, ${ROWS}) AS g`);
  await db.query('ANALYZE episodes');
  pool = await createDatabasePool(db.url, 2);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function plan(query: QuerySqlToken): Promise<string> {
  const rows = await pool.any(sql.unsafe`EXPLAIN ${query}`);
  return rows.map((r) => String(Object.values(r)[0])).join('\n');
}

const plans = async (queryString: string) => {
  const query = parseListQuery(findEntity(model, 'episode')!, queryString);
  return { page: await plan(store(pool).pageSql(query)), count: await plan(store(pool).countSql(query)) };
};

describe('Appendix D queries on 100,000 episodes use an index', () => {
  it('use case 1: top colour + status uses the expression index on the top colour', async () => {
    const { page, count } = await plans('wardrobe.main_outfit.top.color=champagne&status=published');
    expect(page).toContain('episodes_wardrobe_main_outfit_top_color_idx');
    expect(count).toContain('episodes_wardrobe_main_outfit_top_color_idx');
    expect(`${page}\n${count}`).not.toMatch(/Seq Scan/);
  });

  it('use case 6: shoe brand uses the expression index on the brand', async () => {
    const { page, count } = await plans(`wardrobe.shoes.brand=${encodeURIComponent('Christian Louboutin')}`);
    expect(`${page}\n${count}`).toContain('episodes_wardrobe_shoes_brand_idx');
    expect(count).toContain('episodes_wardrobe_shoes_brand_idx');
    expect(`${page}\n${count}`).not.toMatch(/Seq Scan/);
  });

  it('use case 4: status + projection uses an index', async () => {
    const { page, count } = await plans('status=published&_fields=backgrounds');
    expect(page).toMatch(/Index Scan|Bitmap Index Scan/);
    expect(count).toContain('episodes_status_idx');
    expect(`${page}\n${count}`).not.toMatch(/Seq Scan/);
  });

  it('full text uses the GIN index on the generated search vector', async () => {
    const { page } = await plans('q=episode+12345');
    expect(page).toContain('episodes_search_vector_idx');
  });

  it('sorting by an indexed column reads the index in order instead of sorting everything', async () => {
    const { page } = await plans('_sort=-season&_limit=20');
    expect(page).toContain('episodes_season_idx');
  });
});
