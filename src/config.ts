// Configuration comes from environment variables only. Each one is declared once, in SETTINGS below
// (its default, the values it takes, what it does, and how it is read); loadConfig and the few
// modules that read a variable of their own go through that table, and `npm run codegen` writes
// docs/reference/environment.md from it, so the documentation cannot drift from the code.
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
  /** DB_PREPARED_STATEMENTS: repeated queries as named prepared statements (db/prepared.ts). */
  readonly preparedStatements: boolean;
  /** Base backups and the WAL archive of the embedded PostgreSQL (db/backup). */
  readonly backup: BackupSettings;
  /** Read replicas: GETs read there, writes and everything after a write in a request go to the primary. */
  readonly replicas: ReplicaSettings;
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
  /** Calendar feed URLs (auth/feed-tokens.ts): their signing secret and lifetime. */
  readonly feedTokens: { readonly secret: string | undefined; readonly days: number };
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

export interface BackupSettings {
  /** Base backups (`base/`) and archived WAL (`wal/`). */
  readonly dir: string;
  /** A WAL segment is archived at the latest this long after its first write: the RPO bound. */
  readonly archiveTimeoutSeconds: number;
  /** A running server takes a base backup when its newest is older than this; 0: only `reelmeta backup`. */
  readonly everyHours: number;
  /** Base backups kept; WAL older than the oldest kept one is removed. */
  readonly keep: number;
}

