// `metadata.total` without counting millions of rows on every page (directus/directus#14796):
// exact when there are at most EXACT_COUNT_LIMIT matches, otherwise the planner's estimate. A
// bounded count that was slow (thousands of scattered matches to visit) is kept for a few
// seconds and reused, flagged as an estimate, so paging through such a list does not pay it on
// every page.
import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import type { CountMode } from '../query/ast.ts';

export const EXACT_COUNT_LIMIT = 10_000;
/**
 * Above this estimate the exact count is not even tried (a bounded count still reads up to
 * 10,001 rows); below it, a bounded count decides. Planner estimates are rarely off by 2x.
 */
const TRUSTED_ESTIMATE = 2 * EXACT_COUNT_LIMIT;

/** A bounded count that took at least this long is reused for SLOW_COUNT_TTL_MS. */
export const SLOW_COUNT_MS = 50;
export const SLOW_COUNT_TTL_MS = 10_000;
/** Query shapes (SQL text and values) whose slow counts are kept at once. */
const SLOW_COUNTS_KEPT = 1000;

/** Slow bounded counts by query, oldest first (a Map keeps insertion order). */
const slowCounts = new Map<string, { count: number; until: number }>();

function keptCount(key: string, now: number): number | undefined {
  const kept = slowCounts.get(key);
  if (kept === undefined) return undefined;
  if (kept.until > now) return kept.count;
  slowCounts.delete(key);
  return undefined;
}

function keepCount(key: string, count: number, now: number): void {
  slowCounts.delete(key);
  if (slowCounts.size >= SLOW_COUNTS_KEPT) slowCounts.delete(slowCounts.keys().next().value!);
  slowCounts.set(key, { count, until: now + SLOW_COUNT_TTL_MS });
}

/** Bounded counts being run, by query. */
const inFlight = new Map<string, Promise<number>>();

/** Forgets the kept counts: after every committed write transaction (work.ts). */
export const forgetSlowCounts = (): void => slowCounts.clear();

export interface Total {
  readonly total: number;
  readonly isEstimate: boolean;
}

export async function estimateMatches(
  db: CommonQueryMethods,
  table: FragmentSqlToken,
  where: FragmentSqlToken,
): Promise<number> {
  const plan = (await db.oneFirst(sql.unsafe`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} ${where}`)) as {
    Plan: { 'Plan Rows': number };
  }[];
  return Math.round(plan[0]?.Plan['Plan Rows'] ?? 0);
}

/** Counts matches, but stops one past the exact-count limit. */
export function boundedCountSql(table: FragmentSqlToken, where: FragmentSqlToken) {
  return sql.unsafe`SELECT count(*) FROM (SELECT 1 FROM ${table} ${where} LIMIT ${EXACT_COUNT_LIMIT + 1}) AS matches`;
}

/**
 * `pageTotal`: the number of matches when the page query already shows it (a first page, or an
 * offset page, with room to spare: every match is on it or before it), else undefined. An exact
 * or automatic count then runs no count at all, and the planner's estimate is not used.
 */
export async function countMatches(
  db: CommonQueryMethods,
  table: FragmentSqlToken,
  where: FragmentSqlToken,
  mode: CountMode,
  pageTotal: Promise<number | undefined> = Promise.resolve(undefined),
): Promise<Total | undefined> {
  switch (mode) {
    case 'none':
      return undefined;
    case 'exact': {
      const seen = await pageTotal;
      if (seen !== undefined) return { total: seen, isEstimate: false };
      return {
        total: (await db.oneFirst(sql.unsafe`SELECT count(*) FROM ${table} ${where}`)) as number,
        isEstimate: false,
      };
    }
    case 'estimated':
      return { total: await estimateMatches(db, table, where), isEstimate: true };
    case 'auto': {
      // Nothing more to ask when the page shows the total (a short list: an episode's clips, a
      // lookup by id). Otherwise the estimate, then a bounded count only when the estimate is low.
      // Waiting for the page first costs a full page one round trip, and spares every short one a
      // second query and a second pool connection.
      const seen = await pageTotal;
      if (seen !== undefined) return { total: seen, isEstimate: false };
      const estimate = await estimateMatches(db, table, where);
      if (estimate > TRUSTED_ESTIMATE) return { total: estimate, isEstimate: true };
      const query = boundedCountSql(table, where);
      const key = `${query.sql}\u0000${JSON.stringify(query.values)}`;
      const started = Date.now();
      // Counted a moment ago (by this process): it may have moved since, so it is an estimate now.
      const kept = keptCount(key, started);
      if (kept !== undefined)
        return { total: Math.max(kept, kept > EXACT_COUNT_LIMIT ? estimate : 0), isEstimate: true };
      // Identical counts running at once share one (countMatches reads through the pool, never a transaction).
      const shared = inFlight.get(key);
      let bounded: number;
      if (shared) {
        // The request that started it may be cancelled (its client went away): then count here.
        bounded = await shared.catch(async () => (await db.oneFirst(query)) as number);
      } else {
        const running = db.oneFirst(query).then((n) => n as number);
        inFlight.set(key, running);
        try {
          bounded = await running;
        } finally {
          inFlight.delete(key);
        }
      }
      const finished = Date.now();
      if (finished - started >= SLOW_COUNT_MS) keepCount(key, bounded, finished);
      return bounded <= EXACT_COUNT_LIMIT
        ? { total: bounded, isEstimate: false }
        : { total: Math.max(estimate, bounded), isEstimate: true };
    }
  }
}
