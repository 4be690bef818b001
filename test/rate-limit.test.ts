// Rate limiting (NFR-15): a token bucket per caller (client address when anonymous, else the
// subject) sized by role; RateLimit-* headers on every /api answer, 429 RATE_LIMITED with
// Retry-After when empty; buckets in memory, or in Redis shared by every instance; fail open when
// Redis is gone.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitRequests } from '../src/api/rate-limit.ts';
import type { Principal } from '../src/auth/principal.ts';
import type { Config } from '../src/config.ts';
import { RateLimiter, type LimitClass, type RoleLimits } from '../src/ratelimit/limiter.ts';
import { loadConfig } from '../src/config.ts';
import { ROLES } from '../src/registry/model.ts';
import { MemoryBucketStore } from '../src/ratelimit/memory-store.ts';
import { RedisBucketStore } from '../src/ratelimit/redis-store.ts';
import { takeToken, type BucketStore } from '../src/ratelimit/token-bucket.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';
import { shippedModel } from './support/fixtures.ts';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });
const limits = (anonymous: number, roles: Partial<RoleLimits> = {}): RoleLimits => ({
  anonymous,
  viewer: 0,
  editor: 0,
  admin: 0,
  ...roles,
});
const uniquePrefix = () => `reelmeta:test:${randomBytes(6).toString('hex')}:`;

let db: TestDatabase;
const services: TestService[] = [];

async function start(overrides: Partial<Config>): Promise<TestService> {
  const service = await startTestService({ databaseUrl: db.url, rateLimitEnabled: true, ...overrides });
  services.push(service);
  return service;
}

async function metricsText(service: TestService): Promise<string> {
  return (await fetch(`${service.url}/metrics`)).text();
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const service of services) await service.stop();
  await db?.drop();
});

describe('token bucket arithmetic', () => {
  const policy = { capacity: 3, refillPerSecond: 1 };

  it('starts full, takes one token per request, refuses when empty and says when one is back', () => {
    let state: Parameters<typeof takeToken>[0];
    const remaining: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const step = takeToken(state, policy, 1000);
      expect(step.decision.allowed).toBe(true);
      remaining.push(step.decision.remaining);
      state = step.state;
    }
    expect(remaining).toEqual([2, 1, 0]);
    const refused = takeToken(state, policy, 1000);
    expect(refused.decision).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 3 });
    // 1.5 s later one and a half tokens are back: one request passes, half a token is left.
    const later = takeToken(refused.state, policy, 2500);
    expect(later.decision).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 3 });
    expect(later.state.tokens).toBeCloseTo(0.5);
    // Never more than the capacity, however long the bucket sat idle.
    expect(takeToken(later.state, policy, 1_000_000).decision.remaining).toBe(2);
  });
});

describe('default limits (seed NFR-2)', () => {
  /** How many of `seconds` × `perSecond` evenly spaced requests from one caller the defaults refuse. */
  const refusedAt = async (limitClass: LimitClass, perSecond: number, seconds: number) => {
    const config = loadConfig({});
    let now = 0;
    const limiter = new RateLimiter({
      store: new MemoryBucketStore({ now: () => now }),
      limits: config.rateLimits,
      windowSeconds: config.rateLimitWindowSeconds,
      logger: silent,
    });
    let refused = 0;
    for (let i = 0; i < perSecond * seconds; i += 1) {
      now = (i * 1000) / perSecond;
      const verdict = await limiter.check('caller', limitClass);
      if (verdict && !verdict.allowed) refused += 1;
    }
    return refused;
  };

  it('let one identified service of any role sustain 100 requests a second, and hold anonymous callers lower', async () => {
    for (const role of ROLES) expect(await refusedAt(role, 100, 600), role).toBe(0);
    // Anonymous callers (every caller with authentication off) are held to 20 a second past their burst.
    const anonymous = await refusedAt('anonymous', 100, 600);
    expect(anonymous).toBeGreaterThan(100 * 600 - (1200 + 20 * 600) - 5);
    expect(await refusedAt('anonymous', 20, 600)).toBe(0);
  });
});

describe('in-memory store size', () => {
  const policy = { capacity: 1, refillPerSecond: 1 };

  it('forgets buckets that are full again once it reaches its bound', async () => {
    let now = 0;
    const store = new MemoryBucketStore({ maxBuckets: 10, now: () => now });
    for (let i = 0; i < 10; i += 1) await store.take(`k${i}`, policy);
    expect(store.size).toBe(10);
    now = 5_000; // every bucket is full again
    await store.take('new', policy);
    expect(store.size).toBe(1);
  });

  it('forgets the least recently used buckets when all are active, and keeps the recent ones', async () => {
    const store = new MemoryBucketStore({ maxBuckets: 10, now: () => 0 });
    for (let i = 0; i < 10; i += 1) await store.take(`k${i}`, policy);
    await store.take('k0', policy); // k0 is now the most recently used (and empty)
    await store.take('new', policy);
    expect(store.size).toBeLessThanOrEqual(10);
    expect((await store.take('k0', policy)).allowed).toBe(false); // still remembered: still empty
    expect((await store.take('k1', policy)).allowed).toBe(true); // the oldest was forgotten
  });
});