export interface ReplicaSettings {
  readonly urls: readonly string[];
  /** A replica further behind than this is out of rotation until it catches up. */
  readonly maxLagMs: number;
  /** How often each replica's replay position is read. */
  readonly checkIntervalMs: number;
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

type Env = NodeJS.ProcessEnv;

/** One environment variable, as the loader reads it and docs/reference/environment.md shows it. */
export interface Setting<T> {
  /** The default, in Markdown: a value, or words when it depends on other variables. */
  readonly default: string;
  /** The values it takes, in Markdown. */
  readonly values: string;
  /** What it does, in Markdown (links are relative to docs/reference/). */
  readonly description: string;
  readonly read: (env: Env, name: string) => T;
}

/** An integer setting from the environment: the fallback when unset, else a number within bounds. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${env[name]}")`);
  return raw as T;
}

function tokenUses(env: Env, name: string): TokenUse[] {
  const given = list(env, name);
  for (const use of given)
    if (!(TOKEN_USES as readonly string[]).includes(use))
      throw new ConfigError(`${name} must list access and/or id (got "${env[name]}")`);
  return given.length > 0 ? (given as TokenUse[]) : [...TOKEN_USES];
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

// The kinds of setting. Each keeps its fallback next to the words that show it.
const code = (value: string | number | boolean) => `\`${value}\``;

function whole(
  fallback: number,
  min: number,
  max: number,
  description: string,
): Setting<number> & { fallback: number } {
  return {
    default: code(fallback),
    values: `integer, ${min} to ${max}`,
    description,
    fallback,
    read: (env, name) => integer(env, name, fallback, min, max),
  };
}

function text(fallback: string, description: string, values = 'text'): Setting<string> {
  return { default: code(fallback), values, description, read: (env, name) => env[name] || fallback };
}

/** Unset (or empty) means undefined: the feature it names is off or takes its own default. */
function optional(description: string, values = 'text', shown = 'unset'): Setting<string | undefined> {
  return { default: shown, values, description, read: (env, name) => env[name] || undefined };
}

/** A folder of the project, relative to its root. */
function projectDir(fallback: string, description: string): Setting<string> {
  return {
    default: code(fallback),
    values: 'a path, relative to the project root',
    description,
    read: (env, name) => path.resolve(PROJECT_ROOT, env[name] || fallback),
  };
}

function yesNo(fallback: boolean, description: string): Setting<boolean> {
  return {
    default: code(fallback),
    values: '`true` or `false`',
    description,
    read: (env, name) => flag(env, name, fallback),
  };
}

const RATE_LIMIT = (fallback: number, role: string) =>
  whole(fallback, 0, 10_000_000, `the same for a caller whose highest role is ${role}, per subject`);

/**
 * Every environment variable the service and its CLI read, in the order the reference shows them.
 * Add one here (and read it with `setting`) and `npm run codegen` documents it.
 */
export const SETTINGS = {
  PORT: whole(8080, 0, 65535, 'HTTP port (`0` picks a free one)'),
  HOST: text('0.0.0.0', 'interface to listen on', 'an address'),
  DATABASE_URL: optional(
    'PostgreSQL to use, e.g. `postgres://user:pass@host:5432/reelmeta`. Unset: the embedded PostgreSQL. TLS: `?sslmode=verify-full&sslrootcert=…` (see [TLS and encryption](../operations.md#tls-and-encryption))',
    'a PostgreSQL URL',
  ),
  // Read as given (not `|| undefined`): an empty PGSSLMODE is refused like any unknown mode.
  PGSSLMODE: {
    default: 'unset (`disable`)',
    values: 'an `sslmode` (see [TLS and encryption](../operations.md#tls-and-encryption))',
    description: "`sslmode` when `DATABASE_URL` does not give it (libpq's meaning)",
    read: (env, name) => env[name],
  } satisfies Setting<string | undefined>,
  PGSSLROOTCERT: {
    default: 'unset',
    values: 'a path, or `system`',
    description:
      "`sslrootcert` when `DATABASE_URL` does not give it: the CA bundle (`system`: the platform's CA store)",
    read: (env, name) => env[name],
  } satisfies Setting<string | undefined>,
  DATA_DIR: {
    default: '`./.data`',
    values: 'a path, relative to the working directory',
    description:
      'where the embedded PostgreSQL keeps its data (`DATA_DIR/pg`) and its generated password, and the embedded S3 server its objects (`DATA_DIR/s3/data`) and its generated access key (`DATA_DIR/s3/credentials.json`)',
    read: (env, name) => path.resolve(env[name] || '.data'),
  } satisfies Setting<string>,
  BACKUP_DIR: {
    default: '`DATA_DIR/backups`',
    values: "a path without `'` or `%`; better on another disk than `DATA_DIR`",
    description:
      'base backups (`BACKUP_DIR/base`) and the continuous WAL archive (`BACKUP_DIR/wal`) of the embedded PostgreSQL, for `reelmeta backup` and point-in-time `reelmeta restore` (see [Backups](../operations.md#backups-and-point-in-time-recovery))',
    read: (env, name) => {
      const dir = path.resolve(env[name] || path.join(env.DATA_DIR || '.data', 'backups'));
      // The path goes into PostgreSQL's archive_command, a shell line where %x is a placeholder.
      if (/['%\n\\]/.test(dir)) throw new ConfigError(`${name} must not contain ', %, \\ or a line break: ${dir}`);
      return dir;
    },
  } satisfies Setting<string>,
  BACKUP_ARCHIVE_TIMEOUT_SECONDS: whole(
    60,
    10,
    600,
    'the embedded PostgreSQL archives the WAL segment in use at the latest this long after its first change: the most a lost `DATA_DIR` can cost (the RPO; NFR-5 asks for under 15 minutes)',
  ),
  BACKUP_EVERY_HOURS: whole(
    24,
    0,
    8760,
    'a running server with the embedded PostgreSQL takes a base backup at start when it has none, and whenever its newest is this old; `0`: only `reelmeta backup` takes them. Restores replay the WAL since the base backup, so this bounds the restore time',
  ),
  BACKUP_KEEP: whole(
    7,
    1,
    1000,
    'base backups kept; older ones, and the WAL only they needed, are removed after each backup',
  ),
  DATABASE_REPLICA_URLS: {
    default: 'unset',
    values: 'comma-separated PostgreSQL URLs',
    description:
      'streaming read replicas of `DATABASE_URL`: reads outside a write go to one in rotation (see [Read replicas](../operations.md#read-replicas)); TLS settings as in `DATABASE_URL`',
    read: (env, name) => list(env, name),
  } satisfies Setting<readonly string[]>,
  REPLICA_MAX_LAG_MS: whole(
    5000,
    100,
    3_600_000,
    'a replica that has not replayed what the primary wrote this long ago is taken out of rotation, and returns once it has',
  ),
  REPLICA_CHECK_INTERVAL_MS: whole(500, 50, 60_000, "how often each replica's replay position and health are read"),
  S3_ENDPOINT: optional(
    "the S3 or S3-compatible server, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio:9000`. Unset: the embedded S3 server. Credentials come from the AWS SDK's default chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, an instance or task role); nothing is read from the repo",
    'a URL',
  ),
  S3_REGION: text('us-east-1', 'the region requests are signed for'),
  S3_BUCKET: text('reelmeta-media', 'the media bucket: uploads land here, and media fields must point into it'),
  S3_THUMBNAIL_BUCKET: text(
    'reelmeta-thumbnails',
    'where generated thumbnails are written (seed 8.12: a separate bucket), at `thumbnails/{plural}/{id}/{size}.jpg`',
  ),
  S3_FORCE_PATH_STYLE: {
    default: '`true`, `false` for `amazonaws.com` endpoints',
    values: '`true` or `false`',
    description:
      'path-style URLs (`endpoint/bucket/key`), which S3-compatible servers need; AWS takes virtual-hosted style',
    // Path-style for the embedded server and S3-compatible ones; AWS's own endpoints take virtual-hosted style.
    read: (env, name) => flag(env, name, !(env.S3_ENDPOINT ?? '').includes('amazonaws.com')),
  } satisfies Setting<boolean>,
  S3_PRESIGN_EXPIRES_SECONDS: whole(900, 1, 604_800, 'how long a presigned upload, part or download URL works'),
  S3_EMBEDDED_PORT: whole(
    0,
    0,
    65535,
    "the embedded S3 server's port on 127.0.0.1 (`0` picks a free one; presigned URLs carry it)",
  ),
  UPLOAD_MULTIPART_THRESHOLD_MB: whole(
    100,
    5,
    5120,
    'uploads larger than this are multipart, with one presigned URL per part',
  ),
  UPLOAD_PART_SIZE_MB: whole(
    16,
    5,
    5120,
    'the size of each part but the last (S3 needs at least 5 MB; larger when a file would need more than 10,000 parts)',
  ),
  UPLOAD_EXPIRES_HOURS: whole(
    24,
    1,
    720,
    'an upload not completed by then is expired, its multipart parts aborted and any partial object removed',
  ),
  JOBS_WORKER: yesNo(
    true,
    'whether this instance runs queued jobs (thumbnails); any number of instances may, each job runs once',
  ),
  THUMBNAIL_CONCURRENCY: whole(1, 1, 32, 'thumbnail jobs one instance runs at once'),
  JOB_RETRY_LIMIT: whole(5, 0, 100, "retries after a job's first try before it is marked failed"),
  JOB_RETRY_DELAY_SECONDS: whole(5, 1, 3600, "the first retry's delay; each later one waits about twice as long"),
  MIGRATE_ON_START: yesNo(
    true,
    'apply pending migrations at start; with `false` the server refuses to start on an outdated schema',
  ),
  MIGRATION_LOCK_TIMEOUT_MS: whole(
    500,
    1,
    600_000,
    'how long one migration statement may wait for a lock before it gives up its place in the queue and its step is retried (see [Online migrations](../storage.md#online-migrations))',
  ),
  MIGRATION_LOCK_RETRIES: whole(
    10,
    0,
    1000,
    'how many times such a step is tried again (after 0.2 s, 0.4 s, 0.8 s … at most 5 s apart) before the migration stops',
  ),
  DB_POOL_SIZE: whole(10, 1, 500, 'database connections per instance'),
  DB_PREPARED_STATEMENTS: yesNo(
    true,
    'send lookups and writes by id as named prepared statements, parsed and planned once per connection instead of on every run; set `false` behind a pooler that cannot keep them (PgBouncer before 1.21 in transaction mode)',
  ),
  DB_CONNECT_TIMEOUT_MS: whole(
    1500,
    1,
    600_000,
    'longest a request waits for a database connection (a free one from the pool, or a new one being opened); past it the request answers 503 `DATABASE_UNAVAILABLE` and does nothing',
  ),
  EMBEDDED_DB_RESTARTS: whole(
    5,
    0,
    1000,
    'how many times in a row the server starts its embedded PostgreSQL again when it dies (see [Operations](../operations.md#health-metrics-logs-and-failures)) before it exits 1',
  ),
  AUTH_MODE: {
    default: '`off` without `DATABASE_URL`, else `cognito`',
    values: AUTH_MODES.map(code).join(', '),
    description:
      '`cognito`: every `/api` request needs a verified Cognito JWT (see [Authentication and roles](../api.md#authentication-and-roles)); `off`: no authentication, every caller is an admin named by `X-Actor` (local use only; logged as a warning at start)',
    // Off by default only for the embedded local database; a real DATABASE_URL means a deployment.
    read: (env, name) => oneOf(env, name, AUTH_MODES, env.DATABASE_URL ? 'cognito' : 'off'),
  } satisfies Setting<AuthMode>,
  COGNITO_USER_POOL_ID: optional('the user pool, e.g. `eu-west-1_AbCdEf123`; required with `AUTH_MODE=cognito`'),
  COGNITO_CLIENT_ID: {
    default: 'unset',
    values: 'a comma-separated list',
    description:
      'the app client ids tokens may be issued to (`client_id` of access tokens, `aud` of id tokens); required with `AUTH_MODE=cognito`',
    read: list,
  } satisfies Setting<string[]>,
  COGNITO_REGION: optional(
    "the pool's AWS region; the issuer is `https://cognito-idp.{region}.amazonaws.com/{pool id}`",
    'an AWS region',
    "the pool id's prefix",
  ),
  COGNITO_JWKS_URL: optional(
    "where the pool's signing keys are read (cached; read again for an unknown key id)",
    'a URL',
    '`{issuer}/.well-known/jwks.json`',
  ),
  COGNITO_JWKS_COOLDOWN_MS: whole(30_000, 0, 3_600_000, 'an unknown key id reads the keys again at most this often'),
  AUTH_JWKS_TIMEOUT_MS: whole(1500, 100, 30_000, 'a read of the JWKS that has not answered by then has failed'),
  AUTH_JWKS_MAX_AGE_SECONDS: whole(
    600,
    1,
    86_400,
    'cached keys are read again once this old (in the background while they are still usable)',
  ),
  AUTH_JWKS_STALE_SECONDS: whole(
    3600,
    0,
    604_800,
    'while the JWKS cannot be read, cached keys past the max age still verify tokens for this long; after it, 503 `AUTH_UNAVAILABLE`',
  ),
  AUTH_JWKS_RETRY_MS: whole(
    2000,
    0,
    600_000,
    'after a failed read of the JWKS the next waits this long; requests meanwhile use the cached keys or answer 503 at once',
  ),
  COGNITO_TOKEN_USE: {
    default: code(TOKEN_USES.join(',')),
    values: '`access`, `id`, or both, comma-separated',
    description: 'which Cognito tokens are accepted',
    read: tokenUses,
  } satisfies Setting<TokenUse[]>,
  AUTH_CLOCK_SKEW_SECONDS: whole(30, 0, 300, 'how far `exp` and `iat` may be off'),
  DB_STATEMENT_TIMEOUT_MS: whole(
    30_000,
    1,
    3_600_000,
    'longest one query may run, in the server and in the `upgrade` and `audit purge` commands; past it PostgreSQL cancels it and a request answers 503 `TIMEOUT`',
  ),
  REQUEST_TIMEOUT_MS: whole(
    30_000,
    100,
    3_600_000,
    "longest an `/api` request may work in the database: past it the request runs no more queries, no statement of its write transaction outlives it, the transaction rolls back and the request answers 503 `REQUEST_TIMEOUT` with `Retry-After: 1`; an export's streamed body is not cut once it started",
  ),
  SHUTDOWN_TIMEOUT_MS: whole(
    25_000,
    0,
    600_000,
    'on SIGTERM/SIGINT, how long in-flight requests may take to finish before their connections are closed (new connections are refused at once)',
  ),
  LOG_LEVEL: text(
    'info',
    'pino level of the server; the one-shot CLI commands (`migrate`, `upgrade`, `audit purge`) log at `warn` unless it is set',
    '`trace` … `fatal`, or `silent`',
  ),
  AUDIT_RETENTION_DAYS: whole(
    0,
    0,
    36_500,
    'audit entries older than this many days are purged at start and then daily (and by `npm run audit:purge`), except deletions and `script`/`script_version` entries, which are kept; `0` keeps every entry',
  ),
  IDEMPOTENCY_KEY_TTL_HOURS: whole(
    24,
    1,
    8760,
    'how long an `Idempotency-Key` is remembered from its first request: a retry within it gets the stored answer, after it the key is forgotten; expired keys are purged at start and hourly (see [Idempotent retries](../api.md#idempotent-retries))',
  ),
  GUEST_SESSION_DAYS: whole(
    30,
    1,
    365,
    "a new guest's `session_expires_at`, in days from now, when not given (seed 8.9; 7 for stricter privacy)",
  ),
  FEED_TOKEN_SECRET: {
    default: 'unset',
    values: 'at least 32 characters',
    description:
      'the secret that signs calendar feed URLs (`POST /api/v1/episodes/schedule/feed`); the same on every instance, and changing it revokes every feed URL. Unset: a random one per process, so feed URLs stop working at restart and on other instances',
    read: (env, name) => {
      const value = env[name] || undefined;
      if (value !== undefined && value.length < 32)
        throw new ConfigError(`${name} must be at least 32 characters (got ${value.length})`);
      return value;
    },
  } satisfies Setting<string | undefined>,
  FEED_TOKEN_DAYS: whole(90, 1, 3660, 'how long a calendar feed URL works'),
  RATE_LIMIT_ENABLED: yesNo(
    true,
    '`false` turns rate limiting off: no `RateLimit-*` headers, never 429 (see [Rate limits](../operations.md#rate-limits))',
  ),
  RATE_LIMIT_ANONYMOUS: whole(
    1200,
    0,
    10_000_000,
    'requests per window for an anonymous caller, per client address (every caller when authentication is off); also the burst. `0` is unlimited',
  ),
  // Seed NFR-2: one identified service sustains 100 req/s (6000 a minute) with room to spare;
  // anonymous callers get 20 a second.
  RATE_LIMIT_VIEWER: RATE_LIMIT(9000, 'viewer'),
  RATE_LIMIT_EDITOR: RATE_LIMIT(12_000, 'editor'),
  RATE_LIMIT_ADMIN: RATE_LIMIT(18_000, 'admin'),
  RATE_LIMIT_WINDOW_SECONDS: whole(60, 1, 86_400, 'the window of those limits: a bucket refills evenly over it'),
  REELMETA_URL: optional('the service `reelmeta import` sends its file to. Unset: `http://127.0.0.1:PORT`', 'a URL'),
  REELMETA_TOKEN: optional(
    'the bearer token `reelmeta import` sends (a Cognito access token of a caller with the `import` permission); never logged',
    'a JWT',
  ),
  REDIS_URL: optional(
    'Redis for the rate-limit buckets, shared by every instance, e.g. `redis://host:6379`. Unset: each instance keeps its own in memory',
    'a Redis URL',
  ),
  RATE_LIMIT_KEY_PREFIX: text(
    'reelmeta:ratelimit:',
    'prefix of the Redis keys, so deployments (and test runs) sharing a Redis stay apart',
  ),
  REDIS_TIMEOUT_MS: whole(
    250,
    1,
    60_000,
    'longest a Redis connect or command may take; past it the request is served without a limit',
  ),
  TRUST_PROXY: yesNo(
    false,
    'take the client address from the first entry of `X-Forwarded-For`. Only behind a proxy that sets it: otherwise clients choose their own address',
  ),
  REGISTRY_DIR: projectDir('registry', 'the registry YAML (the tests point it at a copy)'),
  GENERATED_DIR: projectDir('generated', "codegen's output: JSON Schemas, types, OpenAPI, CHANGELOG"),
  MIGRATIONS_DIR: projectDir('migrations', 'the generated SQL migrations and their snapshot'),
  DEBUG: {
    default: 'unset',
    values: 'any non-empty value',
    description: 'set to show stack traces of CLI errors',
    read: (env, name) => Boolean(env[name]),
  } satisfies Setting<boolean>,
} as const;

export type SettingName = keyof typeof SETTINGS;
type SettingValue<N extends SettingName> = ReturnType<(typeof SETTINGS)[N]['read']>;

/** The value of one declared variable. */
export function setting<N extends SettingName>(env: Env, name: N): SettingValue<N> {
  return SETTINGS[name].read(env, name) as SettingValue<N>;
}

export function loadConfig(env: Env = process.env): Config {
  const read = <N extends SettingName>(name: N) => setting(env, name);
  return {
    port: read('PORT'),
    host: read('HOST'),
    databaseUrl: read('DATABASE_URL'),
    dataDir: read('DATA_DIR'),
    registryDir: read('REGISTRY_DIR'),
    generatedDir: read('GENERATED_DIR'),
    migrationsDir: read('MIGRATIONS_DIR'),
    migrateOnStart: read('MIGRATE_ON_START'),
    poolSize: read('DB_POOL_SIZE'),
    dbConnectTimeoutMs: read('DB_CONNECT_TIMEOUT_MS'),
    preparedStatements: read('DB_PREPARED_STATEMENTS'),
    embeddedDbRestarts: read('EMBEDDED_DB_RESTARTS'),
    backup: {
      dir: read('BACKUP_DIR'),
      archiveTimeoutSeconds: read('BACKUP_ARCHIVE_TIMEOUT_SECONDS'),
      everyHours: read('BACKUP_EVERY_HOURS'),
      keep: read('BACKUP_KEEP'),
    },
    replicas: {
      urls: read('DATABASE_REPLICA_URLS'),
      maxLagMs: read('REPLICA_MAX_LAG_MS'),
      checkIntervalMs: read('REPLICA_CHECK_INTERVAL_MS'),
    },
    statementTimeoutMs: read('DB_STATEMENT_TIMEOUT_MS'),
    requestTimeoutMs: read('REQUEST_TIMEOUT_MS'),
    shutdownTimeoutMs: read('SHUTDOWN_TIMEOUT_MS'),
    logLevel: read('LOG_LEVEL'),
    guestSessionDays: read('GUEST_SESSION_DAYS'),
    feedTokens: { secret: read('FEED_TOKEN_SECRET'), days: read('FEED_TOKEN_DAYS') },
    auditRetentionDays: read('AUDIT_RETENTION_DAYS'),
    idempotencyKeyTtlSeconds: read('IDEMPOTENCY_KEY_TTL_HOURS') * 3600,
    authMode: read('AUTH_MODE'),
    cognito: {
      region: read('COGNITO_REGION'),
      userPoolId: read('COGNITO_USER_POOL_ID'),
      clientIds: read('COGNITO_CLIENT_ID'),
      jwksUrl: read('COGNITO_JWKS_URL'),
      tokenUse: read('COGNITO_TOKEN_USE'),
      clockSkewSeconds: read('AUTH_CLOCK_SKEW_SECONDS'),
      jwksCooldownMs: read('COGNITO_JWKS_COOLDOWN_MS'),
      jwksTimeoutMs: read('AUTH_JWKS_TIMEOUT_MS'),
      jwksMaxAgeSeconds: read('AUTH_JWKS_MAX_AGE_SECONDS'),
      jwksStaleSeconds: read('AUTH_JWKS_STALE_SECONDS'),
      jwksRetryMs: read('AUTH_JWKS_RETRY_MS'),
    },
    rateLimitEnabled: read('RATE_LIMIT_ENABLED'),
    rateLimits: {
      anonymous: read('RATE_LIMIT_ANONYMOUS'),
      viewer: read('RATE_LIMIT_VIEWER'),
      editor: read('RATE_LIMIT_EDITOR'),
      admin: read('RATE_LIMIT_ADMIN'),
    },
    rateLimitWindowSeconds: read('RATE_LIMIT_WINDOW_SECONDS'),
    redisUrl: read('REDIS_URL'),
    rateLimitKeyPrefix: read('RATE_LIMIT_KEY_PREFIX'),
    redisTimeoutMs: read('REDIS_TIMEOUT_MS'),
    trustProxy: read('TRUST_PROXY'),
    s3: {
      endpoint: read('S3_ENDPOINT'),
      region: read('S3_REGION'),
      bucket: read('S3_BUCKET'),
      thumbnailBucket: read('S3_THUMBNAIL_BUCKET'),
      forcePathStyle: read('S3_FORCE_PATH_STYLE'),
      presignExpiresSeconds: read('S3_PRESIGN_EXPIRES_SECONDS'),
      embeddedPort: read('S3_EMBEDDED_PORT'),
      multipartThresholdBytes: read('UPLOAD_MULTIPART_THRESHOLD_MB') * MB,
      partBytes: read('UPLOAD_PART_SIZE_MB') * MB,
      uploadExpiresSeconds: read('UPLOAD_EXPIRES_HOURS') * 3600,
    },
    jobs: {
      worker: read('JOBS_WORKER'),
      concurrency: read('THUMBNAIL_CONCURRENCY'),
      retryLimit: read('JOB_RETRY_LIMIT'),
      retryDelaySeconds: read('JOB_RETRY_DELAY_SECONDS'),
    },
  };
}
