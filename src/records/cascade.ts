// What a soft delete does to the records that refer to the deleted one, all the way down, and how
// a restore brings back what that delete took with it. Both run inside the caller's transaction.
// Each entity whose records a cascade deletes, clears or restores needs the caller's permission
// for that on it (`permit`, absent for writes with no request); a refusal undoes the whole write.
import type { CommonQueryMethods } from 'slonik';
import type { EntityDef, FieldDef, Operation } from '../registry/model.ts';
import type { RecordStore } from '../db/records.ts';
import type { WritePermit } from '../audit/write-meta.ts';
import { ApiError } from './errors.ts';

/** A ref from another entity to this one, and what deleting this one does to its records. */
export interface Referrer {
  readonly entity: EntityDef;
  readonly store: RecordStore;
  readonly field: FieldDef;
}

/** The refs pointing at an entity (every entity's, so a cascade can follow them down). */
export type ReferrersOf = (entity: EntityDef) => readonly Referrer[];

/** Records touched, by plural, e.g. `{ components: 3 }`. */
export type Counts = Record<string, number>;

export interface CascadeResult {
  /** Referring records soft-deleted with the root, at any depth (on_delete: cascade). */
  readonly cascaded: Counts;
  /** Referring records whose ref was cleared (on_delete: set_null). */
  readonly detached: Counts;
  /** Those of them with a ref column, each with the parent it named: what a restore re-attaches. */
  readonly detachedRefs: readonly DetachedRef[];
}

/** A record a delete detached: its entity, the ref field cleared and the parent it named. */
export interface DetachedRef {
  readonly entity: string;
  readonly field: string;
  readonly id: string;
  readonly parent: string;
}

interface Level {
  readonly entity: EntityDef;
  readonly ids: readonly string[];
}

/**
 * The deleted_reason of a record deleted with another, followed by that record's id. A restore
 * of the other record finds exactly these again; records deleted earlier for their own reason stay.
 */
export const cascadeReason = (parent: EntityDef) => `deleted with ${parent.name} `;

const add = (counts: Counts, plural: string, n: number) => {
  if (n > 0) counts[plural] = (counts[plural] ?? 0) + n;
};
const keyOf = (entity: EntityDef, id: string) => `${entity.name} ${id}`;

/**
 * After `root` was soft-deleted: soft-deletes its cascade referrers, then theirs, level by level.
 * Each record is visited once, and an UPDATE only takes live rows, so a cycle of refs (a self-ref,
 * or A → B → A) ends when it meets a record this delete already took.
 *
 * Restrict and set_null are applied once everything to delete is known: a restrict referrer that
 * the cascade deletes by another path does not block, and a set_null ref on a record deleted
 * here is kept so a restore brings the two back together. A restrict referrer left alive anywhere
 * throws a 409 naming the chain from the root, and the caller's transaction undoes everything.
 */
