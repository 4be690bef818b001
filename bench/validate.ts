// Before seeding, a sample of generated rows is checked against the registry's generated JSON
// Schema, so the bench never measures data the API itself would refuse (and notices when the
// registry moves on without bench/data.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PROJECT_ROOT } from '../src/config.ts';
import { createAjv } from '../src/registry/ajv.ts';
import { EPISODE_COLUMNS, episodeBlock, type EpisodeContext, type ShowRow } from './data.ts';

const JSON_COLUMNS = new Set([
  'content',
  'wardrobe',
  'ui_elements',
  'backgrounds',
  'tags',
  'thumbnails',
  'guest_info',
  'location',
  'geographic_availability',
  'production_notes',
  'doc',
]);
const INTEGER_COLUMNS = new Set(['schema_version', 'episode_number', 'season', 'duration_seconds']);
const ID_SHAPE = /^ep_\d{8}_[a-z0-9]{10}$/;

/** A COPY text line back into the record the API would return (without `doc`, which is storage). */
function toRecord(line: string): Record<string, unknown> {
  const cells = line.split('\t');
  const record: Record<string, unknown> = {};
  EPISODE_COLUMNS.forEach((column, i) => {
    const raw = cells[i] ?? '\\N';
    record[column] =
      raw === '\\N'
        ? null
        : JSON_COLUMNS.has(column)
          ? JSON.parse(raw)
          : INTEGER_COLUMNS.has(column)
            ? Number(raw)
            : raw;
  });
  delete record.doc;
  return record;
}

/** Checks rows from the start, middle and end of the range; throws listing the first problems. */
export function assertSampleValid(shows: readonly ShowRow[], ctx: Omit<EpisodeContext, 'rng'>, sampleRows = 300): void {
  const schemaFile = path.join(PROJECT_ROOT, 'generated', 'schemas', 'episode.schema.json');
  const ajv = createAjv();
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  const validateShow = ajv.compile(
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'generated', 'schemas', 'show.schema.json'), 'utf8')) as object,
  );
  const problems: string[] = [];
  for (const show of shows) {
    const { created_at: _created, ...fields } = show;
    if (!validateShow({ ...fields, hosts: JSON.parse(show.hosts) as unknown })) {
      for (const error of validateShow.errors ?? [])
        problems.push(`${show.id}: show ${error.instancePath || '/'} ${error.message ?? ''}`);
    }
  }
  const starts = [...new Set([0, Math.floor(ctx.n / 2), Math.max(0, ctx.n - sampleRows)])];
  for (const start of starts) {
    for (const line of episodeBlock(start, Math.min(ctx.n, start + sampleRows), ctx).split('\n')) {
      if (!line) continue;
      const record = toRecord(line);
      const id = String(record.id);
      if (!ID_SHAPE.test(id)) problems.push(`${id}: id is not ep_YYYYMMDD_ + 10 of [a-z0-9]`);
      if (!validate(record)) {
        for (const error of validate.errors ?? [])
          problems.push(`${id}: ${error.instancePath || '/'} ${error.message ?? ''}`);
      }
    }
  }
  if (problems.length > 0) {
    const distinct = [...new Set(problems.map((p) => p.replace(/^\S+: /, '')))];
    throw new Error(
      `generated episodes do not match ${path.relative(PROJECT_ROOT, schemaFile)} or show.schema.json (bench/data.ts must follow the registry):\n  ${distinct.slice(0, 10).join('\n  ')}`,
    );
  }
}

/** Where an outfit item's style sits in the episode's wardrobe, by its role in the outfit. */
const ITEM_STYLE_SQL = `CASE l.role
  WHEN 'top' THEN e.wardrobe #>> '{main_outfit,top,style}'
  WHEN 'bottom' THEN e.wardrobe #>> '{main_outfit,bottom,style}'
  WHEN 'dress' THEN e.wardrobe #>> '{main_outfit,dress,style}'
  WHEN 'shoes' THEN e.wardrobe #>> '{shoes,style}'
  WHEN 'purse' THEN e.wardrobe #>> '{purse,style}'
  WHEN 'necklace' THEN e.wardrobe #>> '{accessories,jewelry,necklace}'
  WHEN 'earrings' THEN e.wardrobe #>> '{accessories,jewelry,earrings}'
  WHEN 'belt' THEN e.wardrobe #>> '{accessories,belt}'
  WHEN 'scarf' THEN e.wardrobe #>> '{accessories,scarf}'
  WHEN 'other' THEN CASE WHEN e.wardrobe #> '{accessories,other}' ? i.style THEN i.style END
END`;

