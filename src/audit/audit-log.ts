// Writes audit rows (inside the write's own transaction), reads them back, and purges old ones.
import { sql, type CommonQueryMethods, type DatabaseConnection } from 'slonik';
import type { EntityDef } from '../registry/model.ts';
import { RecordStore, type StoredRecord } from '../db/records.ts';
import type { DatabasePool } from '../db/pool.ts';
import { AUDIT_ENTITY, type AuditOperation } from './audit-entity.ts';
import { diffRecords } from './diff.ts';
import type { WriteMeta } from './write-meta.ts';

/** Entities whose entries are kept whatever the retention (§8.17 calls them critical). */
export const CRITICAL_ENTITIES = ['script', 'script_version'] as const;
/** Operations whose entries are kept whatever the retention. */
export const CRITICAL_OPERATIONS = ['delete', 'hard_delete'] as const;

export interface AuditEvent {
  readonly entity: EntityDef;
  readonly id: string;
  readonly operation: AuditOperation;
  readonly before: StoredRecord | null;
  readonly after: StoredRecord | null;
  readonly meta: WriteMeta;
  /** What else the write did, e.g. `{ cascaded: { components: 2 } }`. */
  readonly details?: Record<string, unknown>;
}

export class AuditLog {
  readonly store: RecordStore;

  constructor(pool: DatabasePool) {
    this.store = new RecordStore(pool, AUDIT_ENTITY);
  }

  /**
   * One row for one write, on the write's transaction. An update that changed nothing is not
   * recorded; a revert is recorded as `revert`, pointing at the entry it undid.
   */
  async record(tx: DatabaseConnection, event: AuditEvent): Promise<void> {
    const changes = diffRecords(event.before, event.after);
    if (changes.length === 0 && event.operation === 'update' && !event.meta.reverts) return;
    const details = { ...(event.meta.reverts ? { undid: event.operation } : {}), ...event.details };
    await this.store.append(
      {
        at: new Date().toISOString(),
        actor: event.meta.actor,
        entity: event.entity.name,
        record_id: event.id,
        operation: event.meta.reverts ? 'revert' : event.operation,
        request_id: event.meta.requestId,
        changes,
        before: event.before,
        reverts: event.meta.reverts ?? null,
        details: Object.keys(details).length > 0 ? details : null,
      },
      tx,
    );
  }

  /** The `details` of the latest entry of this operation on the record (null when none, or none recorded). */
  async lastDetails(
    entity: EntityDef,
    id: string,
    operation: AuditOperation,
    db: CommonQueryMethods,
  ): Promise<Record<string, unknown> | null> {
    const table = sql.identifier([AUDIT_ENTITY.table]);
    const details = await db.maybeOneFirst(sql.unsafe`
      SELECT details FROM ${table}
      WHERE entity = ${entity.name} AND record_id = ${id} AND operation = ${operation}
      ORDER BY at DESC, id DESC LIMIT 1`);
    return typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : null;
  }

  /**
   * Clears these top-level fields from the record's entries: their values in `before`, and the old
   * and new values of their changes (marked `erased`). For personal data that lapsed (`expiry:`):
   * the trail keeps that a change was made, not what it held. How many entries changed.
   */
  async forget(db: CommonQueryMethods, entity: EntityDef, id: string, fields: readonly string[]): Promise<number> {
    const names = sql.array([...fields], 'text');
    const result = await db.query(sql.unsafe`
      UPDATE ${sql.identifier([AUDIT_ENTITY.table])} SET
        before = CASE WHEN before IS NULL THEN NULL
          ELSE before || (SELECT jsonb_object_agg(name, NULL::jsonb) FROM unnest(${names}) AS name) END,
        changes = (
          SELECT coalesce(jsonb_agg(
            CASE WHEN change->>'path' = ANY(${names})
              THEN change || '{"old": null, "new": null, "erased": true}'::jsonb ELSE change END
            ORDER BY position), '[]'::jsonb)
          FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(change, position))
      WHERE entity = ${entity.name} AND record_id = ${id}
        AND (before ?| ${names} OR EXISTS (
          SELECT 1 FROM jsonb_array_elements(changes) AS c(change)
          WHERE change->>'path' = ANY(${names}) AND NOT (change ? 'erased')))`);
    return result.rowCount;
  }

  get(id: string, db?: CommonQueryMethods): Promise<StoredRecord | null> {
    return this.store.get(id, {}, db);
  }
}

/**
 * Deletes entries older than `days`, except the critical ones (script entities, deletions).
 * `days` 0 keeps everything. How many were deleted.
 */
export async function purgeAudit(db: CommonQueryMethods, days: number): Promise<number> {
  if (days <= 0) return 0;
  const result = await db.query(sql.unsafe`
    DELETE FROM ${sql.identifier([AUDIT_ENTITY.table])}
    WHERE at < now() - make_interval(days => ${days})
      AND NOT (operation = ANY(${sql.array([...CRITICAL_OPERATIONS], 'text')}))
      AND NOT (entity = ANY(${sql.array([...CRITICAL_ENTITIES], 'text')}))`);
  return result.rowCount;
}
