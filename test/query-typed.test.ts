// Comparisons are typed by the registry, also inside JSONB: numbers compare as numbers, dates as
// dates and date-times as instants (text comparison would get all three wrong). The fields are
// added as a registry change on a copy of the project, so no code knows about them. Also: the
// default count switches from exact to the planner's estimate above 10,000 matches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { startTestService, type Reply, type TestService, type Rec } from './support/service.ts';

const TYPED_FIELDS = [
  '  measurements:',
  '    type: object',
  '    fields:',
  '      takes: { type: integer, indexed: true }',
  '      budget: { type: number }',
  '      wrap_date: { type: date, indexed: true }',
  '      wrapped_at: { type: datetime }',
  '      approved: { type: boolean }',
  '  rating: { type: number, storage: document, indexed: true }',
  '',
].join('\n');

let copy: ProjectCopy;
let db: TestDatabase;
let service: TestService;
const ids: string[] = [];

const ROWS: Record<string, unknown>[] = [
  {
    title: 'nine',
    rating: 9,
    measurements: {
      takes: 9,
      budget: 10.25,
      wrap_date: '2025-01-09',
      wrapped_at: '2025-01-01T10:00:00+02:00',
      approved: true,
    },
  },
  {
    title: 'ten',
    rating: 10,
    measurements: {
      takes: 10,
      budget: 2.5,
      wrap_date: '2025-10-01',
      wrapped_at: '2025-01-01T09:00:00Z',
      approved: false,
    },
  },
  {
    title: 'hundred',
    rating: 100.5,
    measurements: { takes: 100, budget: 100, wrap_date: '2025-02-01', wrapped_at: '2025-01-01T09:30:00-01:00' },
  },
  { title: 'none' },
];

beforeAll(async () => {
  copy = copyProject();
  copy.edit('registry/entities/episode.yaml', (t) =>
    t.replace('  # --- Production content', `${TYPED_FIELDS}  # --- Production content`),
  );
  const codegen = await runCli(['codegen'], copy.env);
  expect(codegen.code, codegen.stderr).toBe(0);
  db = await createTestDatabase();
  service = await startTestService({
    databaseUrl: db.url,
    ...copy.dirs,
  });
  for (const body of ROWS) {
    const reply = await service.request<Rec>('POST', '/api/v1/episodes', { body });
    expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
    ids.push(reply.body.data.id);
  }
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await db?.drop();
  copy?.remove();
});

const titles = async (query: string) => {
  const reply = (await service.request<Rec[]>('GET', `/api/v1/episodes?${query}&_fields=title`)) as Reply<Rec[]>;
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
  return reply.body.data.map((r) => r.title);
};

describe('typed comparisons inside JSONB', () => {
  it('numbers compare numerically, not as text', async () => {
    expect(await titles('measurements.takes[gt]=9&_sort=measurements.takes')).toEqual(['ten', 'hundred']);
    expect(await titles('_sort=measurements.takes')).toEqual(['nine', 'ten', 'hundred', 'none']);
    expect(await titles('_sort=-measurements.budget')).toEqual(['none', 'hundred', 'nine', 'ten']);
    expect(await titles('measurements.budget[between]=2,11&_sort=title')).toEqual(['nine', 'ten']);
    expect(await titles('rating[gte]=10&_sort=rating')).toEqual(['ten', 'hundred']);
    expect(await titles('rating=100.5')).toEqual(['hundred']);
  });

  it('dates compare as dates and date-times as instants, whatever their offset', async () => {
    expect(await titles('measurements.wrap_date[lt]=2025-02-01&_sort=title')).toEqual(['nine']);
    expect(await titles('_sort=measurements.wrap_date')).toEqual(['nine', 'hundred', 'ten', 'none']);
    // 10:00+02:00 is 08:00Z, 09:30-01:00 is 10:30Z.
    expect(await titles('_sort=measurements.wrapped_at')).toEqual(['nine', 'ten', 'hundred', 'none']);
    expect(await titles('measurements.wrapped_at[lt]=2025-01-01T08:30:00Z')).toEqual(['nine']);
    expect(await titles('measurements.wrapped_at=2025-01-01T11:30:00%2B01:00')).toEqual(['hundred']);
  });

  it('booleans and the typed value errors', async () => {
    expect(await titles('measurements.approved=false')).toEqual(['ten']);
    expect(await titles('measurements.approved[ne]=true&_sort=title')).toEqual(['hundred', 'none', 'ten']);
    const bad = await service.request('GET', '/api/v1/episodes?measurements.takes=ten&measurements.approved[gt]=true');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.message).join('\n')).toMatch(
      /"ten" is not an integer[\s\S]*operator "gt" does not apply to "measurements.approved" \(boolean\)/,
    );
  });

  it('indexes the typed expression the compiler uses', async () => {
    const indexes = await db.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE indexname IN ('episodes_measurements_takes_idx', 'episodes_rating_idx') ORDER BY indexname",
    );
    expect(indexes.map((i) => i.indexdef)).toEqual([
      expect.stringContaining(`((measurements #>> '{takes}'::text[]))::bigint`),
      expect.stringContaining(`((doc #>> '{rating}'::text[]))::double precision`),
    ]);
  });
});

describe('default counts above 10,000 matches', () => {
  it('are exact up to 10,000 matches and the planner estimate above, flagged as such', async () => {
    await db.query(`
      INSERT INTO episodes (id, schema_version, title, status)
      SELECT 'ep_20250101_bulk' || lpad(g::text, 6, '0'), 1, 'Bulk ' || g, 'archived' FROM generate_series(1, 10050) AS g`);
    await db.query('ANALYZE episodes');
    const auto = await service.request('GET', '/api/v1/episodes?status=archived&_limit=1');
    expect(auto.body.metadata.total_is_estimate).toBe(true);
    expect(auto.body.metadata.total).toBeGreaterThan(10_000);
    expect(auto.body.metadata.total).toBeLessThan(12_000);
    const exact = await service.request('GET', '/api/v1/episodes?status=archived&_limit=1&_count=exact');
    expect(exact.body.metadata).toMatchObject({ total: 10_050, total_is_estimate: false });
    const few = await service.request(
      'GET',
      `/api/v1/episodes?status=archived&title[startswith]=${encodeURIComponent('Bulk 999')}`,
    );
    expect(few.body.metadata).toMatchObject({ total: 11, total_is_estimate: false });
  });
});
