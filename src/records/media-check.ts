// What a write needs of the media check (the HEAD of each media URI a body sets, before the
// write's transaction): media/verify-writes.ts implements it and api/ hands it to each entity's
// actions, so the records layer never imports media/.
import type { EntityDef, FieldDef } from '../registry/model.ts';

/** Whether a URI set on a field needs no check (the caller has just seen it, or the record holds it already). */
export type SkipMedia = (uri: string, field: FieldDef) => boolean;

export interface MediaCheck {
  /** Whether `body` sets a checked media URI that `skip` does not pass over: no check, no read of the record. */
  sets(entity: EntityDef, body: unknown, skip?: SkipMedia): boolean;
  /**
   * The body with companions (size, ETag) filled from the objects seen. Throws an error that
   * classifies itself (records/errors.ts): 422 for a bad URI, 503 when S3 cannot be asked.
   */
  check(entity: EntityDef, body: unknown, skip?: SkipMedia): Promise<unknown>;
  /**
   * Whether `body` sets a media URI but leaves out a companion (size, ETag): a write that keeps the
   * URI keeps them from the record (keepCompanions), so a replace does not clear them.
   */
  lacksCompanions(entity: EntityDef, body: unknown): boolean;
  /** The body with the record's companions of each media URI it keeps unchanged, where it leaves them out. */
  keepCompanions(entity: EntityDef, body: unknown, current: Readonly<Record<string, unknown>>): unknown;
}
