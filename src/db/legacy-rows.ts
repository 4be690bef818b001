// Reading a row stored in an older schema_version: the row's columns, its old columns and its
// document are put back together in the shape of that version, then the registry's upgrade
// steps bring it to the current one. The API always answers in the current shape.
import { upgradeRecord } from '../evolution/steps.ts';
import { SYSTEM_COLUMNS, type EntityDef } from '../registry/model.ts';
import { isoTimestamp } from './pool.ts';
import { setOwn } from '../registry/own.ts';
import { SEARCH_COLUMN } from '../registry/names.ts';

type Row = Record<string, unknown>;

/** The select-list item holding the whole row as JSON, for rows older than the current version. */
export const LEGACY = '_legacy';

const NOT_FIELDS = new Set<string>([...SYSTEM_COLUMNS, SEARCH_COLUMN]);

export function upgradeRow(entity: EntityDef, row: Row): Row & { id: string } {
  const whole = row[LEGACY] as Row;
  const known = new Set(entity.fields.map((f) => f.name));
  const old: Row = {};
  // Columns the current model no longer has (JSON text for timestamps: normalised below).
  for (const [name, value] of Object.entries(whole))
    if (!known.has(name) && !NOT_FIELDS.has(name) && value !== null) old[name] = value;
  for (const [name, value] of Object.entries((row.doc ?? {}) as Row)) setOwn(old, name, value);
  for (const field of entity.fields) {
    if (field.storage === 'document') continue;
    const value = row[field.name] ?? null;
    if (value !== null || !(field.name in old)) old[field.name] = value;
  }
  const upgraded = upgradeRecord(old, entity.upgrades, row.schema_version as number, entity.schemaVersion);
  const record: Row = { id: row.id };
  for (const field of entity.fields) {
    const value = upgraded[field.name] ?? null;
    record[field.name] = field.type === 'datetime' && typeof value === 'string' ? isoTimestamp(value) : value;
  }
  record.schema_version = entity.schemaVersion;
  return record as Row & { id: string };
}
