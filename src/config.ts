// Configuration comes from environment variables only; every one has a documented default
// (README, "Environment variables").
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RoleLimits } from './ratelimit/limiter.ts';

/** The nearest folder at or above `start` that holds a package.json. */
function packageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${start} or above`);
  }
}

// Found by walking up, not a fixed '..': this module runs as src/config.ts and, compiled, as dist/src/config.js.
export const PROJECT_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

export interface Config {
  readonly port: number;
  readonly host: string;
  /** When unset, an embedded PostgreSQL runs in dataDir. */
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly registryDir: string;
  readonly generatedDir: string;
  readonly migrationsDir: string;
  readonly migrateOnStart: boolean;
  readonly poolSize: number;
  /** Longest a request waits for a database connection (free or newly opened) before it answers 503. */
  readonly dbConnectTimeoutMs: number;
  /** How many times in a row a dead embedded PostgreSQL is started again before the server exits. */
  readonly embeddedDbRestarts: number;
  /** Longest a single query may run before PostgreSQL cancels it (the request answers 503). */
  readonly statementTimeoutMs: number;
  /** Longest a request under /api may work; past it, it answers 503 REQUEST_TIMEOUT and its transaction rolls back. */
  readonly requestTimeoutMs: number;
  /** How long a shutdown waits for in-flight requests before it closes their connections. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** Days a guest session lasts when not given (seed 8.9). */
  readonly guestSessionDays: number;
  /** Audit entries older than this many days are purged (critical ones kept); 0 keeps all. */
  readonly auditRetentionDays: number;
  /** How long an Idempotency-Key is remembered (its answer replayed) after its first request. */
  readonly idempotencyKeyTtlSeconds: number;
  /** `off` serves every request as an admin (local use only); `cognito` requires a verified JWT. */
  readonly authMode: AuthMode;
  readonly cognito: CognitoSettings;
  /** Off: /api answers carry no RateLimit headers and are never 429. */
  readonly rateLimitEnabled: boolean;
  /** Requests per window for anonymous callers and each role (burst = the same number); 0 is unlimited. */
  readonly rateLimits: RoleLimits;
  readonly rateLimitWindowSeconds: number;
  /** Rate-limit buckets shared by every instance; unset keeps them in this process's memory. */
  readonly redisUrl?: string;
  readonly rateLimitKeyPrefix: string;
  /** Longest a Redis connect or command may take before the request is served without a limit. */
  readonly redisTimeoutMs: number;
  /** Take the client address from X-Forwarded-For's first entry (only behind a proxy that sets it). */
  readonly trustProxy: boolean;
  readonly s3: S3Settings;
  readonly jobs: JobSettings;
}

export interface S3Settings {
  /** Unset: the embedded S3-compatible server runs with its files in DATA_DIR/s3. */
  readonly endpoint?: string;
  readonly region: string;
  /** Uploads land here; s3_uri media fields point into it. */
  readonly bucket: string;
  /** Generated thumbnails (seed 8.12: a separate bucket). */
  readonly thumbnailBucket: string;
  readonly forcePathStyle: boolean;
  /** How long a presigned PUT or GET URL works. */
  readonly presignExpiresSeconds: number;
  /** The embedded server's port; 0 picks a free one. */
  readonly embeddedPort: number;
  /** Uploads larger than this are multipart (one presigned URL per part). */
  readonly multipartThresholdBytes: number;
  /** Each part's size (S3 needs at least 5 MB for all but the last). */
  readonly partBytes: number;
  /** An upload not completed by then is expired, and its partial object removed. */
  readonly uploadExpiresSeconds: number;
}

export interface JobSettings {
  /** Whether this instance works the job queue (every instance may; each job runs once). */
  readonly worker: boolean;
  /** Thumbnail jobs one instance runs at once. */
  readonly concurrency: number;
  /** Retries after the first try before a job is failed. */
  readonly retryLimit: number;
  /** The first retry's delay; later ones back off exponentially. */
  readonly retryDelaySeconds: number;
}

const MB = 1024 * 1024;

export const AUTH_MODES = ['off', 'cognito'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const TOKEN_USES = ['access', 'id'] as const;
export type TokenUse = (typeof TOKEN_USES)[number];

export interface CognitoSettings {
  readonly region?: string;
  readonly userPoolId?: string;
  /** App client ids a token may be issued to (`client_id` of access tokens, `aud` of id tokens). */
  readonly clientIds: readonly string[];
  /** Default: the user pool's `/.well-known/jwks.json`. */
  readonly jwksUrl?: string;
  readonly tokenUse: readonly TokenUse[];
  readonly clockSkewSeconds: number;
  /** An unknown key id fetches the JWKS again, at most once per this many milliseconds. */
  readonly jwksCooldownMs: number;
  /** A JWKS fetch that has not answered in this time has failed (a hanging endpoint answers 503 promptly). */
  readonly jwksTimeoutMs: number;
  /** Cached keys are fetched again once this old. */
  readonly jwksMaxAgeSeconds: number;
  /** While the JWKS cannot be fetched, cached keys older than the max age are still used for this long. */
  readonly jwksStaleSeconds: number;
  /** After a failed JWKS fetch, the next is tried no sooner than this. */
  readonly jwksRetryMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An integer setting from the environment: the fallback when unset, else a number within bounds. */
export function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${env[name]}")`);
  return raw as T;
}

