// The rate limiter the API asks once per request: which policy a class of caller gets (from the
// per-role limits), its bucket's verdict, and failing open when the store (Redis) fails: the request
// is served, the failure counted, and a warning logged at most once a minute.
import type { Logger } from 'pino';
import type { Role } from '../auth/principal.ts';
import type { BucketPolicy, BucketStore, Decision } from './token-bucket.ts';

/** Whose limit applies: anonymous callers', or the highest role of an identified one. */
export type LimitClass = 'anonymous' | Role;

/** Requests allowed per window for each class; 0 means unlimited. */
export type RoleLimits = Readonly<Record<LimitClass, number>>;

export interface Verdict extends Decision {
  /** Requests per window, the bucket's burst (RateLimit-Limit). */
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RateLimiterOptions {
  readonly store: BucketStore;
  readonly limits: RoleLimits;
  readonly windowSeconds: number;
  readonly logger: Logger;
  /** Counts requests served without a limit because the store failed. */
  readonly onStoreFailure?: () => void;
  readonly onLimited?: (limitClass: LimitClass) => void;
}

const WARN_EVERY_MS = 60_000;

export class RateLimiter {
  private readonly options: RateLimiterOptions;
  private lastWarnMs = Number.NEGATIVE_INFINITY;
  private unreported = 0;

  constructor(options: RateLimiterOptions) {
    this.options = options;
  }

  /** The bucket for a class: burst = the limit, refilled evenly over the window; null when unlimited. */
  policy(limitClass: LimitClass): BucketPolicy | null {
    const limit = this.options.limits[limitClass];
    return limit > 0 ? { capacity: limit, refillPerSecond: limit / this.options.windowSeconds } : null;
  }

  /** Takes a token from `key`'s bucket; null when the class is unlimited or the store failed (fail open). */
  async check(key: string, limitClass: LimitClass): Promise<Verdict | null> {
    const policy = this.policy(limitClass);
    if (!policy) return null;
    let decision: Decision;
    try {
      decision = await this.options.store.take(key, policy);
    } catch (error) {
      this.options.onStoreFailure?.();
      this.warn(error, 'rate-limit store failed: request served without a limit');
      return null;
    }
    if (!decision.allowed) this.options.onLimited?.(limitClass);
    return { ...decision, limit: policy.capacity, windowSeconds: this.options.windowSeconds };
  }

  /** A store problem, logged at most once a minute with how many were not logged since. */
  warn(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastWarnMs < WARN_EVERY_MS) {
      this.unreported += 1;
      return;
    }
    this.options.logger.warn({ err: error, unreported_since_last: this.unreported }, message);
    this.lastWarnMs = now;
    this.unreported = 0;
  }

  close(): Promise<void> {
    return this.options.store.close();
  }
}
