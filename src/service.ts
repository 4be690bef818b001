// Starting and stopping the whole service: registry → database (embedded or DATABASE_URL) →
// migrations → pool → HTTP. Used by `npm start` and by the tests, so both run the same path.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino, { type DestinationStream, type Logger } from 'pino';
import { createApp } from './api/app.ts';
import { drainServer } from './api/drain.ts';
import type { Config } from './config.ts';
import { freePort, startEmbeddedPostgres } from './db/embedded.ts';
import { superviseEmbedded } from './db/embedded-supervisor.ts';
import { migrateUp, migrationLabel, migrationStatus, readMigrationFiles } from './db/migrator.ts';
import { createDatabasePool, type DatabasePool } from './db/pool.ts';
import { ReplicaSet, replicaName } from './db/replicas.ts';
import { routeReads } from './db/read-routing.ts';
import { loadModel } from './load-model.ts';
import { scheduleAuditPurge } from './audit/retention.ts';
import { ExpirySweep } from './records/expiry.ts';
import { runNowAndEvery } from './db/periodic.ts';
import { scheduleIdempotencyPurge } from './idempotency/key-store.ts';
import { Metrics } from './observability/metrics.ts';
import { cognitoVerifier, type TokenVerifier } from './auth/cognito.ts';
import { FeedTokens } from './auth/feed-tokens.ts';
import { createRateLimiter } from './ratelimit/from-config.ts';
import { openMedia } from './media/open.ts';
import { JobQueue } from './jobs/queue.ts';
import { THUMBNAIL_QUEUE, ThumbnailService } from './media/thumbnail-jobs.ts';
import { scheduleUploadSweep, UploadCleanup } from './media/upload-cleanup.ts';
import { recordSettings } from './records/settings.ts';
import { embeddedArchiveSettings, scheduleBackups } from './db/backup/embedded-backups.ts';
import { backupWarnings } from './db/backup/server-checks.ts';

export const EMBEDDED_DATABASE = 'reelmeta';

export interface Database {
  readonly url: string;
  readonly embedded: boolean;
  /** Settles when the database is gone for good (the embedded one could not be restarted). */
  readonly gaveUp: Promise<Error>;
  close(): Promise<void>;
}

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly databaseUrl: string;
  /** Settles when the service cannot go on (its embedded database is gone for good): stop it and exit non-zero. */
  readonly failed: Promise<Error>;
  stop(): Promise<void>;
}

/**
 * Error fields that can hold record values (a query's bound values, a row, PostgreSQL's `detail`
 * such as `Key (business_email)=(…)`): contact details must not reach the logs.
 */
export const REDACTED_LOG_PATHS = [
  'err.values',
  'err.row',
  'err.detail',
  'err.where',
  'err.cause.values',
  'err.cause.row',
  'err.cause.detail',
  'err.cause.where',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'reelmeta' },
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL in DATA_DIR, started again if it dies. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl)
    return {
      url: config.databaseUrl,
      embedded: false,
      gaveUp: new Promise(() => undefined),
      close: async () => undefined,
    };
  logger.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
  // One port for every start, so the pool's address stays right after a restart.
  const port = await freePort();
  const start = () =>
    startEmbeddedPostgres({
      dataDir: config.dataDir,
      database: EMBEDDED_DATABASE,
      port,
      // Every start archives its WAL (a start without would leave a gap no restore can cross).
      settings: embeddedArchiveSettings(config.backup),
      log: (line) => logger.debug({ postgres: line }, 'embedded postgres'),
    });
  const embedded = await superviseEmbedded(start, config.embeddedDbRestarts, logger);
  return { url: embedded.url, embedded: true, gaveUp: embedded.gaveUp, close: () => embedded.stop() };
}

/** DATABASE_REPLICA_URLS: a pool per replica, checked now and every REPLICA_CHECK_INTERVAL_MS. */
async function openReplicas(
  config: Config,
  primary: DatabasePool,
  poolOptions: Parameters<typeof createDatabasePool>[2],
  logger: Logger,
): Promise<ReplicaSet | undefined> {
  if (config.replicas.urls.length === 0) return undefined;
  if (!config.databaseUrl)
    throw new Error('DATABASE_REPLICA_URLS needs DATABASE_URL: the embedded PostgreSQL has no replicas');
  const pools = await Promise.all(
    config.replicas.urls.map(async (url) => ({
      name: replicaName(url),
      pool: await createDatabasePool(url, config.poolSize, poolOptions),
    })),
  );
  const replicas = new ReplicaSet(primary, pools, {
    maxLagMs: config.replicas.maxLagMs,
    checkIntervalMs: config.replicas.checkIntervalMs,
    logger,
  });
  await replicas.start();
  logger.info({ replicas: replicas.status() }, 'read replicas');
  return replicas;
}

export async function prepareSchema(config: Config, databaseUrl: string, logger: Logger): Promise<void> {
  if (config.migrateOnStart) {
    const applied = await migrateUp(databaseUrl, config.migrationsDir, {
      onRetry: (r) =>
        logger.warn(
          { migration: r.migration, step: r.step, attempt: r.attempt, delay_ms: r.delayMs, reason: r.message },
          'migration step retried',
        ),
    });
    for (const m of applied) logger.info({ migration: migrationLabel(m) }, 'migration applied');
    return;
  }
  const pending = (await migrationStatus(databaseUrl, config.migrationsDir)).filter((s) => s.state !== 'applied');
  if (pending.length > 0) {
    throw new Error(
      `MIGRATE_ON_START=false but the database is not up to date (${pending.map((s) => `${migrationLabel(s)}: ${s.state}`).join(', ')}); run npm run migrate`,
    );
  }
}

