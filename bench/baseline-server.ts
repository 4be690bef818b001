// The yardstick the service is measured against: hono + node-server + pg with hand-written SQL
// for exactly the bench's requests, giving the same answers (records with their link arrays,
// envelope, total policy, cursors). Imports nothing from src/. Every query is a named prepared
// statement; each record's JSON is built by PostgreSQL in the statement that reads it, so the
// server only forwards text. Run as its own process: env DATABASE_URL, PORT, HOST, DB_POOL_SIZE.
import { randomBytes, randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { stream } from 'hono/streaming';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** The service's count policy (its src/db/counting.ts): exact up to 10,000, an estimate above. */
const EXACT_COUNT_LIMIT = 10_000;
const TRUSTED_ESTIMATE = 2 * EXACT_COUNT_LIMIT;
/** The service ranks at most this many full-text matches. */
const RANK_WINDOW = 1000;
const REGISTRY_VERSION = 'baseline';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE || 20) });
// An idle client losing its connection must not kill the server; the next query reports it.
pool.on('error', () => undefined);

const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const links = (junction: string, owner: string) =>
  `(SELECT coalesce(json_agg(json_build_object('id', l.target_id, 'role', l.role) ORDER BY l.position), '[]'::json) FROM ${junction} l WHERE l.owner_id = ${owner}.id)`;

/** An episode as the API returns it, in its field order, as one json value of alias `e`. */
const EPISODE_JSON = `json_build_object(
  'id', e.id, 'title', e.title, 'show_id', e.show_id, 'episode_number', e.episode_number, 'season', e.season,
  'status', e.status, 'content', e.content, 'outfits', ${links('episodes_outfits', 'e')}, 'wardrobe', e.wardrobe,
  'ui_elements', e.ui_elements, 'backgrounds', e.backgrounds,
  'ui_element_refs', ${links('episodes_ui_element_refs', 'e')}, 'background_refs', ${links('episodes_background_refs', 'e')},
  'filming_date', e.filming_date, 'edit_deadline', e.edit_deadline, 'publish_date', e.publish_date,
  'released_at', ${ts('e.released_at')}, 'description', e.description, 'duration_seconds', e.duration_seconds,
  'release_date', e.release_date, 'tags', e.tags, 'thumbnail_url', e.thumbnail_url, 'guest_info', e.guest_info,
  'location', e.location, 'copyright', e.copyright, 'language', e.language,
  'geographic_availability', e.geographic_availability, 'production_notes', e.production_notes,
  'created_at', ${ts('e.created_at')}, 'updated_at', ${ts('e.updated_at')}, 'deleted_at', ${ts('e.deleted_at')},
  'deleted_by', e.deleted_by, 'deleted_reason', e.deleted_reason, 'restored_at', ${ts('e.restored_at')},
  'restored_by', e.restored_by, 'approval_status', e.approval_status, 'uploaded_by', e.uploaded_by,
  'original_approver', e.original_approver, 'custom_thumbnail', e.custom_thumbnail, 'thumbnails', e.thumbnails,
  'thumbnail_status', e.thumbnail_status, 'schema_version', e.schema_version)`;

const CLIP_JSON = `json_build_object(
  'id', c.id, 'episode_id', c.episode_id, 'talent_source', c.talent_source, 'guest_id', c.guest_id,
  'clip_type', c.clip_type, 'file_reference', c.file_reference, 'file_size_bytes', c.file_size_bytes,
  'file_etag', c.file_etag, 'duration_seconds', c.duration_seconds, 'timecode_in', c.timecode_in,
  'timecode_out', c.timecode_out, 'scene_description', c.scene_description, 'take_number', c.take_number,
  'quality_rating', c.quality_rating, 'status', c.status, 'notes', c.notes, 'source_file_hash', c.source_file_hash,
  'tags', c.tags, 'created_at', ${ts('c.created_at')}, 'updated_at', ${ts('c.updated_at')},
  'deleted_at', ${ts('c.deleted_at')}, 'deleted_by', c.deleted_by, 'deleted_reason', c.deleted_reason,
  'restored_at', ${ts('c.restored_at')}, 'restored_by', c.restored_by, 'approval_status', c.approval_status,
  'uploaded_by', c.uploaded_by, 'original_approver', c.original_approver, 'custom_thumbnail', c.custom_thumbnail,
  'thumbnails', c.thumbnails, 'thumbnail_status', c.thumbnail_status, 'schema_version', c.schema_version)`;

const GET_EPISODE = {
  name: 'get_episode',
  text: `SELECT ${EPISODE_JSON}::text AS j, e.xmin::text AS v FROM episodes e WHERE e.id = $1 AND e.deleted_at IS NULL`,
};

