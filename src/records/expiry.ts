// Personal data that lapses (`expiry:` in an entity's YAML; seed 8.9: a guest's session): once
// the record's `at` has passed, its `erase` fields are cleared and `stamp` set, audited as an
// update by "reelmeta (expiry)". A sweep does it for every due record (hourly while the service
// runs) and a single read does it first for the record it reads, so nothing lapsed is served
// there even between sweeps.
import type { Logger } from 'pino';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import type { EntityDef, ExpiryDef } from '../registry/model.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import type { EntityActions } from './entity-actions.ts';

const SYSTEM: WriteMeta = { actor: 'reelmeta (expiry)', requestId: null };
const BATCH = 200;

const isDue = (expiry: ExpiryDef, record: Readonly<Record<string, unknown>>, now = Date.now()): boolean => {
  const at = record[expiry.at];
  return (
    (record[expiry.stamp] ?? null) === null &&
    typeof at === 'string' &&
    Date.parse(at) <= now &&
    (record.deleted_at ?? null) === null
  );
};

interface Expiring {
  readonly expiry: ExpiryDef;
  readonly actions: EntityActions;
  readonly store: RecordStore;
}

export class ExpirySweep {
  private readonly entities = new Map<string, Expiring>();

  constructor(private readonly logger: Logger) {}

  /** An entity whose records lapse, with its actions (called once per app by the route services). */
  attach(entity: EntityDef, actions: EntityActions, store: RecordStore): void {
    if (entity.expiry) this.entities.set(entity.name, { expiry: entity.expiry, actions, store });
  }

  /**
   * Erases the record first when it is due, before a single read serves it (reads already show
   * its lapsed fields as null; this writes the erasure and the stamp now rather than at the sweep).
   */
  async beforeRead(entityName: string, id: string): Promise<void> {
    const expiring = this.entities.get(entityName);
    if (!expiring) return;
    if ((await expiring.store.dueForExpiry(expiring.expiry, 1, id)).length > 0) await this.expire(expiring, id);
  }

  /** Erases every due record of every attached entity; how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (const expiring of this.entities.values()) {
      for (;;) {
        const ids = await expiring.store.dueForExpiry(expiring.expiry, BATCH);
        for (const id of ids) if (await this.expire(expiring, id)) total += 1;
        if (ids.length < BATCH) break;
      }
    }
    if (total > 0) this.logger.info({ expired: total }, 'lapsed personal data erased');
    return total;
  }

  /**
   * Clears the fields under the row lock, if the record is still due then, and their values in
   * the record's audit entries, in one transaction; the record after, or null.
   */
  private async expire({ expiry, actions }: Expiring, id: string): Promise<StoredRecord | null> {
    return actions.inTransaction(async (tx) => {
      let erased = false;
      const record = await actions.setServerOwned(
        id,
        (current) => {
          if (!isDue(expiry, current)) return {};
          erased = true;
          return {
            ...Object.fromEntries(expiry.erase.map((name) => [name, null])),
            [expiry.stamp]: new Date().toISOString(),
          };
        },
        'update',
        tx,
        SYSTEM,
      );
      if (!erased) return null;
      await actions.forgetInAudit(id, expiry.erase, tx);
      return record;
    });
  }
}
