// Read-your-writes across read replicas (db/replicas.ts). A write's answer carries
// `Reelmeta-Consistency: <WAL position>`, the primary's position once it committed; a read that
// sends that header back is served only by a replica that has replayed it, else by the primary.
// A read without it may be served by any replica in rotation (at most REPLICA_MAX_LAG_MS behind).
import type { MiddlewareHandler } from 'hono';
import { sql, type DatabasePool } from 'slonik';
import { allowReplicaReads } from '../db/request-scope.ts';
import { formatLsn, parseLsn } from '../db/replicas.ts';
import { ApiError } from '../records/errors.ts';

export const CONSISTENCY_HEADER = 'Reelmeta-Consistency';

const READS = new Set(['GET', 'HEAD']);

export function readYourWrites(pool: DatabasePool): MiddlewareHandler {
  return async (c, next) => {
    if (READS.has(c.req.method)) {
      const token = c.req.header(CONSISTENCY_HEADER);
      let afterLsn: bigint | undefined;
      if (token !== undefined) {
        try {
          afterLsn = parseLsn(token);
        } catch {
          throw ApiError.single(
            400,
            'INVALID_HEADER',
            `${CONSISTENCY_HEADER} must be a WAL position as a write's answer gave it, e.g. 0/3000148 (got "${token.slice(0, 40)}")`,
            CONSISTENCY_HEADER,
          );
        }
      }
      allowReplicaReads(afterLsn);
      return next();
    }
    await next();
    if (c.res.status >= 400) return;
    // After the commit: the position covers the write. A failure here loses only the token.
    const position = await pool.oneFirst(sql.unsafe`SELECT pg_current_wal_lsn()::text`).catch(() => undefined);
    if (typeof position === 'string') c.header(CONSISTENCY_HEADER, formatLsn(parseLsn(position)));
  };
}
