// GET /{plural}/export: every match of the list query as NDJSON or CSV, streamed page by page.
// The 100,000-row export runs against a server process limited to a 96 MB heap and moves several
// times that many bytes, so it can only pass if the rows are never all in memory at once.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { freePort } from '../src/db/embedded.ts';
import { migrateUp } from '../src/db/migrator.ts';
import { PROJECT_ROOT } from '../src/config.ts';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { spawnServer, stopServer } from './support/server-process.ts';
import { csvCell } from '../src/api/csv-cell.ts';

const ROWS = 100_000;
let db: TestDatabase;
let server: ChildProcess;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  await migrateUp(db.url, path.join(PROJECT_ROOT, 'migrations'));
  // About 3 KB each (in a field that is not full-text indexed, to keep the insert quick):
  // 100,000 of them are some 300 MB of NDJSON.
  await db.query(`
    INSERT INTO episodes (id, schema_version, title, status, season, production_notes, tags, wardrobe)
    SELECT 'ep_20250101_' || lpad(g::text, 10, '0'), 1, 'Episode ' || g,
           CASE WHEN g % 4 = 0 THEN 'published' ELSE 'draft' END, 1 + g % 5,
           jsonb_build_object('lighting_setup', repeat('A "quoted", comma-laden; note. ', 90)), '["fashion","x"]'::jsonb,
           jsonb_build_object('shoes', jsonb_build_object('brand', 'Brand ' || (g % 7)))
    FROM generate_series(1, ${ROWS}) AS g`);
  const port = await freePort();
  server = await spawnServer({ DATABASE_URL: db.url, PORT: String(port), MIGRATE_ON_START: 'false' }, [
    '--max-old-space-size=96',
  ]);
  base = `http://127.0.0.1:${port}/api/v1/episodes/export`;
}, 120_000);

afterAll(async () => {
  if (server) await stopServer(server);
  await db?.drop();
});

/** Reads a streamed body line by line without keeping it, returning the count and a few lines. */
async function readLines(
  response: Response,
  keep: (index: number) => boolean,
): Promise<{ count: number; kept: Map<number, string>; bytes: number }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const kept = new Map<number, string>();
  let count = 0;
  let bytes = 0;
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.length;
    const lines = (rest + value).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (keep(count)) kept.set(count, line);
      count += 1;
    }
  }
  if (rest !== '') count += 1;
  return { count, kept, bytes };
}

describe('export', () => {
  it('streams 100,000 records as NDJSON with bounded memory, in id order', async () => {
    const response = await fetch(base);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="episodes.ndjson"');
    const { count, kept, bytes } = await readLines(response, (i) => i === 0 || i === ROWS - 1);
    expect(count).toBe(ROWS);
    expect(bytes).toBeGreaterThan(250_000_000);
    expect(JSON.parse(kept.get(0)!)).toMatchObject({
      id: 'ep_20250101_0000000001',
      title: 'Episode 1',
      tags: ['fashion', 'x'],
    });
    expect(JSON.parse(kept.get(ROWS - 1)!).id).toBe(`ep_20250101_${String(ROWS).padStart(10, '0')}`);
  }, 120_000);

  it('applies the list filters, projection and sort, and writes CSV with a header and quoted cells', async () => {
    const response = await fetch(
      `${base}?format=csv&status=published&wardrobe.shoes.brand=${encodeURIComponent('Brand 3')}&_fields=title,season,wardrobe.shoes.brand,production_notes.lighting_setup&_sort=-season`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parse(await response.text()) as string[][];
    expect(rows[0]).toEqual(['id', 'title', 'season', 'wardrobe', 'production_notes']);
    const body = rows.slice(1);
    // g % 4 = 0 and g % 7 = 3: one in 28.
    expect(body).toHaveLength(Math.floor((ROWS - 24) / 28) + 1);
    expect(body.map((r) => Number(r[2]))).toEqual([...body.map((r) => Number(r[2]))].sort((a, b) => b - a));
    expect(JSON.parse(body[0]![3]!)).toEqual({ shoes: { brand: 'Brand 3' } });
    expect(JSON.parse(body[0]![4]!)).toEqual({ lighting_setup: 'A "quoted", comma-laden; note. '.repeat(90) });
  }, 60_000);

  it('writes CSV cells that a spreadsheet would run as formulas with a leading single quote (OWASP), and numbers as they are', async () => {
    const shows = base.replace('/episodes/export', '/shows');
    const formulas = [
      '=HYPERLINK("http://evil.example","x")',
      '+1+1',
      '-2+3',
      '@SUM(A1:A2)',
      '\tindented',
      '\rreturn',
      "=cmd|' /C calc'!A0",
    ];
    const harmless = ['plain title', 'a=b', '1+1', ' =leading space'];
    for (const title of [...formulas, ...harmless]) {
      const reply = await fetch(shows, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title, description: title }),
      });
      expect(reply.status, title).toBe(201);
    }
    const response = await fetch(`${base.replace('/episodes/', '/shows/')}?format=csv&_fields=title,description`);
    expect(response.status).toBe(200);
    const rows = (parse(await response.text(), { relax_quotes: true }) as string[][]).slice(1);
    const titles = rows.map((r) => r[1]!);
    expect(titles.sort()).toEqual([...formulas.map((t) => `'${t}`), ...harmless].sort());
    expect(rows.every((r) => r[1] === r[2])).toBe(true);
    // The same export as NDJSON keeps the values exactly.
    const ndjson = (await (await fetch(`${base.replace('/episodes/', '/shows/')}?_fields=title`)).text())
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { title: string }).title);
    expect(ndjson.sort()).toEqual([...formulas, ...harmless].sort());
    // Numbers (and booleans) of typed fields are values, not formulas; objects are JSON.
    expect([
      csvCell(-5),
      csvCell(-0.5),
      csvCell(true),
      csvCell('-5'),
      csvCell({ a: '=1' }),
      csvCell(['@x']),
      csvCell(null),
    ]).toEqual(['-5', '-0.5', 'true', "'-5", '{"a":"=1"}', '["@x"]', '']);
  });

  it('refuses paging parameters and unknown formats', async () => {
    const paging = await fetch(`${base}?_limit=10`);
    expect(paging.status).toBe(400);
    expect(JSON.stringify(await paging.json())).toMatch(/an export streams every match; _limit do not apply here/);
    const format = await fetch(`${base}?format=xlsx`);
    expect(format.status).toBe(400);
    expect(JSON.stringify(await format.json())).toMatch(/format must be one of: csv, ndjson/);
    expect((await fetch(`${base}?colour=red`)).status).toBe(400);
    expect((await fetch(base, { method: 'POST' })).status).toBe(405);
  });
});