describe('in-memory limits on a running service', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await start({ rateLimits: limits(5), rateLimitWindowSeconds: 60 });
  });

  it('counts down RateLimit-Remaining, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 5; i += 1) {
      const reply = await service.request('GET', '/api/v1/shows');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('ratelimit-limit')).toBe('5');
      expect(reply.headers.get('ratelimit-policy')).toBe('5;w=60');
      expect(Number(reply.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      remaining.push(reply.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const limited = await service.request('GET', '/api/v1/shows');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(12); // one token every 12 s
    expect(limited.body.data).toBeNull();
    expect(limited.body.errors).toHaveLength(1);
    expect(limited.body.errors[0]).toMatchObject({ code: 'RATE_LIMITED', field: null });
    expect(limited.body.errors[0]!.message).toMatch(/5 requests per 60 s.*retry in \d+ s/);

    // Writes and unknown /api paths take from the same bucket.
    expect((await service.request('POST', '/api/v1/shows', { body: { title: 'Too many' } })).status).toBe(429);
    expect((await service.request('GET', '/api/v1/no-such-entity')).status).toBe(429);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is on', async () => {
    const reply = await service.request('GET', '/api/v1/shows', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(reply.status).toBe(429);
  });

  it('never limits /health, /ready, /metrics, /openapi.json or /docs', async () => {
    for (let i = 0; i < 8; i += 1) {
      for (const path of ['/health', '/ready', '/metrics', '/openapi.json', '/docs']) {
        const reply = await fetch(`${service.url}${path}`);
        await reply.arrayBuffer();
        expect(reply.status, path).toBe(200);
        expect(reply.headers.get('ratelimit-limit'), path).toBeNull();
      }
    }
  });

  it('counts limited requests by role in /metrics', async () => {
    expect(await metricsText(service)).toMatch(/^http_requests_rate_limited_total\{role="anonymous"\} [4-9]$/m);
  });
});

describe('separate budgets (TRUST_PROXY)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await start({ rateLimits: limits(3), rateLimitWindowSeconds: 60, trustProxy: true });
  });
  const from = (address: string) => ({ headers: { 'x-forwarded-for': `${address}, 10.0.0.1` } });

  it("gives each client address its own bucket, keyed on X-Forwarded-For's first entry", async () => {
    for (let i = 0; i < 3; i += 1)
      expect((await service.request('GET', '/api/v1/shows', from('198.51.100.1'))).status).toBe(200);
    const limited = await service.request('GET', '/api/v1/shows', from('198.51.100.1'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const other = await service.request('GET', '/api/v1/shows', from('198.51.100.2'));
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('2');
  });
});

describe('refill', () => {
  let service: TestService;
  beforeAll(async () => {
    // 2 per 2 seconds: one token back every second.
    service = await start({ rateLimits: limits(2), rateLimitWindowSeconds: 2 });
  });

  it('gives a token back once Retry-After has passed', async () => {
    // Spend until refused (a slow machine may see a token come back on the way), then wait it out.
    let limited: Awaited<ReturnType<TestService['request']>> | undefined;
    for (let i = 0; i < 20 && !limited; i += 1) {
      const reply = await service.request('GET', '/api/v1/shows');
      if (reply.status === 429) limited = reply;
    }
    expect(limited?.status).toBe(429);
    expect(limited!.headers.get('retry-after')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const again = await service.request('GET', '/api/v1/shows');
    expect(again.status).toBe(200);
  });
});

describe('store failures', () => {
  it('serve the request, count every failure and log one warning a minute', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    let failures = 0;
    const broken: BucketStore = {
      take: () => Promise.reject(new Error('store down')),
      close: () => Promise.resolve(),
    };
    const limiter = new RateLimiter({
      store: broken,
      limits: limits(1),
      windowSeconds: 60,
      logger,
      onStoreFailure: () => (failures += 1),
    });
    for (let i = 0; i < 5; i += 1) expect(await limiter.check('ip:192.0.2.1', 'anonymous')).toBeNull();
    expect(failures).toBe(5);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: expect.stringContaining('without a limit') });
  });
});

