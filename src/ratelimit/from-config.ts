// The service's rate limiter from its configuration: Redis when REDIS_URL is set, else memory;
// none when RATE_LIMIT_ENABLED=false.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Metrics } from '../observability/metrics.ts';
import { RateLimiter } from './limiter.ts';
import { MemoryBucketStore } from './memory-store.ts';
import type { RedisBucketStore } from './redis-store.ts';

export type RateLimitConfig = Pick<
  Config,
  'rateLimitEnabled' | 'rateLimits' | 'rateLimitWindowSeconds' | 'redisUrl' | 'rateLimitKeyPrefix' | 'redisTimeoutMs'
>;

export async function createRateLimiter(
  config: RateLimitConfig,
  logger: Logger,
  metrics: Metrics,
): Promise<RateLimiter | null> {
  if (!config.rateLimitEnabled) return null;
  let limiter: RateLimiter | undefined;
  let redis: RedisBucketStore | undefined;
  if (config.redisUrl) {
    // Loaded only when used, so ioredis does not slow every CLI command's start.
    const { RedisBucketStore } = await import('./redis-store.ts');
    redis = new RedisBucketStore({
      url: config.redisUrl,
      keyPrefix: config.rateLimitKeyPrefix,
      timeoutMs: config.redisTimeoutMs,
      onError: (error) =>
        limiter?.warn(
          error,
          'rate-limit Redis connection failed: requests are served without a limit until it is back',
        ),
    });
  }
  limiter = new RateLimiter({
    store: redis ?? new MemoryBucketStore(),
    limits: config.rateLimits,
    windowSeconds: config.rateLimitWindowSeconds,
    logger,
    onStoreFailure: () => metrics.observeRateLimitStoreFailure(),
    onLimited: (limitClass) => metrics.observeRateLimited(limitClass),
  });
  await redis?.connect();
  logger.info(
    { store: redis ? 'redis' : 'memory', limits: config.rateLimits, window_seconds: config.rateLimitWindowSeconds },
    'rate limits',
  );
  return limiter;
}