/** The linked entities' tables and their generated schemas. */
const LINKED_SCHEMAS = ['outfit', 'wardrobe_item', 'ui_element', 'background', 'guest', 'clip'] as const;

/**
 * After a seed, on a sample of episodes: each links its wardrobe as one "main" outfit whose items
 * are the garments worn, and every file of ui_elements and backgrounds to the library record with
 * that file_reference, by slot; a sample of each linked table's rows matches its JSON Schema.
 */
export async function assertLinksValid(client: pg.Client, sample = 500): Promise<void> {
  const problems: string[] = [];
  const sampled = `(SELECT id, wardrobe, ui_elements, backgrounds FROM episodes TABLESAMPLE SYSTEM (5) LIMIT ${sample})`;
  const checks: [string, string][] = [
    [
      'episodes without exactly one "main" outfit',
      `SELECT e.id FROM ${sampled} e WHERE (SELECT count(*) FROM episodes_outfits o WHERE o.owner_id = e.id AND o.role = 'main') <> 1`,
    ],
    [
      'outfit items that are not what the wardrobe says was worn',
      `SELECT e.id FROM ${sampled} e JOIN episodes_outfits o ON o.owner_id = e.id JOIN outfits_items l ON l.owner_id = o.target_id
        JOIN wardrobe_items i ON i.id = l.target_id WHERE (${ITEM_STYLE_SQL}) IS DISTINCT FROM i.style`,
    ],
    ...(
      [
        ['ui_elements', 'episodes_ui_element_refs', 'ui_elements'],
        ['backgrounds', 'episodes_background_refs', 'backgrounds'],
      ] as const
    ).flatMap(([column, junction, library]): [string, string][] => [
      [
        `${junction} whose record's file_reference is not the file at the slot`,
        `SELECT e.id FROM ${sampled} e JOIN ${junction} r ON r.owner_id = e.id JOIN ${library} t ON t.id = r.target_id
          WHERE e.${column} #>> string_to_array(r.role, '.') IS DISTINCT FROM t.file_reference`,
      ],
      [
        `episodes whose ${junction} do not cover every file of ${column}`,
        `SELECT e.id FROM ${sampled} e WHERE (SELECT count(*) FROM ${junction} r WHERE r.owner_id = e.id) <>
          (SELECT count(*) FROM jsonb_path_query(e.${column}, 'strict $.**') AS v WHERE jsonb_typeof(v) = 'string' AND v #>> '{}' LIKE 's3://%')`,
      ],
    ]),
  ];
  for (const [what, query] of checks) {
    const rows = await client.query<{ id: string }>(query);
    if (rows.rows.length > 0)
      problems.push(
        `${what}: ${rows.rows
          .slice(0, 3)
          .map((r) => r.id)
          .join(', ')}`,
      );
  }
  const ajv = createAjv();
  for (const entity of LINKED_SCHEMAS) {
    const schema = JSON.parse(
      readFileSync(path.join(PROJECT_ROOT, 'generated', 'schemas', `${entity}.schema.json`), 'utf8'),
    ) as object;
    const validate = ajv.compile(schema);
    const rows = await client.query<{ record: Record<string, unknown> }>(
      `SELECT to_jsonb(t) - 'doc' - 'search_vector' AS record FROM ${entity}s t LIMIT 200`,
    );
    for (const { record } of rows.rows) {
      if (!validate({ ...record }))
        for (const error of validate.errors ?? [])
          problems.push(`${entity} ${String(record.id)}: ${error.instancePath || '/'} ${error.message ?? ''}`);
    }
  }
  if (problems.length > 0)
    throw new Error(
      `the seeded links do not hold what the API would have written:\n  ${problems.slice(0, 10).join('\n  ')}`,
    );
}
