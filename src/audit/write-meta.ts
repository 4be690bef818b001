// Who and what a write comes from, passed from the HTTP edge to the actions and their audit rows.
import type { EntityDef, Operation } from '../registry/model.ts';

/** Why a write needs a permission on an entity besides the route's own, for the refusal's message. */
export interface PermitContext {
  /** The field of the written record at fault (a ref or refs value), when there is one. */
  readonly field?: string;
  /** What the write does to that entity's records, e.g. `guest_id links guests`. */
  readonly cause?: string;
}

/**
 * Throws (a 403 at the HTTP edge) when the caller may not do `operation` on records of `entity`.
 * The actions call it for every record of any entity a write creates, changes, deletes, restores
 * or links, so the records layer stays free of HTTP and roles.
 */
export type WritePermit = (entity: EntityDef, operation: Operation, context?: PermitContext) => void;

export interface WriteMeta {
  /** The acting identity (the token's subject, or X-Actor with AUTH_MODE=off); null when unknown. */
  readonly actor: string | null;
  /** The request's X-Request-Id (given or generated). */
  readonly requestId: string | null;
  /** The If-Match precondition the record must meet, checked under its row lock. */
  readonly ifMatch?: string | null;
  /**
   * The write goes through a parent's child collection (/episodes/{id}/clips/{clip_id}): the
   * record must hold the parent's id in `field`, checked under its row lock like ifMatch, else 404.
   */
  readonly within?: { readonly field: string; readonly id: string };
  /** Set when the write undoes an audit entry: it is audited as a `revert` of that entry. */
  readonly reverts?: string;
  /** The caller's permission check; absent for writes with no request (scripts, the CLI, tests). */
  readonly permit?: WritePermit;
  /**
   * s3:// URIs this write's caller has just seen in the object store (an upload it HEADed, keys it
   * listed): media fields holding them are not checked again (see media/verify-writes.ts).
   */
  readonly verifiedMedia?: ReadonlySet<string>;
}

/** Writes with no request behind them (tests, scripts). */
export const NO_META: WriteMeta = { actor: null, requestId: null };
