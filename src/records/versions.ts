// Records with numbered versions (`versions:` in the registry, a script's versions, seed 8.10):
// listing, reading and comparing versions, adding one (at most the sequence's max), and choosing
// the active one by hand. Works on any entity pair the registry declares; no entity is named here.
import { structuredPatch, createTwoFilesPatch } from 'diff';
import { sql, type DatabaseConnection, type DatabasePool } from 'slonik';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import { findField, type EntityDef, type VersionsDef } from '../registry/model.ts';
import { TEXT_SEARCH_CONFIG } from '../query/full-text.ts';
import { SEARCH_COLUMN } from '../registry/names.ts';
import type { EntityActions, Written } from './entity-actions.ts';
import { ApiError } from './errors.ts';
import { isPlainObject } from './record-input.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import { transact } from '../db/work.ts';

export interface VersionDiff {
  readonly from: number;
  readonly to: number;
  /** The unified diff of the two texts, as `diff -u` prints it. */
  readonly unified: string;
  readonly hunks: readonly {
    oldStart: number;
    oldLines: number;
    newStart: number;
    newLines: number;
    lines: readonly string[];
  }[];
}

export interface SearchHit {
  readonly owner: StoredRecord;
  readonly version: number;
  readonly active: boolean;
  /** The matching passages, the matched words between <mark> and </mark>. */
  readonly snippet: string;
}

/** A version number from a path or query parameter. */
export function versionNumber(raw: unknown, field: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1)
    throw ApiError.single(400, 'INVALID_QUERY', `${field} must be a version number: 1, 2, 3…`, field);
  return n;
}

/** Told, in the write's transaction, when a version becomes an owner's active one. */
export type ActivatedListener = (
  owner: StoredRecord,
  version: StoredRecord,
  tx: DatabaseConnection,
  meta: WriteMeta,
) => Promise<void>;

export class VersionedRecords {
  readonly owner: EntityDef;
  readonly def: VersionsDef;
  readonly version: EntityDef;
  private readonly owners: EntityActions;
  private readonly ownerStore: RecordStore;
  private readonly versions: EntityActions;
  private readonly versionStore: RecordStore;
  private readonly pool: DatabasePool;
  private readonly activatedListeners: ActivatedListener[] = [];

  constructor(
    owner: { entity: EntityDef; actions: EntityActions; store: RecordStore },
    version: { entity: EntityDef; actions: EntityActions; store: RecordStore },
    pool: DatabasePool,
  ) {
    this.owner = owner.entity;
    this.def = owner.entity.versions!;
    this.owners = owner.actions;
    this.ownerStore = owner.store;
    this.version = version.entity;
    this.versions = version.actions;
    this.versionStore = version.store;
    this.pool = pool;
  }

  /** The live version `n` of an owner, or 404 naming both. */
  async get(owner: StoredRecord, n: number): Promise<StoredRecord> {
    const { ids } = await this.versionStore.liveMatches({ [this.def.via]: owner.id, [this.def.number]: n }, '', 1);
    const record = ids[0] === undefined ? null : await this.versionStore.get(ids[0]);
    if (!record) throw ApiError.single(404, 'NOT_FOUND', `${this.owner.name} ${owner.id} has no version ${n}`);
    return record;
  }

  /** The version in use, or 404 when there is none yet. */
  async active(owner: StoredRecord): Promise<StoredRecord> {
    const n = owner[this.def.active];
    if (typeof n !== 'number')
      throw ApiError.single(404, 'NOT_FOUND', `${this.owner.name} ${owner.id} has no versions yet`);
    return this.get(owner, n);
  }

  /**
   * Adds a version (numbered by the server; 409 past the sequence's max) to the owner `ownerIn`
   * finds or creates in the same transaction. The first version of an owner becomes its active
   * one; later ones only when `activate` (or by PUT …/active).
   */
  async add(
    ownerIn: (tx: DatabaseConnection) => Promise<StoredRecord>,
    body: unknown,
    activate: boolean,
    meta: WriteMeta,
    db?: DatabaseConnection,
  ): Promise<Written> {
    if (!isPlainObject(body)) throw ApiError.single(400, 'INVALID_BODY', 'the request body must be a JSON object');
    if (this.def.number in body)
      throw ApiError.single(422, 'VALIDATION_ERROR', `${this.def.number} is given by the server`, this.def.number);
    // The owner (found, or created with its first version) and the version are written together or not at all.
    return transact(db ?? this.pool, async (tx) => {
      const owner = await ownerIn(tx);
      const written = await this.versions.create({ ...body, [this.def.via]: owner.id }, tx, meta);
      const n = written.record[this.def.number] as number;
      if (activate || owner[this.def.active] === null) {
        const unconditional = { ...meta, ifMatch: null };
        const activated = await this.owners.setServerOwned(
          owner.id,
          { [this.def.active]: n },
          'activate',
          tx,
          unconditional,
        );
        for (const listener of this.activatedListeners) await listener(activated, written.record, tx, unconditional);
      }
      return written;
    });
  }