const recordMetadata = () =>
  `{"schema_version":1,"registry_version":"${REGISTRY_VERSION}","timestamp":"${new Date().toISOString()}"}`;

const failure = (c: Context, status: 400 | 404 | 500, code: string, message: string) =>
  c.json(
    {
      data: null,
      metadata: { registry_version: REGISTRY_VERSION, timestamp: new Date().toISOString() },
      errors: [{ code, message, field: null }],
    },
    status,
  );

class BadQuery extends Error {}

type CountMode = 'auto' | 'none' | 'estimated';
interface ListPlan {
  readonly where: string;
  readonly values: unknown[];
  readonly orderBy: string;
  /** The sort signature in the cursor (`s`) and the SQL of the sort-key values it carries. */
  readonly signature: string;
  readonly keys: readonly string[];
  readonly ranked: boolean;
  readonly limit: number;
  readonly count: CountMode;
  readonly fields?: readonly string[];
}

/** The episode list parameters the bench sends; anything else is a 400. */
function planEpisodes(params: URLSearchParams, search: boolean): ListPlan {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown, cast: string) => `$${values.push(value)}::${cast}`;
  let sort = '';
  let limit = 50;
  let count: CountMode = 'auto';
  let fields: string[] | undefined;
  let q: string | undefined;
  for (const [key, value] of params) {
    if (key === 'status') clauses.push(`e.status = ${bind(value, 'text')}`);
    else if (key === 'id') clauses.push(`e.id = ${bind(value, 'text')}`);
    else if (key === 'season[gte]') clauses.push(`e.season >= ${bind(Number(value), 'int8')}`);
    else if (key === 'wardrobe.shoes.brand') clauses.push(`(e.wardrobe #>> '{shoes,brand}') = ${bind(value, 'text')}`);
    else if (key === 'wardrobe.main_outfit.top.color')
      clauses.push(`(e.wardrobe #>> '{main_outfit,top,color}') = ${bind(value, 'text')}`);
    else if (key === '_count' && (value === 'none' || value === 'estimated')) count = value;
    else if (key === '_limit') limit = Math.min(1000, Math.max(1, Number(value) || 50));
    else if (key === '_sort' && value === '-updated_at') sort = '-updated_at';
    else if (key === '_fields') fields = value.split(',');
    else if (key === 'q' && search) q = value;
    else throw new BadQuery(`the baseline does not handle the query parameter "${key}"`);
  }
  if (search && q === undefined) throw new BadQuery('q is required');
  if (q !== undefined) clauses.push(`e.search_vector @@ websearch_to_tsquery('english', ${bind(q, 'text')})`);
  clauses.push('e.deleted_at IS NULL');
  const ranked = q !== undefined;
  const rank = `ts_rank_cd(e.search_vector, websearch_to_tsquery('english', $${values.length}::text))`;
  return {
    where: clauses.join(' AND '),
    values,
    orderBy: ranked
      ? `${rank} DESC NULLS FIRST, e.id ASC NULLS LAST`
      : sort
        ? 'e.updated_at DESC NULLS FIRST, e.id ASC NULLS LAST'
        : 'e.id ASC NULLS LAST',
    signature: ranked ? '-~rank' : sort,
    keys: ranked ? [rank] : sort ? [ts('e.updated_at')] : [],
    ranked,
    limit,
    count,
    ...(fields ? { fields } : {}),
  };
}

/** Prepared statements by text: one name per distinct query text. */
const names = new Map<string, string>();
const statement = (text: string, values: unknown[]) => {
  let name = names.get(text);
  if (name === undefined) {
    name = `s${names.size}`;
    names.set(text, name);
  }
  return { name, text, values };
};

async function total(
  table: string,
  where: string,
  values: unknown[],
  mode: CountMode,
): Promise<{ total: number; isEstimate: boolean } | undefined> {
  if (mode === 'none') return undefined;
  // EXPLAIN cannot be a named prepared statement; it is planning only.
  const plan = await pool.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} WHERE ${where}`,
    values,
  );
  const estimate = Math.round(plan.rows[0]!['QUERY PLAN'][0].Plan['Plan Rows']);
  if (mode === 'estimated' || estimate > TRUSTED_ESTIMATE) return { total: estimate, isEstimate: true };
  const counted = await pool.query<{ n: number }>(
    statement(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} WHERE ${where} LIMIT ${EXACT_COUNT_LIMIT + 1}) s`,
      values,
    ),
  );
  const n = counted.rows[0]!.n;
  return n <= EXACT_COUNT_LIMIT ? { total: n, isEstimate: false } : { total: Math.max(estimate, n), isEstimate: true };
}