export async function cascadeSoftDelete(
  referrersOf: ReferrersOf,
  root: { entity: EntityDef; id: string },
  actor: string | null,
  tx: CommonQueryMethods,
  permit?: WritePermit,
): Promise<CascadeResult> {
  const cascaded: Counts = {};
  const detached: Counts = {};
  const detachedRefs: DetachedRef[] = [];
  const rootKey = keyOf(root.entity, root.id);
  /** Every record deleted here → the record it was deleted with (absent for the root). */
  const parentOf = new Map<string, { entity: EntityDef; id: string }>();
  const seen = new Set<string>([rootKey]);
  /** Ids deleted here, by entity name: their set_null refs are kept. */
  const deletedIds = new Map<string, string[]>([[root.entity.name, [root.id]]]);
  /** Restrict and set_null referrers of each level, applied once the cascade is complete. */
  const later: { level: Level; referrer: Referrer }[] = [];

  const pending: Level[] = [{ entity: root.entity, ids: [root.id] }];
  for (let level = pending.shift(); level; level = pending.shift()) {
    for (const referrer of referrersOf(level.entity)) {
      const { entity, store, field } = referrer;
      if (field.onDelete !== 'cascade' || !store.supportsSoftDelete) {
        later.push({ level, referrer });
        continue;
      }
      const rows = await store.softDeleteReferring(field.name, level.ids, actor, cascadeReason(level.entity), tx);
      if (rows.length > 0)
        permit?.(entity, 'delete', {
          cause: `deleting ${root.entity.name} ${root.id} deletes ${entity.plural} with it (${field.name}, on_delete: cascade)`,
        });
      const fresh = rows.filter((row) => !seen.has(keyOf(entity, row.id)));
      for (const row of fresh) {
        seen.add(keyOf(entity, row.id));
        parentOf.set(keyOf(entity, row.id), { entity: level.entity, id: row.parent });
      }
      add(cascaded, entity.plural, rows.length);
      deletedIds.set(entity.name, [...(deletedIds.get(entity.name) ?? []), ...fresh.map((row) => row.id)]);
      if (fresh.length > 0) pending.push({ entity, ids: fresh.map((row) => row.id) });
    }
  }

  for (const { level, referrer } of later) {
    const { entity, store, field } = referrer;
    if (field.onDelete === 'set_null') {
      const { count: cleared, cleared: refs } = await store.clearReferring(
        field,
        level.ids,
        deletedIds.get(entity.name) ?? [],
        tx,
      );
      for (const ref of refs) detachedRefs.push({ entity: entity.name, field: field.name, ...ref });
      if (cleared > 0)
        permit?.(entity, 'update', {
          cause: `deleting ${root.entity.name} ${root.id} clears ${field.name} of ${entity.plural} (on_delete: set_null)`,
        });
      add(detached, entity.plural, cleared);
      continue;
    }
    // restrict, or a cascade to an entity without soft delete (its rows cannot be marked).
    const blocking = await store.firstLiveReferring(field, level.ids, tx);
    if (!blocking) continue;
    const still =
      field.type === 'refs'
        ? `is still linked from ${blocking.count} ${entity.plural} (${field.name}); unlink it first`
        : `still has ${blocking.count} ${entity.plural} (${field.name}); delete or reassign them first`;
    // From the blocked record up to the root, through the records each was deleted with.
    const chain: string[] = [];
    for (
      let at: { entity: EntityDef; id: string } | undefined = { entity: level.entity, id: blocking.parent };
      at && keyOf(at.entity, at.id) !== rootKey;
      at = parentOf.get(keyOf(at.entity, at.id))
    ) {
      chain.unshift(`${at.entity.name} ${at.id}`);
    }
    if (chain.length === 0) throw ApiError.single(409, 'CONFLICT', `${root.entity.name} ${root.id} ${still}`);
    throw ApiError.single(
      409,
      'CONFLICT',
      `${root.entity.name} ${root.id} cascades to ${chain.join(' → ')} (on_delete: cascade), which ${still}`,
    );
  }
  return { cascaded, detached, detachedRefs };
}

/**
 * After `root` was restored: restores the records its delete cascaded to (their deleted_reason
 * names it), then theirs, level by level. Counts by plural.
 */
export async function cascadeRestore(
  referrersOf: ReferrersOf,
  root: { entity: EntityDef; id: string },
  actor: string | null,
  tx: CommonQueryMethods,
  permit?: WritePermit,
): Promise<Counts> {
  const restored: Counts = {};
  const seen = new Set<string>([keyOf(root.entity, root.id)]);
  const pending: Level[] = [{ entity: root.entity, ids: [root.id] }];
  for (let level = pending.shift(); level; level = pending.shift()) {
    for (const { entity, store, field } of referrersOf(level.entity)) {
      if (field.onDelete !== 'cascade' || !store.supportsSoftDelete) continue;
      const ids = await store.restoreReferring(field.name, level.ids, actor, cascadeReason(level.entity), tx);
      if (ids.length > 0)
        permit?.(entity, 'restore', {
          cause: `restoring ${root.entity.name} ${root.id} restores ${entity.plural} deleted with it (${field.name})`,
        });
      const fresh = ids.filter((id) => !seen.has(keyOf(entity, id)));
      fresh.forEach((id) => seen.add(keyOf(entity, id)));
      add(restored, entity.plural, ids.length);
      if (fresh.length > 0) pending.push({ entity, ids: fresh });
    }
  }
  return restored;
}

