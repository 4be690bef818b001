// Imports that keep identity (seed 8.19, 10.1: DAM and CMS consumers, bulk loads): records read
// one by one from NDJSON or CSV (as export writes them), each upserted by id through the entity's
// actions, so validation, write rules, media checks and the audit trail apply as for any write.
// A well-formed id, created_at and updated_at are kept; a record in an older schema_version is
// upgraded through the declared steps first. Every line gets its own outcome and transaction, so
// one bad line fails alone; a dry run does all of it and rolls each line back. Memory stays
// bounded: lines are parsed as they arrive.
import { isDeepStrictEqual } from 'node:util';
import { parse as parseCsv } from 'csv-parse';
import type { DatabasePool } from 'slonik';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import { transact } from '../db/work.ts';
import { upgradeRecord } from '../evolution/steps.ts';
import { withArticle, type EntityDef, type FieldDef } from '../registry/model.ts';
import { isStorableDateTime } from '../registry/ajv.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import type { EntityActions } from './entity-actions.ts';
import { ApiError, type ApiProblem } from './errors.ts';
import type { ErrorClassifier } from './failures.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { isPlainObject } from './record-input.ts';

export const IMPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The longest line (one record) an import reads: the largest body a single write takes. */
export const MAX_IMPORT_LINE_BYTES = 1024 * 1024;

export type ImportStatus = 'created' | 'updated' | 'unchanged' | 'failed';

export interface ImportLineResult {
  readonly line: number;
  readonly status: ImportStatus;
  readonly id?: string;
  readonly errors?: readonly ApiProblem[];
}

export interface ImportSummary {
  readonly lines: number;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly failed: number;
  readonly dry_run: boolean;
}

/** One record read from the input, or why its line could not be read. */
type ReadLine = { line: number; record: unknown } | { line: number; problem: string };

export interface ImportTarget {
  readonly entity: EntityDef;
  readonly actions: EntityActions;
  readonly store: RecordStore;
  readonly pool: DatabasePool;
}

/** Thrown inside a dry run's transaction to undo it, carrying the outcome it would have had. */
class DryRunRollback extends Error {
  constructor(readonly outcome: { status: ImportStatus; id: string }) {
    super('dry run');
  }
}

/** NDJSON lines as records: each line one JSON object; blank lines are skipped. */
async function* ndjsonRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<ReadLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buffered = '';
  let line = 0;
  const take = (text: string): ReadLine | undefined => {
    line += 1;
    if (text.trim() === '') return undefined;
    try {
      return { line, record: JSON.parse(text) as unknown };
    } catch (error) {
      return { line, problem: `not valid JSON: ${(error as Error).message}` };
    }
  };
  for await (const chunk of chunks) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const read = take(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (read) yield read;
      newline = buffered.indexOf('\n');
    }
    if (buffered.length > MAX_IMPORT_LINE_BYTES)
      throw ApiError.single(413, 'PAYLOAD_TOO_LARGE', `line ${line + 1} is longer than ${MAX_IMPORT_LINE_BYTES} bytes`);
  }
  buffered += decoder.decode();
  const last = take(buffered);
  if (last) yield last;
}