const cursor = (signature: string, values: unknown[], id: string) =>
  Buffer.from(JSON.stringify({ s: signature, v: values, id })).toString('base64url');

interface PageRow {
  j: string;
  id: string;
  [key: string]: unknown;
}

/** The page (one more row than asked for) and the total, at once, into the service's envelope. */
async function sendPage(c: Context, plan: ListPlan, table: string, pageSql: string): Promise<Response> {
  const [rows, counted] = await Promise.all([
    pool.query<PageRow>(statement(pageSql, plan.values)),
    total(table, plan.where, plan.values, plan.count),
  ]);
  const page = rows.rows.slice(0, plan.limit);
  const more = rows.rows.length > plan.limit;
  const metadata: Record<string, unknown> = {
    schema_version: 1,
    registry_version: REGISTRY_VERSION,
    timestamp: new Date().toISOString(),
    limit: plan.limit,
    offset: 0,
  };
  if (counted) {
    // An estimate is never smaller than what this request has already seen.
    metadata.total = counted.isEstimate ? Math.max(counted.total, page.length + (more ? 1 : 0)) : counted.total;
    metadata.total_is_estimate = counted.isEstimate;
  }
  if (more) {
    const last = page[page.length - 1]!;
    metadata.next_cursor = cursor(
      plan.signature,
      plan.keys.map((_, k) => {
        const value = last[`k${k}`];
        return plan.ranked ? Number(value) : value;
      }),
      last.id,
    );
  }
  const body = `{"data":[${page.map((r) => r.j).join(',')}],"metadata":${JSON.stringify(metadata)},"errors":[]}`;
  return c.body(body, 200, { 'content-type': 'application/json' });
}

const PROJECTABLE = new Set(['title', 'status']);

async function listEpisodes(c: Context, search: boolean) {
  let plan: ListPlan;
  try {
    plan = planEpisodes(new URL(c.req.url).searchParams, search);
  } catch (error) {
    if (error instanceof BadQuery) return failure(c, 400, 'INVALID_QUERY', error.message);
    throw error;
  }
  if (plan.fields?.some((f) => !PROJECTABLE.has(f)))
    return failure(c, 400, 'INVALID_QUERY', 'the baseline projects title and status only');
  const json = plan.fields
    ? `json_build_object('id', e.id, ${plan.fields.map((f) => `'${f}', e.${f}`).join(', ')})`
    : EPISODE_JSON;
  const keys = plan.keys.map((k, i) => `, ${k} AS k${i}`).join('');
  // Only the page's rows are turned into JSON (the subquery picks them by id first).
  const source = plan.ranked
    ? `(SELECT * FROM episodes e WHERE ${plan.where} LIMIT ${RANK_WINDOW}) e`
    : `episodes e WHERE ${plan.where}`;
  const pageSql = `SELECT ${json}::text AS j, e.id${keys} FROM ${source} ORDER BY ${plan.orderBy} LIMIT ${plan.limit + 1}`;
  return sendPage(c, plan, 'episodes e', pageSql);
}

/** Appendix D use case 3: an episode's clips by talent and status. */
async function listClips(c: Context) {
  const episode = c.req.param('id')!;
  const params = new URL(c.req.url).searchParams;
  const values: unknown[] = [episode];
  const clauses = ['c.episode_id = $1::text'];
  let limit = 50;
  for (const [key, value] of params) {
    if (key === 'talent_source' || key === 'status') clauses.push(`c.${key} = $${values.push(value)}::text`);
    else if (key === '_limit') limit = Math.min(1000, Math.max(1, Number(value) || 50));
    else return failure(c, 400, 'INVALID_QUERY', `the baseline does not handle the query parameter "${key}"`);
  }
  clauses.push('c.deleted_at IS NULL');
  const exists = await pool.query(statement('SELECT 1 FROM episodes WHERE id = $1 AND deleted_at IS NULL', [episode]));
  if (exists.rowCount === 0) return failure(c, 404, 'NOT_FOUND', `episode ${episode} not found`);
  const where = clauses.join(' AND ');
  const plan: ListPlan = {
    where,
    values,
    orderBy: 'c.id',
    signature: '',
    keys: [],
    ranked: false,
    limit,
    count: 'auto',
  };
  return sendPage(
    c,
    plan,
    'clips c',
    `SELECT ${CLIP_JSON}::text AS j, c.id FROM clips c WHERE ${where} ORDER BY c.id LIMIT ${limit + 1}`,
  );
}

