// The writes of one entity, shared by the single-record routes and the batch route, so both
// validate, store and answer the same way. Each takes an optional connection (a transaction).
import type { DatabaseConnection, DatabasePool } from 'slonik';
import type { EntityDef } from '../registry/model.ts';
import { findField, withArticle } from '../registry/model.ts';
import type { Identity, RecordStore, StoredRecord } from '../db/records.ts';
import type { Condition } from '../query/ast.ts';
import { idPattern } from '../registry/json-schema.ts';
import {
  cascadeRestore,
  cascadeSoftDelete,
  permitHardDelete,
  reattachDetached,
  type Counts,
  type DetachedRef,
  type ReferrersOf,
} from './cascade.ts';
import { ignoredReadOnlyWrites } from './read-only-writes.ts';
import { duplicateWarnings, type Warning } from './duplicates.ts';
import { ApiError, notFound } from './errors.ts';
import { isPlainObject, type RecordInput } from './record-input.ts';
import type { WriteContext, WriteRule } from './write-rules.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { NO_META, type WriteMeta } from '../audit/write-meta.ts';
import type { AuditOperation } from '../audit/audit-entity.ts';
import { checkIfMatch } from './preconditions.ts';
import { ownValue, valueAtPath } from '../registry/own.ts';
import { afterCommit, countRecordCreated, lockKeys, transact } from '../db/work.ts';
import { newLinks } from './write-links.ts';
import type { MediaCheck } from './media-check.ts';

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
  /** The records its delete had detached (on_delete: set_null), attached to it again, by plural. */
  readonly reattached: Counts;
}

/** A record as written, and what the client should look at (possible duplicates). */
export interface Written {
  readonly record: StoredRecord;
  readonly warnings: readonly Warning[];
}

/**
 * Told of each record this entity's create or update wrote, with the record before it (null for
 * a create), once the write's transaction has committed: follow-up work (a thumbnail job) that
 * must not run for a write that rolls back, nor make the write fail. Server-owned writes
 * (setServerOwned) are not reported.
 */
export type CommittedListener = (previous: StoredRecord | null, record: StoredRecord) => void;

/**
 * A rule run once a create or update has stored the record, in its transaction (the record has
 * its id now): writes to other entities that must point at it, e.g. a part's version made from a
 * field (records/part-mirror.ts). Server-owned writes (setServerOwned) do not run them.
 */
