// Before seeding, a sample of generated rows is checked against the registry's generated JSON
// Schema, so the bench never measures data the API itself would refuse (and notices when the
// registry moves on without bench/data.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
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
