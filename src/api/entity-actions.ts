// The writes of one entity, shared by the single-record routes and the batch route, so both
// validate, store and answer the same way. Each takes an optional connection (a transaction).
import { sql, type DatabaseConnection, type DatabasePool } from 'slonik';
import type { EntityDef } from '../registry/model.ts';
import { findField } from '../registry/model.ts';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import { idPattern } from '../codegen/json-schema.ts';
import { cascadeRestore, cascadeSoftDelete, type Counts, type ReferrersOf } from './cascade.ts';
import { duplicateWarnings, type Warning } from './duplicates.ts';
import { ApiError, notFound } from './errors.ts';
import { isPlainObject, type RecordInput } from './record-input.ts';
import type { WriteContext, WriteRule } from './write-rules.ts';

export interface DeleteOptions {
  readonly hard: boolean;
  readonly reason: string | null;
  readonly actor: string | null;
}

export interface DeleteResult {
  readonly id: string;
  readonly deleted: true;
  readonly hard: boolean;
  readonly deleted_at: unknown;
  /** Referring records soft-deleted with this one (on_delete: cascade, at any depth), by plural. */
  readonly cascaded?: Counts;
  /** Referring records whose ref was cleared (on_delete: set_null), by plural. */
  readonly detached?: Counts;
}

export interface RestoreResult {
  readonly record: StoredRecord;
  /** The records its delete had cascaded to, brought back with it, by plural. */
  readonly restored: Counts;
}

/** A record as written, and what the client should look at (possible duplicates). */
export interface Written {
  readonly record: StoredRecord;
  readonly warnings: readonly Warning[];
}

/** Sets the value at a path, creating objects on the way; null removes the key. */
function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    if (value === null) delete target[head!];
    else target[head!] = value;
    return;
  }
  const child = target[head!];
  const object = isPlainObject(child) ? child : {};
  target[head!] = object;
  setPath(object, rest, value);
}

export class EntityActions {
  readonly entity: EntityDef;
  private readonly store: RecordStore;
  private readonly input: RecordInput;
  private readonly idShape: RegExp;
  private readonly reasonMax: number | undefined;
  private readonly actorMax: number | undefined;
  private readonly pool: DatabasePool;
  private readonly referrersOf: ReferrersOf;
  private rules: readonly WriteRule[] = [];
  private actionsOf: (entity: string) => EntityActions = (name) => {
    throw new Error(`no actions for ${name}: useRules was not called`);
  };

  constructor(entity: EntityDef, store: RecordStore, input: RecordInput, pool: DatabasePool, referrersOf: ReferrersOf) {
    this.entity = entity;
    this.store = store;
    this.input = input;
    this.pool = pool;
    this.referrersOf = referrersOf;
    this.idShape = new RegExp(idPattern(entity.idPrefix));
    this.reasonMax = findField(entity, 'deleted_reason')?.maxLength;
    this.actorMax = findField(entity, 'deleted_by')?.maxLength;
  }

  /** An id this entity could never have is simply not found. */
  checkId(id: string): string {
    if (!this.idShape.test(id)) throw notFound(this.entity.name, id);
    return id;
  }

  /** The live record with this id, or 404. */
  async requireLive(id: string): Promise<StoredRecord> {
    const record = await this.store.get(this.checkId(id));
    if (!record) throw notFound(this.entity.name, id);
    return record;
  }

  /** Server rules (library mirrors, domain rules) and the other entities' actions they use. */
  useRules(rules: readonly WriteRule[], actionsOf: (entity: string) => EntityActions): void {
    this.rules = rules;
    this.actionsOf = actionsOf;
  }

  async create(body: unknown, db?: DatabaseConnection): Promise<Written> {
    const values = this.input.forCreate(body);
    if (this.rules.length === 0) {
      const record = await this.store.create(values, db);
      return { record, warnings: await duplicateWarnings(this.store, record, undefined, db ?? this.pool) };
    }
    return (db ?? this.pool).transaction(async (tx) => {
      const warnings: Warning[] = [];
      await this.applyRules(values, undefined, tx, warnings);
      const record = await this.store.create(values, tx);
      return { record, warnings: [...warnings, ...(await duplicateWarnings(this.store, record, undefined, tx))] };
    });
  }

