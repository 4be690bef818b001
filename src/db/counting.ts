// `metadata.total` without counting millions of rows on every page (directus/directus#14796):
// exact when there are at most EXACT_COUNT_LIMIT matches, otherwise the planner's estimate.
import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import type { CountMode } from '../query/ast.ts';

export const EXACT_COUNT_LIMIT = 10_000;
/**
 * Above this estimate the exact count is not even tried (a bounded count still reads up to
 * 10,001 rows); below it, a bounded count decides. Planner estimates are rarely off by 2x.
 */
const TRUSTED_ESTIMATE = 2 * EXACT_COUNT_LIMIT;

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

export async function countMatches(
  db: CommonQueryMethods,
  table: FragmentSqlToken,
  where: FragmentSqlToken,
  mode: CountMode,
): Promise<Total | undefined> {
  switch (mode) {
    case 'none':
      return undefined;
    case 'exact':
      return {
        total: (await db.oneFirst(sql.unsafe`SELECT count(*) FROM ${table} ${where}`)) as number,
        isEstimate: false,
      };
    case 'estimated':
      return { total: await estimateMatches(db, table, where), isEstimate: true };
    case 'auto': {
      const estimate = await estimateMatches(db, table, where);
      if (estimate > TRUSTED_ESTIMATE) return { total: estimate, isEstimate: true };
      const bounded = (await db.oneFirst(boundedCountSql(table, where))) as number;
      return bounded <= EXACT_COUNT_LIMIT
        ? { total: bounded, isEstimate: false }
        : { total: Math.max(estimate, bounded), isEstimate: true };
    }
  }
}
