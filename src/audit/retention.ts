// AUDIT_RETENTION_DAYS at work in a running service: a purge at start, then one a day.
import type { Logger } from 'pino';
import type { DatabasePool } from '../db/pool.ts';
import { purgeAudit } from './audit-log.ts';
import { runNowAndEvery } from '../db/periodic.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Purges now and daily while the service runs; the returned function stops the timer. */
export async function scheduleAuditPurge(pool: DatabasePool, days: number, logger: Logger): Promise<() => void> {
  if (days <= 0) return () => undefined;
  const purge = async () => {
    try {
      const purged = await purgeAudit(pool, days);
      logger.info({ purged, retention_days: days }, 'audit entries purged');
    } catch (error) {
      logger.error({ err: error }, 'audit purge failed; it runs again tomorrow');
    }
  };
  return runNowAndEvery(DAY_MS, purge);
}