  /** The live record with these field values (the first in id order), or a new one from `values`. */
  async findOrCreate(match: Readonly<Record<string, string | null>>, values: Record<string, unknown>, ctx: WriteContext): Promise<Written & { created: boolean }> {
    // Two writers mirroring the same URI at once take turns, so it is created once.
    await ctx.tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtextextended(${JSON.stringify([this.entity.table, match])}, 0))`);
    const { ids } = await this.store.liveMatches(match, '', 1, ctx.tx);
    const existing = ids[0] === undefined ? null : await this.store.get(ids[0], {}, ctx.tx);
    if (existing) return { record: existing, warnings: [], created: false };
    return { ...(await this.create(values, ctx.tx)), created: true };
  }

  /**
   * PUT of a view: the record with the values at these paths replaced (null removes), validated
   * and written like a PUT of the whole record.
   */
  async replaceParts(id: string, parts: readonly { path: readonly string[]; value: unknown }[], db?: DatabaseConnection): Promise<Written> {
    const body = (current: StoredRecord) => {
      const next = structuredClone(current) as Record<string, unknown>;
      for (const { path, value } of parts) setPath(next, path, value);
      return next;
    };
    return this.rewrite(id, (current) => this.input.forReplace(body(current), current), db);
  }

  /** Ids of the live records linking `id` through this entity's ref or refs field `field`. */
  idsLinking(field: string, id: string, db: DatabaseConnection): Promise<string[]> {
    return this.store.referringIds(findField(this.entity, field)!, id, db);
  }

  /** The live record, read on `db` (a transaction sees what it wrote itself). */
  getLive(id: string, db: DatabaseConnection): Promise<StoredRecord | null> {
    return this.store.get(id, {}, db);
  }

  /** PUT replaces, PATCH merges; both validate the result and write it under a row lock. */
  async update(id: string, body: unknown, mode: 'replace' | 'patch', db?: DatabaseConnection): Promise<Written> {
    return this.rewrite(id, (current) => (mode === 'replace' ? this.input.forReplace(body, current) : this.input.forPatch(body, current)), db);
  }

  /** An update: `valuesFor` computes the validated values from the locked current record. */
  private async rewrite(id: string, valuesFor: (current: StoredRecord) => Record<string, unknown>, db?: DatabaseConnection): Promise<Written> {
    this.checkId(id);
    // The record as it was, so duplicate warnings only look at sets this write changed.
    let previous: StoredRecord | undefined;
    const warnings: Warning[] = [];
    const prepare = async (current: StoredRecord, tx: DatabaseConnection) => {
      previous = current;
      const values = valuesFor(current);
      await this.applyRules(values, current, tx, warnings);
      return values;
    };
    const record = await this.store.update(id, prepare, db);
    if (!record) throw notFound(this.entity.name, id);
    return { record, warnings: [...warnings, ...(await duplicateWarnings(this.store, record, previous, db ?? this.pool))] };
  }

  private async applyRules(values: Record<string, unknown>, current: StoredRecord | undefined, tx: DatabaseConnection, warnings: Warning[]): Promise<void> {
    const ctx: WriteContext = { tx, actionsOf: this.actionsOf, warnings };
    for (const rule of this.rules) await rule(values, current, ctx);
  }

  async remove(id: string, options: DeleteOptions, db?: DatabaseConnection): Promise<DeleteResult> {
    this.checkId(id);
    if (!this.store.supportsSoftDelete || options.hard) {
      if (!(await this.store.hardDelete(id, db))) throw notFound(this.entity.name, id);
      return { id, deleted: true, hard: true, deleted_at: new Date().toISOString() };
    }
    if (options.reason !== null && this.reasonMax !== undefined && options.reason.length > this.reasonMax) {
      throw ApiError.single(400, 'INVALID_QUERY', `reason must be at most ${this.reasonMax} characters`, 'reason');
    }
    const actor = options.actor === null || this.actorMax === undefined ? options.actor : options.actor.slice(0, this.actorMax);
    // The record and what its referrers' on_delete asks for, at any depth, happen together or not at all.
    return (db ?? this.pool).transaction(async (tx) => {
      const record = await this.store.softDeleteRecord(id, actor, options.reason, tx);
      if (!record) throw notFound(this.entity.name, id);
      const { cascaded, detached } = await cascadeSoftDelete(this.referrersOf, { entity: this.entity, id }, actor, tx);
      return {
        id,
        deleted: true as const,
        hard: false,
        deleted_at: record.deleted_at,
        ...(Object.keys(cascaded).length > 0 ? { cascaded } : {}),
        ...(Object.keys(detached).length > 0 ? { detached } : {}),
      };
    });
  }

  /**
   * Undoes a soft delete, and brings back in the same transaction what that delete cascaded to
   * (records deleted earlier for another reason stay deleted). 404 for an unknown record, 409 for
   * a live one; a unique set a live record now holds is a 409 too, and then nothing is restored.
   */
  async restore(id: string, actor: string | null, db?: DatabaseConnection): Promise<RestoreResult> {
    this.checkId(id);
    return (db ?? this.pool).transaction(async (tx) => {
      const record = await this.store.restore(id, actor, tx);
      if (!record) {
        if (!(await this.store.get(id, {}, tx))) throw notFound(this.entity.name, id);
        throw ApiError.single(409, 'CONFLICT', `${this.entity.name} ${id} is not deleted`);
      }
      return { record, restored: await cascadeRestore(this.referrersOf, { entity: this.entity, id }, actor, tx) };
    });
  }
}