/** A CSV cell as the field's value: export writes objects and lists as JSON, missing values empty. */
function csvValue(field: FieldDef | undefined, cell: string): unknown {
  if (cell === '') return undefined;
  // Export quotes text that a spreadsheet would run as a formula (csv-cell.ts): undo it.
  const text = /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
  switch (field?.type) {
    case 'integer':
    case 'number':
      return Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'object':
    case 'array':
    case 'refs':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/** CSV rows as records, by the header row's names (export's shape); line numbers count the header as 1. */
async function* csvRecords(chunks: AsyncIterable<Uint8Array>, entity: EntityDef): AsyncGenerator<ReadLine> {
  const parser = parseCsv({
    bom: true,
    relax_column_count: false,
    skip_empty_lines: true,
    max_record_size: MAX_IMPORT_LINE_BYTES,
  });
  const feed = (async () => {
    try {
      for await (const chunk of chunks) if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let header: string[] | undefined;
  let line = 0;
  try {
    for await (const row of parser as AsyncIterable<string[]>) {
      line += 1;
      if (!header) {
        header = row;
        continue;
      }
      const record: Record<string, unknown> = {};
      header.forEach((name, index) => {
        const field =
          name === 'schema_version' ? ({ type: 'integer' } as FieldDef) : entity.fields.find((f) => f.name === name);
        const value = csvValue(field, row[index] ?? '');
        if (value !== undefined) record[name] = value;
      });
      yield { line, record };
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    yield { line: line + 1, problem: `not valid CSV: ${(error as Error).message}` };
  } finally {
    await feed;
  }
}

/** The records of an input, one per line (NDJSON) or row (CSV). */
export function readRecords(format: ImportFormat, chunks: AsyncIterable<Uint8Array>, entity: EntityDef) {
  return format === 'csv' ? csvRecords(chunks, entity) : ndjsonRecords(chunks);
}

const invalid = (message: string, field: string | null = null) =>
  ApiError.single(422, 'VALIDATION_ERROR', message, field);

/** The writable content of a record, for telling an unchanged import from an update. */
function content(entity: EntityDef, record: StoredRecord): Record<string, unknown> {
  return Object.fromEntries(entity.fields.filter((f) => !f.readOnly).map((f) => [f.name, record[f.name] ?? null]));
}

/**
 * Imports one record: created with its id and timestamps when new, replaced when the id exists
 * (a deleted record is refused: restore it first). Answers what happened; throws ApiError for a
 * record that cannot be imported.
 */
async function importOne(
  target: ImportTarget,
  given: unknown,
  meta: WriteMeta,
  dryRun: boolean,
): Promise<{ status: ImportStatus; id: string }> {
  const { entity, actions, store, pool } = target;
  if (!isPlainObject(given)) throw invalid(`each line must be a JSON object: one ${entity.name}`);
  const { id: givenId, schema_version: givenVersion, created_at, updated_at, ...rest } = given;
  if (givenId !== undefined && (typeof givenId !== 'string' || !actions.hasIdShape(givenId)))
    throw invalid(
      `id must be ${withArticle(entity.name)} id (${entity.idPrefix}_YYYYMMDD_ and 4 to 40 letters, digits or _)`,
      'id',
    );
  // The seed's own documents carry version labels ("1.0", "2.5" in Appendix B) that name no schema
  // version of ours: they are read in the current shape, which validation then checks.
  const label = typeof givenVersion === 'string' && /^\d+(\.\d+)+$/.test(givenVersion);
  const version = givenVersion === undefined || label ? entity.schemaVersion : givenVersion;
  if (!Number.isInteger(version) || (version as number) < 1 || (version as number) > entity.schemaVersion)
    throw invalid(`schema_version must be a version of ${entity.name}: 1 to ${entity.schemaVersion}`, 'schema_version');
  for (const [name, value] of [
    ['created_at', created_at],
    ['updated_at', updated_at],
  ] as const) {
    if (
      value !== undefined &&
      value !== null &&
      (typeof value !== 'string' || !isStorableDateTime(value) || Number.isNaN(Date.parse(value)))
    )
      throw invalid(`${name} must be a date-time (RFC 3339)`, name);
  }
  const body =
    (version as number) < entity.schemaVersion
      ? upgradeRecord(rest, entity.upgrades, version as number, entity.schemaVersion)
      : rest;
  const identity = {
    id: (givenId as string | undefined) ?? '',
    ...(typeof created_at === 'string' ? { created_at } : {}),
    ...(typeof updated_at === 'string' ? { updated_at } : {}),
  };
  try {
    return await transact(pool, async (tx) => {
      const current = identity.id ? await store.lock(identity.id, { includeDeleted: true }, tx) : null;
      let outcome: { status: ImportStatus; id: string };
      if (current && current.deleted_at !== null && current.deleted_at !== undefined) {
        throw ApiError.single(
          409,
          'CONFLICT',
          `${entity.name} ${identity.id} is deleted here; restore it before importing over it`,
          'id',
        );
      } else if (current) {
        const { record } = await actions.update(identity.id, body, 'replace', tx, meta);
        await store.setTimestamps(identity.id, identity, tx);
        const same = isDeepStrictEqual(
          JSON.parse(JSON.stringify(content(entity, current))),
          JSON.parse(JSON.stringify(content(entity, record))),
        );
        outcome = { status: same ? 'unchanged' : 'updated', id: identity.id };
      } else {
        const { record } = await actions.create(body, tx, meta, identity.id ? identity : undefined);
        if (!identity.id) await store.setTimestamps(record.id, { ...identity, id: record.id }, tx);
        outcome = { status: 'created', id: record.id };
      }
      if (dryRun) throw new DryRunRollback(outcome);
      return outcome;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.outcome;
    throw error;
  }
}

/**
 * Imports every record of `lines`, yielding each line's outcome in order, then returns the
 * summary. `classify` turns an error a write threw into the line's answer (a constraint
 * violation into a 409, …); what it cannot classify (the database gone) ends the import.
 */
export async function* importRecords(
  target: ImportTarget,
  lines: AsyncIterable<ReadLine>,
  options: { meta: WriteMeta; dryRun: boolean; classify: ErrorClassifier },
): AsyncGenerator<ImportLineResult, ImportSummary> {
  const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
  let total = 0;
  for await (const read of lines) {
    total += 1;
    if ('problem' in read) {
      counts.failed += 1;
      yield {
        line: read.line,
        status: 'failed',
        errors: [{ code: 'INVALID_JSON', message: read.problem, field: null }],
      };
      continue;
    }
    try {
      const { status, id } = await importOne(target, read.record, options.meta, options.dryRun);
      counts[status as Exclude<ImportStatus, 'failed'>] += 1;
      yield { line: read.line, status, id };
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      const known =
        error instanceof ApiError
          ? error.classified
          : error instanceof Error
            ? options.classify(error, 'POST')
            : undefined;
      if (!known || known.status >= 500) throw error;
      counts.failed += 1;
      const id = isPlainObject(read.record) && typeof read.record.id === 'string' ? read.record.id : undefined;
      yield { line: read.line, status: 'failed', ...(id ? { id } : {}), errors: known.problems };
    }
  }
  return { lines: total, ...counts, dry_run: options.dryRun };
}
