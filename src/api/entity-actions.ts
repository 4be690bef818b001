// The writes of one entity, shared by the single-record routes and the batch route, so both
// validate, store and answer the same way. Each takes an optional connection (a transaction).
import type { DatabaseConnection } from 'slonik';
import type { EntityDef } from '../registry/model.ts';
import { findField } from '../registry/model.ts';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import { idPattern } from '../codegen/json-schema.ts';
import { ApiError, notFound } from './errors.ts';
import type { RecordInput } from './record-input.ts';

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
}

export class EntityActions {
  readonly entity: EntityDef;
  private readonly store: RecordStore;
  private readonly input: RecordInput;
  private readonly idShape: RegExp;
  private readonly reasonMax: number | undefined;
  readonly actorMax: number | undefined;

  constructor(entity: EntityDef, store: RecordStore, input: RecordInput) {
    this.entity = entity;
    this.store = store;
    this.input = input;
    this.idShape = new RegExp(idPattern(entity.idPrefix));
    this.reasonMax = findField(entity, 'deleted_reason')?.maxLength;
    this.actorMax = findField(entity, 'deleted_by')?.maxLength;
  }

  /** An id this entity could never have is simply not found. */
  checkId(id: string): string {
    if (!this.idShape.test(id)) throw notFound(this.entity.name, id);
    return id;
  }

  create(body: unknown, db?: DatabaseConnection): Promise<StoredRecord> {
    return this.store.create(this.input.forCreate(body), db);
  }

  /** PUT replaces, PATCH merges; both validate the result and write it under a row lock. */
  async update(id: string, body: unknown, mode: 'replace' | 'patch', db?: DatabaseConnection): Promise<StoredRecord> {
    this.checkId(id);
    const prepare = (current: StoredRecord) => (mode === 'replace' ? this.input.forReplace(body, current) : this.input.forPatch(body, current));
    const record = await this.store.update(id, prepare, db);
    if (!record) throw notFound(this.entity.name, id);
    return record;
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
    const record = await this.store.softDeleteRecord(id, actor, options.reason, db);
    if (!record) throw notFound(this.entity.name, id);
    return { id, deleted: true, hard: false, deleted_at: record.deleted_at };
  }
}
