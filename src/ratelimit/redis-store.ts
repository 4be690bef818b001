// Buckets in Redis (REDIS_URL), so every instance shares one budget per caller. One Lua script does
// refill and take atomically, on Redis's own clock (TIME), so instances with skewed clocks agree;
// each key expires once its bucket would be full again, so idle callers cost nothing.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { decide, type BucketPolicy, type BucketStore, type Decision } from './token-bucket.ts';

// KEYS[1] bucket; ARGV[1] capacity, ARGV[2] tokens per second. Returns {allowed (0|1), tokens left}.
// Tokens go back as a string: Redis would truncate a Lua number to an integer.
const TAKE_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(saved[1])
local updated = tonumber(saved[2])
if tokens == nil or updated == nil then
  tokens = capacity
else
  tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate / 1000)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ms', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

export interface RedisStoreOptions {
  readonly url: string;
  /** Prepended to every key, so deployments (and tests) sharing a Redis stay apart. */
  readonly keyPrefix: string;
  /** Longest a connect or a command may take; past it the request is served unlimited. */
  readonly timeoutMs: number;
  /** Connection errors, reported as they happen (the client keeps reconnecting in the background). */
  readonly onError: (error: Error) => void;
}

export class RedisBucketStore implements BucketStore {
  private readonly redis: Redis;
  private readonly keyPrefix: string;

  constructor(options: RedisStoreOptions) {
    this.keyPrefix = options.keyPrefix;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      // While disconnected, commands fail at once instead of queueing: a dead Redis never stalls a request.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.timeoutMs,
      commandTimeout: options.timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.redis.on('error', options.onError);
  }

  /** Waits for the first connection, at most the timeout; a failure is reported, not thrown. */
  async connect(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
  }

  async take(key: string, policy: BucketPolicy): Promise<Decision> {
    const args = [`${this.keyPrefix}${key}`, String(policy.capacity), String(policy.refillPerSecond)];
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_SHA, 1, ...args);
    } catch (error) {
      // The first call on a Redis that has not seen the script yet (or after a restart / SCRIPT FLUSH).
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.redis.eval(TAKE_SCRIPT, 1, ...args);
    }
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
    const tokens = Number(reply[1]);
    if (!Number.isFinite(tokens)) throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
    return decide(reply[0] === 1, tokens, policy);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