export type StoredRule = (record: StoredRecord, previous: StoredRecord | undefined, ctx: WriteContext) => Promise<void>;

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
  private readonly audit: AuditLog;
  private rules: readonly WriteRule[] = [];
  /** Rules added one by one (addRule), run after `rules`, kept when useRules replaces those. */
  private readonly addedRules: WriteRule[] = [];
  private mediaCheck: MediaCheck | undefined;
  private readonly committedListeners: CommittedListener[] = [];
  private readonly storedRules: StoredRule[] = [];
  private actionsOf: (entity: string) => EntityActions = (name) => {
    throw new Error(`no actions for ${name}: useRules was not called`);
  };

  constructor(
    entity: EntityDef,
    store: RecordStore,
    input: RecordInput,
    pool: DatabasePool,
    referrersOf: ReferrersOf,
    audit: AuditLog,
  ) {
    this.entity = entity;
    this.audit = audit;
    this.store = store;
    this.input = input;
    this.pool = pool;
    this.referrersOf = referrersOf;
    this.idShape = new RegExp(idPattern(entity.idPrefix));
    this.reasonMax = findField(entity, 'deleted_reason')?.maxLength;
    this.actorMax = findField(entity, 'deleted_by')?.maxLength;
  }

  /** Whether `id` has the shape of this entity's ids (its prefix, then letters, digits and _). */
  hasIdShape(id: string): boolean {
    return this.idShape.test(id);
  }

  /** An id this entity could never have is simply not found. */
  checkId(id: string): string {
    if (!this.hasIdShape(id)) throw notFound(this.entity.name, id);
    return id;
  }

  /** The id of a live record, or 404: for routes under a parent that do not read the parent itself. */
  async requireLiveId(id: string): Promise<string> {
    if (!(await this.store.isLive(this.checkId(id)))) throw notFound(this.entity.name, id);
    return id;
  }

  /** The live record with this id, or 404. */
  async requireLive(id: string): Promise<StoredRecord> {
    const record = await this.store.get(this.checkId(id));
    if (!record) throw notFound(this.entity.name, id);
    return record;
  }

  /** The HEAD check of media fields a write sets (absent: this service runs without S3). */
  useMediaCheck(check: MediaCheck | undefined): void {
    this.mediaCheck = check;
  }

  /**
   * The body after its media URIs were checked in S3 (see media/verify-writes.ts), before any
   * transaction: URIs the caller has just seen, and values the record holds already, are not asked again.
   */
  private async checkMedia(body: unknown, meta: WriteMeta, id?: string, db?: DatabaseConnection): Promise<unknown> {
    const check = this.mediaCheck;
    if (!check) return body;
    const verified = meta.verifiedMedia;
    const fresh = (uri: string) => verified?.has(uri) === true;
    const keeping = id !== undefined && check.lacksCompanions(this.entity, body);
    if (!keeping && !check.sets(this.entity, body, fresh)) return body;
    // Inside a caller's transaction the record is read on it (slonik refuses the pool there).
    const current = id === undefined ? null : await this.store.get(id, {}, db ?? this.pool);
    // A write that keeps a media URI keeps its size and ETag (a PUT leaving them out does not clear them).
    if (current && keeping) body = check.keepCompanions(this.entity, body, current);
    if (!check.sets(this.entity, body, fresh)) return body;
    const unchanged = (uri: string, field: { path: readonly string[] }) =>
      current !== null && valueAtPath(current, field.path) === uri;
    return check.check(this.entity, body, (uri, field) => fresh(uri) || unchanged(uri, field));
  }

  /** Adds a server rule run after the others on every create and update, in its transaction. */
  addRule(rule: WriteRule): void {
    this.addedRules.push(rule);
  }

  /** Adds a rule run after a create or update has stored the record (see StoredRule). */
  addStoredRule(rule: StoredRule): void {
    this.storedRules.push(rule);
  }

  private async afterStore(
    record: StoredRecord,
    previous: StoredRecord | undefined,
    tx: DatabaseConnection,
    warnings: Warning[],
    meta: WriteMeta,
  ): Promise<void> {
    for (const rule of this.storedRules)
      await rule(record, previous, { tx, actionsOf: this.actionsOf, warnings, meta });
  }

  /** Adds a listener for this entity's committed creates and updates (see CommittedListener). */
  onCommitted(listener: CommittedListener): void {
    this.committedListeners.push(listener);
  }

  private written(previous: StoredRecord | null, record: StoredRecord): void {
    for (const listener of this.committedListeners) afterCommit(() => listener(previous, record));
  }

  /** Server rules (library mirrors, domain rules) and the other entities' actions they use. */
  useRules(rules: readonly WriteRule[], actionsOf: (entity: string) => EntityActions): void {
    this.rules = rules;
    this.actionsOf = actionsOf;
  }

  /**
   * The values a create of `body` would store, validated as a POST would (422 when not), without
   * writing: for a write that happens later (an upload that creates its record on complete).
   */
  checkCreate(body: unknown): Record<string, unknown> {
    return this.input.forCreate(body);
  }

  async create(
    body: unknown,
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
    identity?: Identity,
  ): Promise<Written> {
    meta.permit?.(this.entity, 'create');
    const given = await this.checkMedia(body, meta);
    const values = this.input.forCreate(given);
    const ignored = ignoredReadOnlyWrites(this.entity, given, undefined);
    if (meta.within) this.checkStaysWithin(values, meta.within);
    this.permitLinks(values, undefined, meta);
    // The record, what the rules made of it and its audit row are written together or not at all.
    return transact(db ?? this.pool, async (tx) => {
      countRecordCreated();
      const warnings: Warning[] = ignored ? [ignored] : [];
      await this.applyRules(values, undefined, tx, warnings, meta);
      const record = await this.store.create(values, tx, identity);
      await this.afterStore(record, undefined, tx, warnings, meta);
      await this.audit.record(tx, {
        entity: this.entity,
        id: record.id,
        operation: 'create',
        before: null,
        after: record,
        meta,
      });
      this.written(null, record);
      return { record, warnings: [...warnings, ...(await duplicateWarnings(this.store, record, undefined, tx))] };
    });
  }

  /** The record's row version (its ETag), when this store read or wrote it. */
  versionOf(record: StoredRecord): string | undefined {
    return this.store.versionOf(record);
  }

  /**
   * Locks these match sets until the transaction ends, so two writers mirroring the same URI at
   * once take turns and it is created once. A rule locks all its sets first: in sorted order
   * (see lockKeys), so writers that name the same sets in other orders cannot deadlock.
   */
  async lockMatches(matches: readonly Readonly<Record<string, string | null>>[], ctx: WriteContext): Promise<void> {
    const byNames = new Map<string, string[]>();
    for (const match of matches) {
      const names = Object.keys(match).sort();
      const namespace = `${this.entity.table}(${names.join(',')})`;
      byNames.set(namespace, [...(byNames.get(namespace) ?? []), JSON.stringify(names.map((name) => match[name]))]);
    }
    for (const [namespace, keys] of byNames) await lockKeys(ctx.tx, namespace, keys);
  }

  /** The live record with these field values (the first in id order), or a new one from `values`. */
  async findOrCreate(
    match: Readonly<Record<string, string | null>>,
    values: Record<string, unknown>,
    ctx: WriteContext,
  ): Promise<Written & { created: boolean }> {
    this.permitLookUp(ctx);
    await this.lockMatches([match], ctx);
    const { ids } = await this.store.liveMatches(match, '', 1, ctx.tx);
    const existing = ids[0] === undefined ? null : await this.store.get(ids[0], {}, ctx.tx);
    if (existing) return { record: existing, warnings: [], created: false };
    return { ...(await this.create(values, ctx.tx, ctx.meta)), created: true };
  }

  /**
   * PUT of a view: the record with the values at these paths replaced (null removes), validated
   * and written like a PUT of the whole record.
   */
  async replaceParts(
    id: string,
    parts: readonly { path: readonly string[]; value: unknown }[],
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
  ): Promise<Written> {
    const partial: Record<string, unknown> = {};
    for (const { path, value } of parts) setPath(partial, path, value);
    await this.checkMedia(partial, meta, id);
    const body = (current: StoredRecord) => {
      const next = structuredClone(current) as Record<string, unknown>;
      for (const { path, value } of parts) setPath(next, path, value);
      return next;
    };
    return this.rewrite(id, (current) => this.input.forReplace(body(current), current), db, meta);
  }

  /**
   * A rule looking up records of this entity for the caller: it needs their read, whether or not
   * a record is found (so a refusal never says whether one exists); creating one then needs create.
   */
  private permitLookUp(ctx: WriteContext): void {
    ctx.meta?.permit?.(this.entity, 'read', { cause: `this write looks up ${this.entity.plural} on file` });
  }

  /** Ids of the live records linking `id` through this entity's ref or refs field `field`. */
  idsLinking(field: string, id: string, ctx: WriteContext): Promise<string[]> {
    this.permitLookUp(ctx);
    return this.store.referringIds(findField(this.entity, field)!, id, ctx.tx);
  }

  /** Runs `work` in one transaction (a write and what must go with it). */
  inTransaction<T>(work: (tx: DatabaseConnection) => Promise<T>): Promise<T> {
    return transact(this.pool, work);
  }

  /** Clears these fields' values from the record's audit entries (personal data that lapsed). */
  forgetInAudit(id: string, fields: readonly string[], db: DatabaseConnection): Promise<number> {
    return this.audit.forget(db, this.entity, id, fields);
  }

  /** Ids of the live records matching a resolved condition, in id order, at most `limit`. */
  matchingIds(condition: Condition, limit: number, ctx: WriteContext): Promise<string[]> {
    this.permitLookUp(ctx);
    return this.store.matchingIds(condition, limit, ctx.tx);
  }

  /**
   * A merge patch made from the locked current record (`bodyFor` may refuse by throwing), for
   * bodies without media; validated, written and audited like a PATCH.
   */
  patchLocked(
    id: string,
    bodyFor: (current: StoredRecord) => Record<string, unknown>,
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
  ): Promise<Written> {
    return this.rewrite(id, (current) => this.input.forPatch(bodyFor(current), current), db, meta);
  }

  /** The live record, read in the write's transaction (which sees what it wrote itself). */
  getLive(id: string, ctx: WriteContext): Promise<StoredRecord | null> {
    this.permitLookUp(ctx);
    return this.store.get(id, {}, ctx.tx);
  }

  /** PUT replaces, PATCH merges; both validate the result and write it under a row lock. */
  async update(
    id: string,
    given: unknown,
    mode: 'replace' | 'patch',
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
  ): Promise<Written> {
    const body = await this.checkMedia(given, meta, this.checkId(id), db);
    return this.rewrite(
      id,
      (current) => (mode === 'replace' ? this.input.forReplace(body, current) : this.input.forPatch(body, current)),
      db,
      meta,
      (current) => ignoredReadOnlyWrites(this.entity, body, current),
    );
  }

  /**
   * An update: `valuesFor` computes the validated values from the locked current record, whose
   * version must meet `meta.ifMatch`; the audit row is written in the same transaction.
   */
  private async rewrite(
    id: string,
    valuesFor: (current: StoredRecord) => Record<string, unknown>,
    db: DatabaseConnection | undefined,
    meta: WriteMeta,
    ignoredFor: (current: StoredRecord) => Warning | undefined = () => undefined,
  ): Promise<Written> {
    this.checkId(id);
    meta.permit?.(this.entity, 'update');
    return transact(db ?? this.pool, async (outer) => {
      // The record as it was, so duplicate warnings only look at sets this write changed.
      let previous: StoredRecord | undefined;
      let warnings: Warning[] = [];
      const prepare = async (current: StoredRecord, tx: DatabaseConnection) => {
        this.checkLocked(current, id, meta);
        previous = current;
        const ignored = ignoredFor(current);
        warnings = ignored ? [ignored] : [];
        const values = valuesFor(current);
        if (meta.within) this.checkStaysWithin(values, meta.within);
        this.permitLinks(values, current, meta);
        await this.applyRules(values, current, tx, warnings, meta);
        return values;
      };
      const record = await this.store.update(id, prepare, outer);
      if (!record) throw notFound(this.entity.name, id);
      await this.afterStore(record, previous, outer, warnings, meta);
      await this.audit.record(outer, {
        entity: this.entity,
        id,
        operation: 'update',
        before: previous ?? null,
        after: record,
        meta,
      });
      this.written(previous ?? null, record);
      return { record, warnings: [...warnings, ...(await duplicateWarnings(this.store, record, previous, outer))] };
    });
  }

  /**
   * Writes server-owned fields (a script's active version), the record otherwise as it is: under
   * the row lock, meeting `meta.ifMatch`, audited as `operation` in the same transaction.
   */
  async setServerOwned(
    id: string,
    values: Record<string, unknown> | ((current: StoredRecord) => Record<string, unknown>),
    operation: AuditOperation,
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
  ): Promise<StoredRecord> {
    meta.permit?.(this.entity, 'update');
    const serverOwned = new Set(this.entity.fields.filter((f) => f.readOnly).map((f) => f.name));
    return transact(db ?? this.pool, async (outer) => {
      let previous: StoredRecord | undefined;
      const record = await this.store.update(
        id,
        (current) => {
          this.checkLocked(current, id, meta);
          previous = current;
          return {
            ...Object.fromEntries(Object.entries(current).filter(([name]) => !serverOwned.has(name))),
            ...(typeof values === 'function' ? values(current) : values),
          };
        },
        outer,
      );
      if (!record) throw notFound(this.entity.name, id);
      await this.audit.record(outer, {
        entity: this.entity,
        id,
        operation,
        before: previous ?? null,
        after: record,
        meta,
      });
      return record;
    });
  }

  private async applyRules(
    values: Record<string, unknown>,
    current: StoredRecord | undefined,
    tx: DatabaseConnection,
    warnings: Warning[],
    meta: WriteMeta,
  ): Promise<void> {
    // Records the rules write are audited as the same actor and request, as their own changes
    // (this write's precondition and revert do not apply to them).
    // The caller's permissions hold for them as for this record.
    const ruleMeta: WriteMeta = {
      actor: meta.actor,
      requestId: meta.requestId,
      ...(meta.permit ? { permit: meta.permit } : {}),
    };
    const ctx: WriteContext = { tx, actionsOf: this.actionsOf, warnings, meta: ruleMeta };
    for (const rule of [...this.rules, ...this.addedRules]) await rule(values, current, ctx);
    // The links the rules set (a library record, an outfit on file) read their records too.
    this.permitLinks(values, current, meta);
  }

  /** Read on the entity of every record `values` links that `current` did not (see write-links.ts). */
  private permitLinks(values: Record<string, unknown>, current: StoredRecord | undefined, meta: WriteMeta): void {
    const permit = meta.permit;
    if (!permit) return;
    for (const { field, to } of newLinks(this.entity.fields, values, current)) {
      const target = this.actionsOf(to).entity;
      permit(target, 'read', { field, cause: `${field} links ${target.plural}` });
    }
  }

  /** What a write's caller asked of the record it locked: its version (If-Match), its parent (within). */
  private checkLocked(current: StoredRecord, id: string, meta: WriteMeta): void {
    if (meta.within && ownValue(current, meta.within.field) !== meta.within.id) throw notFound(this.entity.name, id);
    checkIfMatch(meta.ifMatch, this.store.versionOf(current), `${this.entity.name} ${id}`);
  }

  /** A write through a parent's child collection keeps the record under that parent. */
  checkStaysWithin(values: Record<string, unknown>, within: NonNullable<WriteMeta['within']>): void {
    const value = ownValue(values, within.field);
    if (value === within.id) return;
    throw ApiError.single(
      422,
      'VALIDATION_ERROR',
      `${within.field} must stay ${within.id}: this write goes through that record's ${this.entity.plural}; to move ${withArticle(this.entity.name)}, write the ${this.entity.name} itself`,
      within.field,
    );
  }

  /** The record locked for a delete or restore, meeting `meta.ifMatch`; 404 when missing. */
  private async lockFor(
    id: string,
    includeDeleted: boolean,
    meta: WriteMeta,
    tx: DatabaseConnection,
  ): Promise<StoredRecord> {
    const current = await this.store.lock(id, { includeDeleted }, tx);
    if (!current) throw notFound(this.entity.name, id);
    this.checkLocked(current, id, meta);
    return current;
  }

  async remove(
    id: string,
    options: DeleteOptions,
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
  ): Promise<DeleteResult> {
    this.checkId(id);
    const operation = options.hard ? 'hard_delete' : 'delete';
    meta.permit?.(this.entity, operation);
    if (!this.store.supportsSoftDelete || options.hard) {
      return transact(db ?? this.pool, async (tx) => {
        const current = await this.lockFor(id, true, meta, tx);
        // The database deletes or clears the referring rows itself: the caller's rights on them first.
        if (meta.permit)
          await permitHardDelete(this.referrersOf, { entity: this.entity, id }, operation, meta.permit, tx);
        if (!(await this.store.hardDelete(id, tx))) throw notFound(this.entity.name, id);
        await this.audit.record(tx, {
          entity: this.entity,
          id,
          operation: 'hard_delete',
          before: current,
          after: null,
          meta,
        });
        return { id, deleted: true as const, hard: true, deleted_at: new Date().toISOString() };
      });
    }
    if (options.reason !== null && this.reasonMax !== undefined && options.reason.length > this.reasonMax) {
      throw ApiError.single(400, 'INVALID_QUERY', `reason must be at most ${this.reasonMax} characters`, 'reason');
    }
    const actor =
      options.actor === null || this.actorMax === undefined ? options.actor : options.actor.slice(0, this.actorMax);
    // The record and what its referrers' on_delete asks for, at any depth, happen together or not at all.
    return transact(db ?? this.pool, async (tx) => {
      const current = await this.lockFor(id, false, meta, tx);
      const record = await this.store.softDeleteRecord(id, actor, options.reason, tx);
      if (!record) throw notFound(this.entity.name, id);
      const { cascaded, detached, detachedRefs } = await cascadeSoftDelete(
        this.referrersOf,
        { entity: this.entity, id },
        actor,
        tx,
        meta.permit,
      );
      // Cascades are recorded in this record's entry, counted by plural (details.cascaded, details.detached).
      // detached_refs: what a restore sets back (reattachDetached).
      const details = {
        ...(Object.keys(cascaded).length > 0 ? { cascaded } : {}),
        ...(Object.keys(detached).length > 0 ? { detached } : {}),
        ...(detachedRefs.length > 0 ? { detached_refs: detachedRefs } : {}),
      };
      await this.audit.record(tx, {
        entity: this.entity,
        id,
        operation: 'delete',
        before: current,
        after: record,
        meta,
        details,
      });
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
  async restore(
    id: string,
    actor: string | null,
    db?: DatabaseConnection,
    meta: WriteMeta = NO_META,
  ): Promise<RestoreResult> {
    this.checkId(id);
    meta.permit?.(this.entity, 'restore');
    return transact(db ?? this.pool, async (tx) => {
      const current = await this.lockFor(id, true, meta, tx);
      const record = current.deleted_at === null ? null : await this.store.restore(id, actor, tx);
      if (!record) throw ApiError.single(409, 'CONFLICT', `${this.entity.name} ${id} is not deleted`);
      const root = { entity: this.entity, id };
      const restored = await cascadeRestore(this.referrersOf, root, actor, tx, meta.permit);
      // The records the delete detached (on_delete: set_null) get their parent back.
      const deletion = await this.audit.lastDetails(this.entity, id, 'delete', tx);
      const detachedRefs = Array.isArray(deletion?.detached_refs) ? (deletion.detached_refs as DetachedRef[]) : [];
      const reattached = await reattachDetached(this.referrersOf, root, detachedRefs, tx, meta.permit);
      const details = {
        ...(Object.keys(restored).length > 0 ? { restored } : {}),
        ...(Object.keys(reattached).length > 0 ? { reattached } : {}),
      };
      await this.audit.record(tx, {
        entity: this.entity,
        id,
        operation: 'restore',
        before: current,
        after: record,
        meta,
        details,
      });
      return { record, restored, reattached };
    });
  }

  /**
   * Undoes the change audit entry `auditId` made to record `id`, through the normal write paths
   * (validation and write rules run), audited as a `revert` of that entry: an update (or an
   * earlier revert) writes back the writable fields of the state before it; a delete is
   * restored; a create or a restore is undone by a soft delete (a hard one where the entity has
   * no soft delete). A hard delete cannot be reverted (409): the row is gone.
   */
  async revert(
    id: string,
    auditId: string,
    meta: WriteMeta,
  ): Promise<{ record: StoredRecord } | { deleted: DeleteResult }> {
    this.checkId(id);
    const entry = await this.audit.get(auditId);
    if (!entry || entry.entity !== this.entity.name || entry.record_id !== id) {
      throw ApiError.single(
        404,
        'NOT_FOUND',
        `audit entry ${auditId} is not a change of ${this.entity.name} ${id}`,
        'audit_id',
      );
    }
    const undo: WriteMeta = { ...meta, reverts: entry.id };
    const operation = entry.operation as string;
    if (operation === 'activate') {
      // The server-owned fields it changed (a script's active version) go back as they were.
      const before = (entry.before ?? {}) as Record<string, unknown>;
      const changed = new Set((entry.changes as { path: string }[]).map((c) => c.path.split('.')[0]!));
      return {
        record: await this.setServerOwned(
          id,
          Object.fromEntries([...changed].map((name) => [name, before[name] ?? null])),
          'revert',
          undefined,
          undo,
        ),
      };
    }
    if (operation === 'update' || operation === 'revert') {
      const before = entry.before as Record<string, unknown>;
      return this.rewrite(id, (current) => this.input.forReplace(before, current), undefined, undo);
    }
    if (operation === 'delete') return { record: (await this.restore(id, meta.actor, undefined, undo)).record };
    if (operation === 'create' || operation === 'restore') {
      return {
        deleted: await this.remove(
          id,
          { hard: false, reason: `revert of ${entry.id}`, actor: meta.actor },
          undefined,
          undo,
        ),
      };
    }
    throw ApiError.single(
      409,
      'CONFLICT',
      `audit entry ${auditId} is a ${operation}, which cannot be reverted`,
      'audit_id',
    );
  }
}