/**
 * After `root` was restored: sets the refs its delete cleared back to the parents they named
 * (`detached`, from that delete's audit entry), where the record is live and has not been given
 * another parent since. Counts by plural.
 */
export async function reattachDetached(
  referrersOf: ReferrersOf,
  root: { entity: EntityDef; id: string },
  detached: readonly DetachedRef[],
  tx: CommonQueryMethods,
  permit?: WritePermit,
): Promise<Counts> {
  const reattached: Counts = {};
  const groups = new Map<string, { referrer: Referrer; parent: string; ids: string[] }>();
  // One walk of the referrer graph per entity and field, however many parents they were cleared from.
  const referrers = new Map<string, Referrer | undefined>();
  for (const ref of detached) {
    const key = `${ref.entity}\u0000${ref.field}\u0000${ref.parent}`;
    let group = groups.get(key);
    if (!group) {
      const through = `${ref.entity}\u0000${ref.field}`;
      if (!referrers.has(through)) referrers.set(through, referrersFor(referrersOf, root.entity, ref));
      const referrer = referrers.get(through);
      if (!referrer) continue; // the registry changed since the delete: nothing to re-attach it by
      group = { referrer, parent: ref.parent, ids: [] };
      groups.set(key, group);
    }
    group.ids.push(ref.id);
  }
  for (const { referrer, parent, ids } of groups.values()) {
    const { entity, store, field } = referrer;
    const done = await store.reattach(field, parent, ids, tx);
    if (done.length === 0) continue;
    permit?.(entity, 'update', {
      cause: `restoring ${root.entity.name} ${root.id} sets ${field.name} of ${entity.plural} back (its delete cleared it)`,
    });
    add(reattached, entity.plural, done.length);
  }
  return reattached;
}

/** The referrer a detached record was cleared through, found from the root down. */
function referrersFor(referrersOf: ReferrersOf, root: EntityDef, ref: DetachedRef): Referrer | undefined {
  const seen = new Set<string>();
  const pending = [root];
  for (let entity = pending.shift(); entity; entity = pending.shift()) {
    if (seen.has(entity.name)) continue;
    seen.add(entity.name);
    for (const referrer of referrersOf(entity)) {
      if (referrer.entity.name === ref.entity && referrer.field.name === ref.field && referrer.field.type === 'ref')
        return referrer;
      pending.push(referrer.entity);
    }
  }
  return undefined;
}

/**
 * Before `root` is removed from the database, whose foreign keys then delete (on_delete: cascade)
 * or clear (set_null) the referring rows, deleted ones included, at any depth: the caller needs
 * `operation` on each entity whose rows go with it and update on each whose refs are cleared.
 * Restrict referrers are left to the database, which refuses the delete (409).
 */
export async function permitHardDelete(
  referrersOf: ReferrersOf,
  root: { entity: EntityDef; id: string },
  operation: Operation,
  permit: WritePermit,
  tx: CommonQueryMethods,
): Promise<void> {
  const seen = new Set<string>([keyOf(root.entity, root.id)]);
  const pending: Level[] = [{ entity: root.entity, ids: [root.id] }];
  for (let level = pending.shift(); level; level = pending.shift()) {
    for (const { entity, store, field } of referrersOf(level.entity)) {
      if (field.onDelete !== 'cascade' && field.onDelete !== 'set_null') continue;
      const ids = await store.anyReferringIds(field, level.ids, tx);
      if (ids.length === 0) continue;
      if (field.onDelete === 'set_null') {
        permit(entity, 'update', {
          cause: `deleting ${root.entity.name} ${root.id} clears ${field.name} of ${entity.plural} (on_delete: set_null)`,
        });
        continue;
      }
      permit(entity, operation, {
        cause: `deleting ${root.entity.name} ${root.id} deletes ${entity.plural} with it (${field.name}, on_delete: cascade)`,
      });
      const fresh = ids.filter((id) => !seen.has(keyOf(entity, id)));
      fresh.forEach((id) => seen.add(keyOf(entity, id)));
      if (fresh.length > 0) pending.push({ entity, ids: fresh });
    }
  }
}
