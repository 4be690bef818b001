// `npm run upgrade -- <entity>`: rewrites every row stored in an older schema_version in the
// current shape, a batch per transaction. Safe while the service runs (rows a request holds are
// skipped and taken in a later pass) and resumable: an interrupted run just leaves rows to do.
import type { RecordStore } from './records.ts';

export interface UpgradeProgress {
  readonly total: number;
  readonly upgraded: number;
}

export interface UpgradeOutcome {
  readonly upgraded: number;
  /** Rows still in an older version (held by requests through every pass). */
  readonly remaining: number;
}

/** Passes over the table before giving up on rows that stay locked. */
const MAX_PASSES = 5;

export async function upgradeStored(
  store: RecordStore,
  options: { batchSize: number; onStart?: (total: number) => void; onProgress?: (progress: UpgradeProgress) => void },
): Promise<UpgradeOutcome> {
  const total = await store.countOutdated();
  options.onStart?.(total);
  let upgraded = 0;
  for (let pass = 0; pass < MAX_PASSES && upgraded < total; pass++) {
    let afterId = '';
    for (;;) {
      const batch = await store.upgradeBatch(afterId, options.batchSize);
      if (batch.lastId === null) break;
      upgraded += batch.upgraded;
      afterId = batch.lastId;
      options.onProgress?.({ total, upgraded });
    }
    if ((await store.countOutdated()) === 0) break;
  }
  return { upgraded, remaining: await store.countOutdated() };
}
