// Token-bucket arithmetic shared by the stores: a bucket holds at most `capacity` tokens (the burst),
// gains `refillPerSecond` tokens per second, and each request takes one. The in-memory store runs
// `takeToken` directly; the Redis store runs the same steps in Lua (redis-store.ts) and reads the
// outcome back through `decide`.

export interface BucketPolicy {
  /** The most tokens a bucket holds: the burst a caller may send at once. */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
}

export interface BucketState {
  readonly tokens: number;
  /** When `tokens` was computed, in milliseconds. */
  readonly updatedMs: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  readonly resetSeconds: number;
  /** Seconds until one token is back, at least 1 (Retry-After); 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/** A missing bucket is a full one: that is what lets stores drop idle buckets. */
export function refill(state: BucketState | undefined, policy: BucketPolicy, nowMs: number): number {
  if (!state) return policy.capacity;
  const elapsedSeconds = Math.max(0, nowMs - state.updatedMs) / 1000;
  return Math.min(policy.capacity, state.tokens + elapsedSeconds * policy.refillPerSecond);
}

/** Refill, then take one token if there is one. */
export function takeToken(
  state: BucketState | undefined,
  policy: BucketPolicy,
  nowMs: number,
): { state: BucketState; decision: Decision } {
  const available = refill(state, policy, nowMs);
  const allowed = available >= 1;
  const tokens = allowed ? available - 1 : available;
  return { state: { tokens, updatedMs: nowMs }, decision: decide(allowed, tokens, policy) };
}

/** The answer's numbers from the tokens left after the request. */
export function decide(allowed: boolean, tokens: number, policy: BucketPolicy): Decision {
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    resetSeconds: Math.max(0, Math.ceil((policy.capacity - tokens) / policy.refillPerSecond)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / policy.refillPerSecond)),
  };
}

/** Milliseconds after which an untouched bucket is full again, so forgetting it changes nothing. */
export function msUntilFull(tokens: number, policy: BucketPolicy): number {
  return Math.ceil(((policy.capacity - tokens) / policy.refillPerSecond) * 1000);
}

/** Where buckets live: one process's memory, or Redis shared by every instance. */
export interface BucketStore {
  take(key: string, policy: BucketPolicy): Promise<Decision>;
  close(): Promise<void>;
}