  /** Chooses the version in use (audited as `activate`); the version must exist. Answers that version. */
  async activate(owner: StoredRecord, body: unknown, meta: WriteMeta): Promise<StoredRecord> {
    const n = versionNumber(isPlainObject(body) ? body.version : undefined, 'version');
    const version = await this.get(owner, n);
    await transact(this.pool, async (tx) => {
      const activated = await this.owners.setServerOwned(owner.id, { [this.def.active]: n }, 'activate', tx, meta);
      for (const listener of this.activatedListeners) await listener(activated, version, tx, meta);
    });
    return version;
  }

  async diff(owner: StoredRecord, fromRaw: unknown, toRaw: unknown): Promise<VersionDiff> {
    const [from, to] = [versionNumber(fromRaw, 'from'), versionNumber(toRaw, 'to')];
    const [a, b] = await Promise.all([this.get(owner, from), this.get(owner, to)]);
    const text = (record: StoredRecord) =>
      typeof record[this.def.text] === 'string' ? (record[this.def.text] as string) : '';
    const label = (n: number) => `${owner.id} version ${n}`;
    const unified = createTwoFilesPatch(label(from), label(to), text(a), text(b), undefined, undefined, { context: 3 });
    const patch = structuredPatch(label(from), label(to), text(a), text(b), undefined, undefined, { context: 3 });
    return {
      from,
      to,
      unified,
      hunks: patch.hunks.map(({ oldStart, oldLines, newStart, newLines, lines }) => ({
        oldStart,
        oldLines,
        newStart,
        newLines,
        lines,
      })),
    };
  }

  /**
   * Full-text search over the versions' text (websearch syntax), best match first: each hit with
   * its owner, version number, whether it is the active one, and a highlighted snippet.
   */
  async search(q: string, limit: number): Promise<SearchHit[]> {
    const version = sql.identifier([this.version.table]);
    const owner = sql.identifier([this.owner.table]);
    const column = (name: string) => sql.identifier(['v', name]);
    const [via, number, text] = [column(this.def.via), column(this.def.number), column(this.def.text)];
    const active = sql.identifier(['o', this.def.active]);
    const config = sql.literalValue(TEXT_SEARCH_CONFIG);
    const query = sql.fragment`websearch_to_tsquery(${config}, ${q}::text)`;
    const live = (entity: EntityDef, alias: string) =>
      findField(entity, 'deleted_at')
        ? sql.fragment`AND ${sql.identifier([alias, 'deleted_at'])} IS NULL`
        : sql.fragment``;
    const vector = sql.identifier(['v', SEARCH_COLUMN]);
    const rows = await this.pool.any(sql.unsafe`
      SELECT ${via} AS owner_id, ${number} AS n, ${active} = ${number} AS active,
             ts_headline(${config}, coalesce(${text}, ''), ${query}, 'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, MinWords=10') AS snippet
      FROM ${version} AS v JOIN ${owner} AS o ON o.id = ${via}
      WHERE ${vector} @@ ${query} ${live(this.version, 'v')} ${live(this.owner, 'o')}
      ORDER BY ts_rank(${vector}, ${query}) DESC, v.id
      LIMIT ${limit}`);
    const owners = new Map<string, StoredRecord>();
    for (const id of new Set(rows.map((r) => r.owner_id as string))) {
      const record = await this.ownerStore.get(id);
      if (record) owners.set(id, record);
    }
    return rows.map((r) => ({
      owner: owners.get(r.owner_id as string)!,
      version: r.n as number,
      active: r.active === true,
      snippet: r.snippet as string,
    }));
  }

  /** Adds a listener for versions becoming active (see ActivatedListener). */
  onActivated(listener: ActivatedListener): void {
    this.activatedListeners.push(listener);
  }

  /** The live version `n` of the owner `ownerId`, read on `db` (a write's transaction); null when there is none. */
  async versionOn(ownerId: string, n: number, db: DatabaseConnection): Promise<StoredRecord | null> {
    const { ids } = await this.versionStore.liveMatches({ [this.def.via]: ownerId, [this.def.number]: n }, '', 1, db);
    return ids[0] === undefined ? null : this.versionStore.get(ids[0], {}, db);
  }

  /** The owner's actions, for routes that find or create it. */
  get ownerActions(): EntityActions {
    return this.owners;
  }
}
