// Declaring `normalize:` on a field that holds data rewrites the stored values in the declared
// spelling (the generated migration's backfill), so queries, which compare in that spelling, find
// records written before it: registry 2.2.0 normalized tags that 2.1.0 stored as sent.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { migrateUp } from '../src/db/migrator.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type Rec, type TestService } from './support/service.ts';

const MIGRATIONS = path.join(PROJECT_ROOT, 'migrations');
/** The last migration before tags were normalized. */
const BEFORE_NORMALIZE = 15;

let db: TestDatabase;
let service: TestService | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  await migrateUp(db.url, MIGRATIONS, { to: BEFORE_NORMALIZE });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

describe('a migration that declares normalize', () => {
  it('rewrites the stored spellings, keeping each tag once and other values as they are', async () => {
    // Rows as 2.1.0 wrote them: tags as sent.
    await db.query(`INSERT INTO episodes (id, schema_version, title, tags) VALUES
      ('ep_20250101_spelling01', 1, 'Spelt', '[" Fashion ", "FASHION", "NYC   Style", "fashion", 7]'),
      ('ep_20250101_spelling02', 1, 'Plain', '["fashion"]'),
      ('ep_20250101_spelling03', 1, 'None', NULL)`);
    await db.query(`INSERT INTO clips (id, schema_version, talent_source, clip_type, file_reference, tags)
      VALUES ('clip_20250101_spelling1', 1, 'Lala', 'raw', 's3://bucket/raw/spelling.mov', '["Behind The Scenes"]')`);

    const applied = await migrateUp(db.url, MIGRATIONS);
    expect(applied.map((m) => m.version)).toContain(BEFORE_NORMALIZE + 1);
    const rows = await db.query<{ id: string; tags: unknown }>('SELECT id, tags FROM episodes ORDER BY id');
    expect(rows).toEqual([
      { id: 'ep_20250101_spelling01', tags: ['fashion', 'nyc style', 7] },
      { id: 'ep_20250101_spelling02', tags: ['fashion'] },
      { id: 'ep_20250101_spelling03', tags: null },
    ]);
    expect(await db.query('SELECT tags FROM clips')).toEqual([{ tags: ['behind the scenes'] }]);

    // The API's query, which normalizes its value, finds the record written before.
    service = await startTestService({ databaseUrl: db.url });
    const found = await service.request<Rec[]>('GET', '/api/v1/episodes?tags=FASHION&_fields=title&_sort=title');
    expect(found.body.data.map((e) => e.title)).toEqual(['Plain', 'Spelt']);
    const counted = await service.request<Rec[]>('GET', '/api/v1/episodes/tags');
    expect(counted.body.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: 'fashion', count: 2 })]),
    );
  });
});
