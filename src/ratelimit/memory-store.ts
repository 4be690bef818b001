// Buckets in this process's memory (no REDIS_URL): a Map refilled lazily on each request. Its size
// is bounded: past `maxBuckets`, buckets that are full again are dropped (a missing bucket is a full
// one), then the least recently used, so a flood of client addresses cannot grow it without end.
import {
  msUntilFull,
  takeToken,
  type BucketPolicy,
  type BucketState,
  type BucketStore,
  type Decision,
} from './token-bucket.ts';

export interface MemoryStoreOptions {
  readonly maxBuckets?: number;
  /** Milliseconds; tests pass a fake clock. */
  readonly now?: () => number;
}

interface Entry extends BucketState {
  /** When this bucket is full again and so may be forgotten. */
  readonly fullAtMs: number;
}

export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, Entry>();
  private readonly maxBuckets: number;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxBuckets = options.maxBuckets ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  async take(key: string, policy: BucketPolicy): Promise<Decision> {
    const now = this.now();
    const previous = this.buckets.get(key);
    const { state, decision } = takeToken(previous, policy, now);
    // Delete then set: Map order is insertion order, so the first entries are the least recently used.
    if (previous) this.buckets.delete(key);
    else if (this.buckets.size >= this.maxBuckets) this.makeRoom(now);
    this.buckets.set(key, { ...state, fullAtMs: now + msUntilFull(state.tokens, policy) });
    return decision;
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }

  private makeRoom(now: number): void {
    for (const [key, entry] of this.buckets) if (entry.fullAtMs <= now) this.buckets.delete(key);
    // Still full of active buckets: forget the least recently used tenth at once, so this scan is rare.
    if (this.buckets.size < this.maxBuckets) return;
    let drop = Math.max(1, Math.floor(this.maxBuckets / 10));
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
