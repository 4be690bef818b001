// The baseline the service is measured against: hono + node-server + a pg Pool running
// hand-written SQL for exactly the bench's requests, with the same envelope and the same total
// policy. Run as its own process: env DATABASE_URL, PORT, HOST, DB_POOL_SIZE.
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import pg from 'pg';

const ESTIMATE_ABOVE = 20_000;
/** The service ranks at most this many full-text matches (src/db/records.ts, RANK_WINDOW). */
const RANK_WINDOW = 1000;
const COUNT_CAP = 10_000;

const types = {
  // The service's JSON-ready values: numbers for int8, 'YYYY-MM-DD' for dates, ISO timestamps.
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return (value: string) => Number(value);
    if (oid === 1082) return (value: string) => value;
    if (oid === 1184) return (value: string) => new Date(value).toISOString();
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_SIZE || 20),
  types,
});
// An idle client losing its connection must not kill the server; the next query reports it.
pool.on('error', () => undefined);

const columnRows = await pool.query<{ column_name: string }>(
  `SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'episodes' AND column_name <> 'search_vector' ORDER BY ordinal_position`,
);
const COLUMNS = columnRows.rows.map((r) => `"${r.column_name}"`).join(', ');
const HAS_SEARCH =
  (
    await pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'episodes' AND column_name = 'search_vector'`,
    )
  ).rowCount === 1;

const envelope = (data: unknown, extra: Record<string, unknown> = {}) => ({
  data,
  metadata: { schema_version: 1, registry_version: 'baseline', timestamp: new Date().toISOString(), ...extra },
  errors: [],
});
const failure = (c: Context, status: 400 | 404 | 500 | 501, code: string, message: string) =>
  c.json(
    {
      data: null,
      metadata: { registry_version: 'baseline', timestamp: new Date().toISOString() },
      errors: [{ code, message, field: null }],
    },
    status,
  );

interface ListSql {
  where: string;
  params: unknown[];
  orderBy: string;
  estimatedOnly: boolean;
}

class BadQuery extends Error {}

/** Exactly the query strings the bench sends; anything else is a 400. */
function parseList(params: URLSearchParams, search: boolean): ListSql & { limit: number } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  let orderBy = 'id ASC';
  let limit = 50;
  let estimatedOnly = false;
  for (const [key, value] of params) {
    if (key === 'status') clauses.push(`status = ${bind(value)}`);
    else if (key === 'season[gte]') clauses.push(`season >= ${bind(Number(value))}`);
    else if (key === 'wardrobe.shoes.brand') clauses.push(`("wardrobe" #>> '{shoes,brand}') = ${bind(value)}`);
    else if (key === 'wardrobe.main_outfit.top.color')
      clauses.push(`("wardrobe" #>> '{main_outfit,top,color}') = ${bind(value)}`);
    else if (key === '_count' && value === 'estimated') estimatedOnly = true;
    else if (key === '_limit') limit = Math.min(1000, Math.max(1, Number(value) || 50));
    else if (key === '_sort' && value === '-updated_at') orderBy = 'updated_at DESC NULLS FIRST, id ASC';
    else if (key === 'q') {
      const q = bind(value);
      clauses.push(`search_vector @@ websearch_to_tsquery('english', ${q})`);
      orderBy = `ts_rank_cd(search_vector, websearch_to_tsquery('english', ${q})) DESC, id ASC`;
    } else throw new BadQuery(`the baseline does not handle the query parameter "${key}"`);
  }
  if (search && !params.has('q')) throw new BadQuery('q is required');
  clauses.push('deleted_at IS NULL');
  return { where: clauses.join(' AND '), params: values, orderBy, limit, estimatedOnly };
}

/** The service's total policy: a planner estimate when large, else a count capped at 10,001. */
async function total(
  where: string,
  params: unknown[],
  estimatedOnly: boolean,
): Promise<{ total: number; total_is_estimate: boolean }> {
  const plan = await pool.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM episodes WHERE ${where}`,
    params,
  );
  const estimate = plan.rows[0]!['QUERY PLAN'][0].Plan['Plan Rows'];
  if (estimatedOnly || estimate > ESTIMATE_ABOVE) return { total: estimate, total_is_estimate: true };
  const counted = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM episodes WHERE ${where} LIMIT ${COUNT_CAP + 1}) s`,
    params,
  );
  const n = counted.rows[0]!.n;
  return n <= COUNT_CAP
    ? { total: n, total_is_estimate: false }
    : { total: Math.max(estimate, COUNT_CAP + 1), total_is_estimate: true };
}

async function list(c: Context, search: boolean) {
  let query: ReturnType<typeof parseList>;
  try {
    query = parseList(new URL(c.req.url).searchParams, search);
  } catch (error) {
    if (error instanceof BadQuery) return failure(c, 400, 'INVALID_QUERY', error.message);
    throw error;
  }
  if (query.where.includes('search_vector') && !HAS_SEARCH) {
    return failure(
      c,
      501,
      'NOT_IMPLEMENTED',
      'episodes has no search_vector column yet (the full-text migration has not been generated)',
    );
  }
  const ranked = query.orderBy.startsWith('ts_rank_cd');
  const pageSql = ranked
    ? `SELECT ${COLUMNS} FROM (SELECT * FROM episodes WHERE ${query.where} LIMIT ${RANK_WINDOW}) AS episodes ORDER BY ${query.orderBy} LIMIT ${query.limit + 1}`
    : `SELECT ${COLUMNS} FROM episodes WHERE ${query.where} ORDER BY ${query.orderBy} LIMIT ${query.limit + 1}`;
  const [rows, counted] = await Promise.all([
    pool.query(pageSql, query.params),
    total(query.where, query.params, query.estimatedOnly),
  ]);
  const page = rows.rows.slice(0, query.limit);
  return c.json(envelope(page, { ...counted, limit: query.limit, has_more: rows.rows.length > query.limit }));
}

const app = new Hono();
app.get('/health', async (c) => {
  await pool.query('SELECT 1');
  return c.json(envelope({ status: 'ok' }));
});
app.get('/api/v1/episodes/search', (c) => list(c, true));
app.get('/api/v1/episodes', (c) => list(c, false));
app.get('/api/v1/episodes/:id', async (c) => {
  const result = await pool.query(`SELECT ${COLUMNS} FROM episodes WHERE id = $1 AND deleted_at IS NULL`, [
    c.req.param('id'),
  ]);
  const row = result.rows[0];
  return row ? c.json(envelope(row)) : failure(c, 404, 'NOT_FOUND', `episode ${c.req.param('id')} not found`);
});
app.onError((error, c) => failure(c, 500, 'INTERNAL_ERROR', error.message));

const server = serve({
  fetch: app.fetch,
  port: Number(process.env.PORT || 0),
  hostname: process.env.HOST || '127.0.0.1',
});
const stop = () => {
  server.close(() => void pool.end().finally(() => process.exit(0)));
  // closeAllConnections exists on http.Server (node-server's default); keep-alive sockets would hold close() open.
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
