// GET /{plural}/export?format=csv|ndjson (seed 8.19): every record the list query matches, streamed
// page by page with a keyset cursor, so memory stays bounded however many rows there are; each
// page is read while the one before it is written.
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import { stringify } from 'csv-stringify/sync';
import type { EntityDef } from '../registry/model.ts';
import type { ListQuery } from '../query/ast.ts';
import { parseListQuery } from '../query/list-query.ts';
import type { QueryTransformer } from '../query/transform.ts';
import type { ApiShape } from './api-shape.ts';
import type { JsonPage, ListPage, RecordStore } from '../db/records.ts';
import { withoutFields } from './authorization.ts';
import { ApiError } from '../records/errors.ts';
import { csvCell } from './csv-cell.ts';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** Rows fetched per round trip. */
export const EXPORT_PAGE_SIZE = 1000;
const NOT_FOR_EXPORT = ['_limit', '_offset', '_cursor', '_count'];

const CONTENT_TYPES: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson' };

/**
 * The list query of an export: the list language minus paging, in id order unless sorted.
 * `transform` is the API version's (its renames); `format` is the export's own parameter, not
 * part of the list language, so it is taken out before the parameters are parsed.
 */
export function parseExportQuery(
  entity: EntityDef,
  search: string,
  entities?: readonly EntityDef[],
  transform?: QueryTransformer,
): { format: ExportFormat; query: ListQuery } {
  const params = new URLSearchParams(search);
  const format = params.get('format') ?? 'ndjson';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw ApiError.single(400, 'INVALID_QUERY', `format must be one of: ${EXPORT_FORMATS.join(', ')}`, 'format');
  }
  params.delete('format');
  const paging = NOT_FOR_EXPORT.filter((name) => params.has(name));
  if (paging.length > 0) {
    throw ApiError.single(
      400,
      'INVALID_QUERY',
      `an export streams every match; ${paging.join(', ')} do not apply here`,
      paging[0]!,
    );
  }
  const parsed = parseListQuery(entity, params, entities, transform);
  // An edit of the resolved query, not of its text. Ranking only orders the best matches; an export wants all of them, so it keeps id order.
  const sort = parsed.sort.some((k) => k.target === 'rank') ? [] : parsed.sort;
  return {
    format: format as ExportFormat,
    query: { ...parsed, sort, limit: EXPORT_PAGE_SIZE, offset: 0, count: 'none' },
  };
}

/** `hidden`: top-level fields the caller may not see (counts of records they may not read), left out. */
export function streamExport(
  c: Context,
  entity: EntityDef,
  store: RecordStore,
  format: ExportFormat,
  query: ListQuery,
  shape: ApiShape,
  hidden: readonly string[] = [],
): Response {
  c.header('Content-Type', CONTENT_TYPES[format]);
  c.header('Content-Disposition', `attachment; filename="${entity.plural}.${format === 'csv' ? 'csv' : 'ndjson'}"`);
  const columns = query.fields
    ? ['id', ...query.fields.map((f) => shape.pathOut(f.path).split('.')[0]!)].filter(
        (n, i, all) => all.indexOf(n) === i,
      )
    : null;
  // NDJSON lines are the records' JSON as PostgreSQL built it, when nothing changes on the way out.
  const asBuilt = format === 'ndjson' && shape.isCurrent && hidden.length === 0;
  const read = async (q: ListQuery): Promise<ListPage | JsonPage> =>
    (asBuilt ? await store.listJson(q) : null) ?? store.list(q);
  return stream(c, async (out) => {
    let page = await read(query);
    const header = columns ?? [
      'id',
      ...shape.topLevelNames().filter((name) => !hidden.includes(name)),
      'schema_version',
    ];
    if (format === 'csv') await out.write(stringify([header]));
    for (;;) {
      // The next page is read while this one is written: the database and this process work at once.
      const next = page.next ? read({ ...query, after: page.next }) : undefined;
      // A failed write ends the stream before `next` is awaited; its error is then nobody's.
      next?.catch(() => undefined);
      await out.write(exportChunk(page, format, header, (record) => withoutFields(shape.recordOut(record), hidden)));
      if (!next) return;
      page = await next;
    }
  });
}

/** A page as export lines: CSV rows of the header's columns, or one JSON record per line. */
function exportChunk(
  page: ListPage | JsonPage,
  format: ExportFormat,
  header: readonly string[],
  out: (record: Record<string, unknown>) => Record<string, unknown>,
): string {
  if ('json' in page) return page.json.map((json) => `${json}\n`).join('');
  const records = page.records.map(out);
  return format === 'csv'
    ? stringify(records.map((record) => header.map((name) => csvCell(record[name]))))
    : records.map((record) => `${JSON.stringify(record)}\n`).join('');
}
