// One truth for a value a parent and its part both hold (`mirror:` on a part; seed use case 5):
// an episode's content.script and its script's active version's file_reference. Writing the
// parent's field adds a version holding it (made active, in the same transaction); a version
// becoming active writes its value back to the parent. Neither direction starts the other again:
// each stops when the other side already holds the value.
import type { DatabaseConnection } from 'slonik';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import type { EntityDef, PartDef } from '../registry/model.ts';
import { valueAtPath } from '../registry/own.ts';
import type { EntityActions, StoredRule } from './entity-actions.ts';
import { isPlainObject } from './record-input.ts';
import type { ActivatedListener, VersionedRecords } from './versions.ts';

export interface MirrorParts {
  readonly parent: { entity: EntityDef; actions: EntityActions; store: RecordStore };
  readonly part: PartDef;
  /** The part's records and their versions. */
  readonly owner: { actions: EntityActions; store: RecordStore };
  readonly versioned: VersionedRecords;
}

const valueAt = (record: unknown, path: readonly string[]): unknown => valueAtPath(record, path) ?? null;

/** A copy of the record's top-level field at `path[0]` with `value` set at `path`. */
function withValueAt(record: StoredRecord, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (rest.length === 0) return { [head!]: value };
  const set = (into: unknown, keys: readonly string[]): unknown => {
    const object = isPlainObject(into) ? { ...into } : {};
    const [key, ...more] = keys;
    object[key!] = more.length === 0 ? value : set(object[key!], more);
    return object;
  };
  return { [head!]: set(record[head!], rest) };
}

export function partMirror({ parent, part, owner, versioned }: MirrorParts): {
  stored: StoredRule;
  activated: ActivatedListener;
} {
  const mirror = part.mirror!;
  const { def } = versioned;

  /** The parent's part record (live), read in the write's transaction. */
  const partOf = async (parentId: string, tx: DatabaseConnection): Promise<StoredRecord | null> => {
    const { ids } = await owner.store.liveMatches({ [part.via]: parentId, ...part.where }, '', 1, tx);
    return ids[0] === undefined ? null : owner.store.get(ids[0], {}, tx);
  };

  const stored: StoredRule = async (record, previous, ctx) => {
    const value = valueAt(record, mirror.field);
    if (typeof value !== 'string' || (previous && valueAt(previous, mirror.field) === value)) return;
    const existing = await partOf(record.id, ctx.tx);
    const n = existing?.[def.active];
    const active = existing && typeof n === 'number' ? await versioned.versionOn(existing.id, n, ctx.tx) : null;
    if (active && active[mirror.to] === value) return;
    const meta = ctx.meta ?? { actor: null, requestId: null };
    await versioned.add(
      async (tx) => existing ?? (await owner.actions.create({ [part.via]: record.id, ...part.where }, tx, meta)).record,
      { [mirror.to]: value, ...mirror.set },
      true,
      meta,
      ctx.tx,
    );
  };

  const activated: ActivatedListener = async (ownerRecord, version, tx, meta) => {
    if (Object.entries(part.where).some(([name, value]) => ownerRecord[name] !== value)) return;
    const parentId = ownerRecord[part.via];
    const value = version[mirror.to];
    // A version without the value (a script typed in, no file) leaves the parent's as it is.
    if (typeof parentId !== 'string' || typeof value !== 'string') return;
    const current = await parent.store.get(parentId, {}, tx);
    if (!current || valueAt(current, mirror.field) === value) return;
    await parent.actions.setServerOwned(parentId, (locked) => withValueAt(locked, mirror.field, value), 'update', tx, {
      ...meta,
      ifMatch: null,
    });
  };

  return { stored, activated };
}