function tokenUses(env: NodeJS.ProcessEnv): TokenUse[] {
  const given = list(env, 'COGNITO_TOKEN_USE');
  for (const use of given)
    if (!(TOKEN_USES as readonly string[]).includes(use))
      throw new ConfigError(`COGNITO_TOKEN_USE must list access and/or id (got "${env.COGNITO_TOKEN_USE}")`);
  return given.length > 0 ? (given as TokenUse[]) : [...TOKEN_USES];
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromRoot = (name: string, fallback: string) => path.resolve(PROJECT_ROOT, env[name] || fallback);
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    registryDir: fromRoot('REGISTRY_DIR', 'registry'),
    generatedDir: fromRoot('GENERATED_DIR', 'generated'),
    migrationsDir: fromRoot('MIGRATIONS_DIR', 'migrations'),
    migrateOnStart: flag(env, 'MIGRATE_ON_START', true),
    poolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 500),
    dbConnectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 1500, 1, 600_000),
    embeddedDbRestarts: integer(env, 'EMBEDDED_DB_RESTARTS', 5, 0, 1000),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 30_000, 1, 3_600_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 0, 600_000),
    logLevel: env.LOG_LEVEL || 'info',
    guestSessionDays: integer(env, 'GUEST_SESSION_DAYS', 30, 1, 365),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 0, 0, 36500),
    idempotencyKeyTtlSeconds: integer(env, 'IDEMPOTENCY_KEY_TTL_HOURS', 24, 1, 8760) * 3600,
    // Off by default only for the embedded local database; a real DATABASE_URL means a deployment.
    authMode: oneOf(env, 'AUTH_MODE', AUTH_MODES, env.DATABASE_URL ? 'cognito' : 'off'),
    cognito: {
      region: env.COGNITO_REGION || undefined,
      userPoolId: env.COGNITO_USER_POOL_ID || undefined,
      clientIds: list(env, 'COGNITO_CLIENT_ID'),
      jwksUrl: env.COGNITO_JWKS_URL || undefined,
      tokenUse: tokenUses(env),
      clockSkewSeconds: integer(env, 'AUTH_CLOCK_SKEW_SECONDS', 30, 0, 300),
      jwksCooldownMs: integer(env, 'COGNITO_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
      jwksTimeoutMs: integer(env, 'AUTH_JWKS_TIMEOUT_MS', 1500, 100, 30_000),
      jwksMaxAgeSeconds: integer(env, 'AUTH_JWKS_MAX_AGE_SECONDS', 600, 1, 86_400),
      jwksStaleSeconds: integer(env, 'AUTH_JWKS_STALE_SECONDS', 3600, 0, 604_800),
      jwksRetryMs: integer(env, 'AUTH_JWKS_RETRY_MS', 2000, 0, 600_000),
    },
    rateLimitEnabled: flag(env, 'RATE_LIMIT_ENABLED', true),
    rateLimits: {
      anonymous: integer(env, 'RATE_LIMIT_ANONYMOUS', 1200, 0, 10_000_000),
      viewer: integer(env, 'RATE_LIMIT_VIEWER', 2400, 0, 10_000_000),
      editor: integer(env, 'RATE_LIMIT_EDITOR', 6000, 0, 10_000_000),
      admin: integer(env, 'RATE_LIMIT_ADMIN', 12_000, 0, 10_000_000),
    },
    rateLimitWindowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
    redisUrl: env.REDIS_URL || undefined,
    rateLimitKeyPrefix: env.RATE_LIMIT_KEY_PREFIX || 'reelmeta:ratelimit:',
    redisTimeoutMs: integer(env, 'REDIS_TIMEOUT_MS', 250, 1, 60_000),
    trustProxy: flag(env, 'TRUST_PROXY', false),
    s3: {
      endpoint: env.S3_ENDPOINT || undefined,
      region: env.S3_REGION || 'us-east-1',
      bucket: env.S3_BUCKET || 'reelmeta-media',
      thumbnailBucket: env.S3_THUMBNAIL_BUCKET || 'reelmeta-thumbnails',
      // Path-style for the embedded server and S3-compatible ones; AWS's own endpoints take virtual-hosted style.
      forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', !(env.S3_ENDPOINT ?? '').includes('amazonaws.com')),
      presignExpiresSeconds: integer(env, 'S3_PRESIGN_EXPIRES_SECONDS', 900, 1, 604_800),
      embeddedPort: integer(env, 'S3_EMBEDDED_PORT', 0, 0, 65535),
      multipartThresholdBytes: integer(env, 'UPLOAD_MULTIPART_THRESHOLD_MB', 100, 5, 5120) * MB,
      partBytes: integer(env, 'UPLOAD_PART_SIZE_MB', 16, 5, 5120) * MB,
      uploadExpiresSeconds: integer(env, 'UPLOAD_EXPIRES_HOURS', 24, 1, 720) * 3600,
    },
    jobs: {
      worker: flag(env, 'JOBS_WORKER', true),
      concurrency: integer(env, 'THUMBNAIL_CONCURRENCY', 1, 1, 32),
      retryLimit: integer(env, 'JOB_RETRY_LIMIT', 5, 0, 100),
      retryDelaySeconds: integer(env, 'JOB_RETRY_DELAY_SECONDS', 5, 1, 3600),
    },
  };
}