describe('limits by principal', () => {
  // An app with only the rate limiter, and a stand-in for the authentication middleware that
  // puts the principal named by test headers on the context.
  const model = shippedModel();
  const limiter = new RateLimiter({
    store: new MemoryBucketStore(),
    limits: limits(2, { viewer: 3, editor: 4, admin: 0 }),
    windowSeconds: 60,
    logger: silent,
  });
  const app = new Hono();
  app.use(async (c, next) => {
    const subject = c.req.header('x-test-subject');
    if (subject)
      c.set('principal', {
        subject,
        roles: (c.req.header('x-test-roles') ?? '').split(',').filter(Boolean) as Principal['roles'],
        anonymous: false,
      } satisfies Principal);
    await next();
  });
  app.use('/api/*', limitRequests(model, { limiter, trustProxy: false }));
  app.get('/api/ping', (c) => c.text('pong'));
  const as = (subject: string, roles: string) => ({ headers: { 'x-test-subject': subject, 'x-test-roles': roles } });

  it("keys on the subject and applies the limit of the principal's highest role", async () => {
    const editor = await app.request('/api/ping', as('user-1', 'viewer,editor'));
    expect(editor.status).toBe(200);
    expect(editor.headers.get('ratelimit-limit')).toBe('4');
    expect(editor.headers.get('ratelimit-remaining')).toBe('3');
    const viewer = await app.request('/api/ping', as('user-2', 'viewer'));
    expect(viewer.headers.get('ratelimit-limit')).toBe('3');
    expect(viewer.headers.get('ratelimit-remaining')).toBe('2'); // another subject, another bucket
    for (let i = 0; i < 2; i += 1) expect((await app.request('/api/ping', as('user-2', 'viewer'))).status).toBe(200);
    expect((await app.request('/api/ping', as('user-2', 'viewer'))).status).toBe(429);
    expect((await app.request('/api/ping', as('user-1', 'editor'))).status).toBe(200);
  });

  it('leaves a role with limit 0 unlimited, without RateLimit headers', async () => {
    for (let i = 0; i < 10; i += 1) {
      const reply = await app.request('/api/ping', as('root', 'viewer,admin'));
      expect(reply.status).toBe(200);
      expect(reply.headers.get('ratelimit-limit')).toBeNull();
    }
  });

  it('treats a request without a principal as anonymous', async () => {
    const reply = await app.request('/api/ping');
    expect(reply.headers.get('ratelimit-limit')).toBe('2');
  });
});

describe('turned off', () => {
  it('with RATE_LIMIT_ENABLED=false never answers 429 and sends no RateLimit headers', async () => {
    const service = await start({ rateLimitEnabled: false, rateLimits: limits(1) });
    for (let i = 0; i < 5; i += 1) {
      const reply = await service.request('GET', '/api/v1/shows');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('ratelimit-limit')).toBeNull();
    }
  });
});

describe('Redis shared by instances', () => {
  const prefix = uniquePrefix();
  let redis: Redis;
  let a: TestService;
  let b: TestService;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect().catch((error: Error) => {
      throw new Error(`these tests need a Redis at ${REDIS_URL} (set REDIS_URL): ${error.message}`);
    });
    const shared = {
      redisUrl: REDIS_URL,
      rateLimitKeyPrefix: prefix,
      rateLimits: limits(6),
      rateLimitWindowSeconds: 60,
    };
    [a, b] = await Promise.all([start(shared), start(shared)]);
  });
  afterAll(async () => {
    if (redis.status !== 'ready') return redis.disconnect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('shares one budget between two instances: the request past it is 429 on either', async () => {
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 6; i += 1) {
      const reply = await (i % 2 === 0 ? a : b).request('GET', '/api/v1/shows');
      expect(reply.status).toBe(200);
      remaining.push(reply.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['5', '4', '3', '2', '1', '0']);
    for (const service of [a, b]) {
      const limited = await service.request('GET', '/api/v1/shows');
      expect(limited.status).toBe(429);
      expect(limited.body.errors[0]!.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps each bucket under the prefix, expiring once it would be full again', async () => {
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toEqual([`${prefix}ip:127.0.0.1`]);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(61_000);
  });

  it('leaves an instance with another key prefix its own budget', async () => {
    const c = await start({
      redisUrl: REDIS_URL,
      rateLimitKeyPrefix: uniquePrefix(),
      rateLimits: limits(6),
      rateLimitWindowSeconds: 60,
    });
    const reply = await c.request('GET', '/api/v1/shows');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('ratelimit-remaining')).toBe('5');
    await c.stop();
    services.splice(services.indexOf(c), 1);
  });

  it('runs the script again after Redis forgot it (SCRIPT FLUSH)', async () => {
    const store = new RedisBucketStore({
      url: REDIS_URL,
      keyPrefix: uniquePrefix(),
      timeoutMs: 1000,
      onError: () => undefined,
    });
    await store.connect();
    try {
      await redis.script('FLUSH');
      const policy = { capacity: 2, refillPerSecond: 0.001 };
      expect((await store.take('k', policy)).remaining).toBe(1);
      expect((await store.take('k', policy)).remaining).toBe(0);
      expect((await store.take('k', policy)).allowed).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe('Redis unreachable', () => {
  it('serves requests without a limit, quickly, and counts the failures', async () => {
    const port = await closedPort();
    const started = performance.now();
    const service = await start({ redisUrl: `redis://127.0.0.1:${port}`, rateLimits: limits(2) });
    expect(performance.now() - started).toBeLessThan(10_000);
    for (let i = 0; i < 5; i += 1) {
      const before = performance.now();
      const reply = await service.request('GET', '/api/v1/shows');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('ratelimit-limit')).toBeNull();
      expect(performance.now() - before).toBeLessThan(5_000); // generous: a stall would wait for Redis forever
    }
    expect(await metricsText(service)).toMatch(/^rate_limit_store_failures_total 5$/m);
  });
});

/** A local port nothing listens on: bound once, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