function listen(server: Server, port: number, _host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use; set PORT to another one`) : error,
      );
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** AUTH_MODE=cognito: the token verifier (a missing setting stops the start); off: said loudly. */
function authenticationFor(
  config: Config,
  logger: Logger,
): { mode: Config['authMode']; verify?: TokenVerifier; feeds: FeedTokens } {
  const feeds = new FeedTokens(config.feedTokens);
  if (config.authMode === 'cognito') {
    if (feeds.ephemeral)
      logger.warn('FEED_TOKEN_SECRET is unset: calendar feed URLs stop working at restart and on other instances');
    return { mode: 'cognito', verify: cognitoVerifier(config.cognito), feeds };
  }
  logger.warn(
    'AUTH_MODE=off: authentication is OFF. Every caller is served as an admin and names itself with X-Actor. ' +
      'For local use only; set AUTH_MODE=cognito with COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID anywhere else',
  );
  return { mode: 'off', feeds };
}

export async function startService(config: Config, logger: Logger = createLogger(config)): Promise<RunningService> {
  const model = loadModel(config.registryDir);
  const auth = authenticationFor(config, logger);
  const database = await openDatabase(config, logger);
  const cleanup: (() => Promise<unknown>)[] = [() => database.close()];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse())
      await step().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
  };
  try {
    await prepareSchema(config, database.url, logger);
    if (database.embedded) {
      const stopBackups = scheduleBackups(config.backup, config.dataDir, database.url, logger);
      cleanup.push(async () => stopBackups());
    } else {
      // A server of one's own backs itself up: say so loudly when point-in-time recovery is off.
      for (const warning of await backupWarnings(database.url).catch(() => []))
        logger.warn({ code: warning.code }, warning.message);
    }
    const media = await openMedia(config.s3, config.dataDir, logger);
    cleanup.push(() => media.close());
    const metrics = new Metrics();
    const poolOptions = {
      interceptors: [metrics.queryInterceptor()],
      statementTimeoutMs: config.statementTimeoutMs,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      preparedStatements: config.preparedStatements,
    };
    const primary = await createDatabasePool(database.url, config.poolSize, poolOptions);
    metrics.watchPool(primary);
    cleanup.push(() => primary.end());
    const replicas = await openReplicas(config, primary, poolOptions, logger);
    if (replicas) {
      cleanup.push(() => replicas.stop());
      metrics.watchReplicas(replicas);
    }
    // With replicas, read-only requests read there (db/read-routing.ts); everything else is the primary's.
    const pool = replicas ? routeReads(primary, replicas, metrics) : primary;
    const stopPurge = await scheduleAuditPurge(pool, config.auditRetentionDays, logger);
    cleanup.push(async () => stopPurge());
    const stopKeyPurge = await scheduleIdempotencyPurge(pool, logger);
    cleanup.push(async () => stopKeyPurge());
    // The job queue (pg-boss, its own schema `pgboss`): stopped before the pool and the object
    // store its handlers use, after HTTP has drained.
    const queue = await JobQueue.start({
      databaseUrl: database.url,
      logger,
      onSettled: (event) => metrics.observeJob(event),
    });
    cleanup.push(() => queue.stop());
    metrics.watchJobQueue(queue);
    await queue.define(THUMBNAIL_QUEUE, {
      retryLimit: config.jobs.retryLimit,
      retryDelaySeconds: config.jobs.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: 300,
    });
    const thumbnails = new ThumbnailService({ queue, storage: media.storage, pool, logger });
    const stopUploadSweep = await scheduleUploadSweep(new UploadCleanup(pool, media.storage, model), logger);
    cleanup.push(async () => stopUploadSweep());
    const limiter = await createRateLimiter(config, logger, metrics);
    if (limiter) cleanup.push(() => limiter.close());
    const rateLimit = limiter ? { limiter, trustProxy: config.trustProxy } : undefined;
    const migrations = readMigrationFiles(config.migrationsDir).map((m) => m.version);
    let draining = false;
    // Lapsed personal data (seed 8.9): erased at start, then every hour, and before a read serves it.
    const expiry = new ExpirySweep(logger);
    const app = createApp({
      expiry,
      model,
      pool,
      logger,
      metrics,
      migrations,
      auth,
      rateLimit,
      settings: recordSettings(config),
      media: { storage: media.storage, settings: config.s3, thumbnails },
      isDraining: () => draining,
      idempotency: { ttlSeconds: config.idempotencyKeyTtlSeconds },
      requestTimeoutMs: config.requestTimeoutMs,
      ...(replicas ? { replicas } : {}),
    });
    const stopExpiry = await runNowAndEvery(60 * 60 * 1000, () =>
      expiry.sweep().then(
        () => undefined,
        (error: unknown) => logger.error({ err: error }, 'expiry sweep failed; it runs again in an hour'),
      ),
    );
    cleanup.push(async () => stopExpiry());
    // createApp handed the thumbnail service its entities: now jobs may run.
    await thumbnails.startSweep();
    cleanup.push(async () => thumbnails.stop());
    if (config.jobs.worker) await thumbnails.work(config.jobs.concurrency);
    const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as Server;
    const port = await listen(server, config.port, config.host);
    // Stopping runs the steps backwards: drain HTTP first, then the purge timer, the pool, the database.
    cleanup.push(() => {
      draining = true;
      return drainServer(server, config.shutdownTimeoutMs, logger);
    });
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${shownHost}:${port}`;
    logger.info(
      {
        url,
        registry_version: model.registryVersion,
        embedded_database: database.embedded,
        auth_mode: config.authMode,
      },
      'reelmeta is listening',
    );
    return { url, port, databaseUrl: database.url, failed: database.gaveUp, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