/** NDJSON export: PostgreSQL writes the lines (COPY in CSV mode with a quote and a delimiter JSON never contains). */
function exportEpisodes(c: Context) {
  const status = new URL(c.req.url).searchParams.get('status');
  if (status === null || !/^[a-z_]+$/.test(status))
    return failure(c, 400, 'INVALID_QUERY', 'the baseline exports by status only');
  c.header('Content-Type', 'application/x-ndjson');
  c.header('Content-Disposition', 'attachment; filename="episodes.ndjson"');
  return stream(c, async (out) => {
    const client = await pool.connect();
    try {
      const copy = client.query(
        copyTo(
          `COPY (SELECT ${EPISODE_JSON}::text FROM episodes e WHERE e.status = '${status}' AND e.deleted_at IS NULL ORDER BY e.id) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`,
        ),
      );
      // COPY sends a message per row: written on in batches of about 256 KiB.
      let batch: Buffer[] = [];
      let size = 0;
      for await (const chunk of copy) {
        batch.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= 262_144) {
          await out.write(Buffer.concat(batch));
          batch = [];
          size = 0;
        }
      }
      if (size > 0) await out.write(Buffer.concat(batch));
    } finally {
      client.release();
    }
  });
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const auditId = () => {
  const bytes = randomBytes(10);
  let suffix = '';
  for (const b of bytes) suffix += ALPHABET[b % 36];
  return `aud_${new Date().toISOString().slice(0, 10).replace(/-/g, '')}_${suffix}`;
};

/** A PATCH of title or tags: the row, its audit entry (before and the change) and the answer, in one statement. */
const PATCH_SQL = (column: 'title' | 'tags', cast: string) => `
  WITH old AS (SELECT ${EPISODE_JSON}::jsonb AS rec, to_jsonb(e.${column}) AS was FROM episodes e WHERE e.id = $1 AND e.deleted_at IS NULL FOR UPDATE),
  changed AS (UPDATE episodes SET ${column} = $2::${cast}, updated_at = now() WHERE id = $1 AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM old) RETURNING *, xmin::text AS v),
  audit AS (INSERT INTO audit_entries (id, schema_version, at, entity, record_id, operation, request_id, changes, before)
    SELECT $3, 1, now(), 'episode', $1, 'update', $4, jsonb_build_array(jsonb_build_object('path', '${column}', 'old', old.was, 'new', to_jsonb($2::${cast}))), old.rec FROM old)
  SELECT ${EPISODE_JSON}::text AS j, e.v FROM changed e`;
const PATCHES = { title: PATCH_SQL('title', 'text'), tags: PATCH_SQL('tags', 'jsonb') };

async function patchEpisode(c: Context) {
  const id = c.req.param('id')!;
  const body = (await c.req.json()) as Record<string, unknown>;
  const [field, ...rest] = Object.keys(body);
  if ((field !== 'title' && field !== 'tags') || rest.length > 0)
    return failure(c, 400, 'INVALID_QUERY', 'the baseline patches title or tags only');
  const value = field === 'tags' ? JSON.stringify(body.tags) : body.title;
  const requestId = randomUUID();
  const result = await pool.query<{ j: string; v: string }>({
    name: `patch_${field}`,
    text: PATCHES[field],
    values: [id, value, auditId(), requestId],
  });
  const row = result.rows[0];
  if (!row) return failure(c, 404, 'NOT_FOUND', `episode ${id} not found`);
  return c.body(`{"data":${row.j},"metadata":${recordMetadata()},"errors":[]}`, 200, {
    'content-type': 'application/json',
    etag: `"${row.v}"`,
    'x-request-id': requestId,
  });
}

const app = new Hono();
app.get('/health', async (c) => {
  await pool.query('SELECT 1');
  return c.json({ status: 'ok', registry_version: REGISTRY_VERSION });
});
app.get('/api/v1/episodes/search', (c) => listEpisodes(c, true));
app.get('/api/v1/episodes/export', (c) => exportEpisodes(c));
app.get('/api/v1/episodes', (c) => listEpisodes(c, false));
app.get('/api/v1/episodes/:id/clips', (c) => listClips(c));
app.get('/api/v1/episodes/:id', async (c) => {
  const result = await pool.query<{ j: string; v: string }>({ ...GET_EPISODE, values: [c.req.param('id')] });
  const row = result.rows[0];
  return row
    ? c.body(`{"data":${row.j},"metadata":${recordMetadata()},"errors":[]}`, 200, {
        'content-type': 'application/json',
        etag: `"${row.v}"`,
      })
    : failure(c, 404, 'NOT_FOUND', `episode ${c.req.param('id')} not found`);
});
app.patch('/api/v1/episodes/:id', (c) => patchEpisode(c));
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
