// The Idempotency-Key rows in PostgreSQL, shared by every instance: claim a key before its request
// runs, store the answer after, replay it to a retry, and purge keys past their time.
//
// Claim first, complete after: the writes a request makes run in their own transactions (one per
// item in a non-atomic batch) and its answer (envelope, ETag) exists only after they commit, so the
// answer cannot share their transaction. The claim row makes a second request with the key wait
// its turn (409) instead of running again; it lapses when its request died (a lease, renewed while
// the request runs), so a retry after a crash is run rather than refused forever.
import type { Logger } from 'pino';
import { sql, type CommonQueryMethods } from 'slonik';
import { generateId } from '../db/records.ts';
import { runNowAndEvery } from '../db/periodic.ts';
import { IDEMPOTENCY_ENTITY, type IdempotencyState } from './idempotency-entity.ts';

const TABLE = sql.identifier([IDEMPOTENCY_ENTITY.table]);

/** What a request under a key is, for telling a retry from another request. */
export interface KeyedRequest {
  readonly scope: string;
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly fingerprint: string;
}

export interface StoredAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The row already holding a key: the request it was claimed for and, when completed, its answer. */
export interface KeyHolder {
  readonly state: IdempotencyState;
  readonly method: string;
  readonly path: string;
  readonly fingerprint: string;
  readonly answer: StoredAnswer | null;
}

export type ClaimResult =
  | { readonly claimed: true; readonly claim: string }
  | { readonly claimed: false; readonly holder: KeyHolder };

export interface KeyStoreOptions {
  /** How long a key is remembered after its request began. */
  readonly ttlSeconds: number;
  /** How long an in-progress claim holds without renewal before a retry may take it over. */
  readonly leaseSeconds: number;
}

interface HolderRow {
  readonly state: IdempotencyState;
  readonly method: string;
  readonly path: string;
  readonly fingerprint: string;
  readonly status: number | null;
  readonly headers: Record<string, string> | null;
  readonly body: string | null;
}

export class IdempotencyKeys {
  constructor(
    private readonly db: CommonQueryMethods,
    private readonly options: KeyStoreOptions,
  ) {}

  get leaseSeconds(): number {
    return this.options.leaseSeconds;
  }

  /**
   * Claims the key for this request, in one statement so two instances cannot both win. A key
   * past its time, or an in-progress claim whose lease lapsed (its request died) for the same
   * request, is taken over. Otherwise the row holding the key is returned.
   */
  async claim(request: KeyedRequest): Promise<ClaimResult> {
    const { ttlSeconds, leaseSeconds } = this.options;
    for (let attempt = 0; attempt < 3; attempt++) {
      const claim = generateId(IDEMPOTENCY_ENTITY.idPrefix);
      const won = await this.db.maybeOneFirst(sql.unsafe`
        INSERT INTO ${TABLE} AS k (id, schema_version, scope, key, method, path, fingerprint, state, claimed_at, locked_until, expires_at)
        VALUES (${claim}, ${IDEMPOTENCY_ENTITY.schemaVersion}, ${request.scope}, ${request.key}, ${request.method}, ${request.path}, ${request.fingerprint},
                'in_progress', now(), now() + make_interval(secs => ${leaseSeconds}), now() + make_interval(secs => ${ttlSeconds}))
        ON CONFLICT (scope, key) DO UPDATE SET
          id = EXCLUDED.id, method = EXCLUDED.method, path = EXCLUDED.path, fingerprint = EXCLUDED.fingerprint, state = 'in_progress',
          claimed_at = EXCLUDED.claimed_at, locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, status = NULL, headers = NULL, body = NULL
        WHERE k.expires_at <= now() OR (k.state = 'in_progress' AND k.locked_until <= now() AND k.fingerprint = EXCLUDED.fingerprint)
        RETURNING id`);
      if (won !== null) return { claimed: true, claim };
      const row = (await this.db.maybeOne(sql.unsafe`
        SELECT state, method, path, fingerprint, status::int4 AS status, headers, body FROM ${TABLE}
        WHERE scope = ${request.scope} AND key = ${request.key}`)) as HolderRow | null;
      // Released (its request failed) between the two statements: claim again.
      if (!row) continue;
      const answer =
        row.state === 'completed' && row.status !== null
          ? { status: row.status, headers: row.headers ?? {}, body: row.body ?? '' }
          : null;
      return {
        claimed: false,
        holder: { state: row.state, method: row.method, path: row.path, fingerprint: row.fingerprint, answer },
      };
    }
    throw new Error('the Idempotency-Key was claimed and released three times in a row');
  }

  /** Stores the answer of a claim's request; a claim taken over meanwhile is left to its new owner. */
  async complete(claim: string, answer: StoredAnswer): Promise<void> {
    await this.db.query(sql.unsafe`
      UPDATE ${TABLE} SET state = 'completed', locked_until = NULL, status = ${answer.status}, headers = ${sql.jsonb(answer.headers)}, body = ${answer.body}
      WHERE id = ${claim} AND state = 'in_progress'`);
  }

  /** Gives the key up (its request failed in a way a retry may fix), so a retry runs afresh. */
  async release(claim: string): Promise<void> {
    await this.db.query(sql.unsafe`DELETE FROM ${TABLE} WHERE id = ${claim} AND state = 'in_progress'`);
  }

  /** Extends a running request's claim by another lease. */
  async renew(claim: string): Promise<void> {
    await this.db.query(sql.unsafe`
      UPDATE ${TABLE} SET locked_until = now() + make_interval(secs => ${this.options.leaseSeconds})
      WHERE id = ${claim} AND state = 'in_progress'`);
  }
}

/** Deletes the keys past their time; how many. */
export async function purgeIdempotencyKeys(db: CommonQueryMethods): Promise<number> {
  const result = await db.query(sql.unsafe`DELETE FROM ${TABLE} WHERE expires_at <= now()`);
  return result.rowCount;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Purges now and hourly while the service runs; the returned function stops the timer. Keys past
 * their time are never replayed even before the purge (a claim takes them over).
 */
export async function scheduleIdempotencyPurge(db: CommonQueryMethods, logger: Logger): Promise<() => void> {
  const purge = async () => {
    try {
      const purged = await purgeIdempotencyKeys(db);
      if (purged > 0) logger.info({ purged }, 'expired idempotency keys purged');
    } catch (error) {
      logger.error({ err: error }, 'idempotency key purge failed; it runs again within the hour');
    }
  };
  return runNowAndEvery(HOUR_MS, purge);
}
