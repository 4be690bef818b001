#!/usr/bin/env node
// One command line for the platform: serve, codegen, migrate. Failures print a message, never a
// stack trace (set DEBUG=1 to see one).
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { MigrationRefused } from './codegen/migration.ts';
import { runCodegen } from './codegen/run.ts';
import { loadConfig, setting, type Config } from './config.ts';
import { migrateDown, migrateUp, migrationLabel, migrationStatus } from './db/migrator.ts';
import { registryCommand } from './evolution/commands.ts';
import { RegistryError, formatProblem } from './registry/errors.ts';
import { loadModel } from './load-model.ts';
import type { Model } from './registry/model.ts';
import { createLogger, openDatabase, startService } from './service.ts';
import { Presets, SingleBar } from 'cli-progress';
import { createDatabasePool } from './db/pool.ts';
import { RecordStore } from './db/records.ts';
import { upgradeStored } from './db/upgrade-stored.ts';
import { purgeAudit } from './audit/audit-log.ts';
import { importCommand } from './cli-import.ts';
import { backupCommand, backupListCommand, restoreCommand } from './cli-backup.ts';

const shown = (file: string) => path.relative(process.cwd(), file) || file;

/** A refused migration is a registry problem: point at the entity's file. */
function asRegistryError(error: MigrationRefused, model: Model): RegistryError {
  return new RegistryError(
    error.refusals.map((r) => {
      const entity = model.entities.find((e) => e.name === r.entity);
      return entity
        ? { file: entity.file, path: `fields.${r.column ?? ''}`, message: r.message }
        : { file: 'registry/registry.yaml', path: 'entities', message: r.message };
    }),
  );
}

function explain(error: unknown): string {
  if (error instanceof RegistryError) return error.problems.map(formatProblem).join('\n');
  const message = error instanceof Error ? error.message : String(error);
  return setting(process.env, 'DEBUG') && error instanceof Error && error.stack ? error.stack : `error: ${message}`;
}

async function run(action: (config: Config) => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await action(loadConfig())) ?? 0;
  } catch (error) {
    console.error(explain(error));
    process.exitCode = 1;
  }
}

/** Runs `work` against the configured database, starting and stopping the embedded one if needed. */
async function withDatabase<T>(config: Config, work: (url: string) => Promise<T>): Promise<T> {
  const logger = createLogger({ logLevel: process.env.LOG_LEVEL || 'warn' });
  const database = await openDatabase(config, logger);
  try {
    return await work(database.url);
  } finally {
    await database.close();
  }
}

/** Refuses to work on a database whose migrations are not all applied: its tables may be missing or old. */
async function requireMigrated(url: string, config: Config): Promise<void> {
  const behind = (await migrationStatus(url, config.migrationsDir)).filter((s) => s.state !== 'applied');
  if (behind.length === 0) return;
  const first = behind[0]!;
  const more = behind.length > 1 ? ` and ${behind.length - 1} more` : '';
  throw new Error(
    `the database is not migrated: ${migrationLabel(first)} is ${first.state}${more}; run \`npm run migrate\` (or start the server once) first`,
  );
}

const program = new Command('reelmeta').description('Reelmeta: schema-registry-driven metadata for video production');

program
  .command('serve')
  .description('start the HTTP API (applies pending migrations unless MIGRATE_ON_START=false)')
  .action(() =>
    run(async (config) => {
      const logger = createLogger(config);
      const service = await startService(config, logger);
      // Graceful shutdown: stop accepting requests, let in-flight ones finish, close the pool,
      // then stop the embedded PostgreSQL.
      // The embedded PostgreSQL gone for good also ends it, with status 1 and the reason.
      const code = await new Promise<number>((resolve) => {
        const shutdown = (signal: string) => {
          logger.info({ signal }, 'shutting down');
          service.stop().then(
            () => resolve(0),
            () => resolve(0),
          );
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
        void service.failed.then((error) => {
          logger.fatal({ reason: error.message }, 'cannot go on without the database; exiting');
          console.error(`error: ${error.message}`);
          service.stop().then(
            () => resolve(1),
            () => resolve(1),
          );
        });
      });
      logger.info('stopped');
      return code;
    }),
  );

program
  .command('codegen')
  .description('regenerate generated/ and write a migration when the registry changed')
  .option('--check', 'write nothing; exit 1 and list what is stale')
  .action((options: { check?: boolean }) =>
    run(async (config) => {
      const model = loadModel(config.registryDir);
      const check = options.check === true;
      const result = await runCodegen(model, config, { check }).catch((error: unknown) => {
        throw error instanceof MigrationRefused ? asRegistryError(error, model) : error;
      });
      const lines = [
        ...result.changed.map((f) => `${check ? 'stale' : 'wrote'}: ${shown(f)}`),
        ...result.removed.map((f) => `${check ? 'stale (no longer generated)' : 'removed'}: ${shown(f)}`),
      ];
      if (check) {
        if (lines.length === 0) {
          console.log('codegen check: generated/ and migrations/ match the registry');
          return 0;
        }
        console.error(lines.join('\n'));
        if (result.migration)
          console.error(
            `the registry changed since the last migration: npm run codegen would write ${result.migration}`,
          );
        console.error('codegen check failed: run `npm run codegen` and commit the result');
        return 1;
      }
      console.log(lines.length > 0 ? lines.join('\n') : 'codegen: everything is up to date');
      if (result.migration)
        console.log(`new migration: ${result.migration} (applied by npm run migrate, or at the next start)`);
      return 0;
    }),
  );

const steps = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

program
  .command('migrate')
  .description('apply pending migrations (up), revert the last ones (down), or list them (status)')
  .argument('[direction]', 'up, down or status', 'up')
  .option('--steps <n>', 'how many migrations `down` reverts', steps, 1)
  .action((direction: string, options: { steps: number }) =>
    run(async (config) => {
      if (!['up', 'down', 'status'].includes(direction))
        throw new Error(`unknown direction "${direction}"; use up, down or status`);
      return withDatabase(config, async (url) => {
        if (direction === 'status') {
          const states = await migrationStatus(url, config.migrationsDir);
          for (const s of states)
            console.log(`${s.state.padEnd(8)} ${migrationLabel(s)}${s.appliedAt ? `  (applied ${s.appliedAt})` : ''}`);
          if (states.length === 0) console.log(`no migrations in ${shown(config.migrationsDir)}`);
          return states.some((s) => s.state === 'changed' || s.state === 'missing') ? 1 : 0;
        }
        const onRetry = (r: { migration: string; step: number; delayMs: number; message: string }) =>
          console.error(`${r.migration}: step ${r.step}: ${r.message}; trying again in ${r.delayMs} ms`);
        const done =
          direction === 'up'
            ? await migrateUp(url, config.migrationsDir, { onRetry })
            : await migrateDown(url, config.migrationsDir, options.steps, { onRetry });
        for (const m of done) console.log(`${direction === 'up' ? 'applied' : 'reverted'} ${migrationLabel(m)}`);
        if (done.length === 0) console.log(direction === 'up' ? 'database is up to date' : 'nothing to revert');
        return 0;
      });
    }),
  );

program
  .command('upgrade')
  .description('rewrite the records of an entity stored in an older schema_version in the current shape')
  .argument('<entity>', 'entity name, e.g. episode')
  .option('--batch-size <n>', 'rows per transaction', steps, 500)
  .action((entityName: string, options: { batchSize: number }) =>
    run(async (config) => {
      const model = loadModel(config.registryDir);
      const entity = model.entities.find((e) => e.name === entityName || e.plural === entityName);
      if (!entity)
        throw new Error(`unknown entity "${entityName}"; known: ${model.entities.map((e) => e.name).join(', ')}`);
      return withDatabase(config, async (url) => {
        await requireMigrated(url, config);
        const pool = await createDatabasePool(url, 2, { statementTimeoutMs: config.statementTimeoutMs });
        const bar = new SingleBar(
          { format: `${entity.plural} {bar} {value}/{total} rows  {eta_buffer}`, etaBuffer: 20, hideCursor: true },
          Presets.shades_classic,
        );
        try {
          const outcome = await upgradeStored(new RecordStore(pool, entity, model.entities), {
            batchSize: options.batchSize,
            onStart: (total) => total > 0 && bar.start(total, 0),
            onProgress: ({ upgraded }) => bar.update(upgraded),
          });
          bar.stop();
          console.log(
            `upgraded ${outcome.upgraded} ${entity.plural} to schema_version ${entity.schemaVersion}; ${outcome.remaining} left in an older version`,
          );
          return outcome.remaining === 0 ? 0 : 1;
        } finally {
          bar.stop();
          await pool.end();
        }
      });
    }),
  );

program
  .command('audit')
  .description('the audit trail')
  .command('purge')
  .description(
    'delete audit entries older than AUDIT_RETENTION_DAYS (or --days), keeping script entities and deletions',
  )
  .option('--days <n>', 'retention in days (default: AUDIT_RETENTION_DAYS; 0 keeps everything)', (raw: string) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError('a whole number of days, 0 or more');
    return value;
  })
  .action((options: { days?: number }) =>
    run(async (config) => {
      const days = options.days ?? config.auditRetentionDays;
      if (days === 0) {
        console.log('retention is 0 days (AUDIT_RETENTION_DAYS unset): every audit entry is kept');
        return 0;
      }
      return withDatabase(config, async (url) => {
        await requireMigrated(url, config);
        const pool = await createDatabasePool(url, 1, { statementTimeoutMs: config.statementTimeoutMs });
        try {
          console.log(`purged ${await purgeAudit(pool, days)} audit entries older than ${days} days`);
        } finally {
          await pool.end();
        }
      });
    }),
  );

program
  .command('import')
  .description(
    'import NDJSON or CSV (as export writes them) into a running service, keeping ids and timestamps; prints one failed line per problem and the summary',
  )
  .argument('<file>', 'the NDJSON or CSV file')
  .requiredOption('--entity <plural>', 'the records in the file, e.g. episodes')
  .option('--format <format>', 'ndjson or csv (default: by the file name)')
  .option('--dry-run', 'check every line and write nothing', false)
  .option('--url <url>', 'the service (default: REELMETA_URL, else http://127.0.0.1:PORT)')
  .option('--report <file>', "write every line's result there (NDJSON)")
  .action(
    (file: string, options: { entity: string; format?: string; dryRun: boolean; url?: string; report?: string }) =>
      run(async (config) => {
        const format = options.format ?? (file.endsWith('.csv') ? 'csv' : 'ndjson');
        if (format !== 'ndjson' && format !== 'csv') throw new InvalidArgumentError('--format is ndjson or csv');
        return importCommand({
          file,
          plural: options.entity,
          format,
          dryRun: options.dryRun,
          url: options.url ?? setting(process.env, 'REELMETA_URL') ?? `http://127.0.0.1:${config.port}`,
          ...(setting(process.env, 'REELMETA_TOKEN') ? { token: setting(process.env, 'REELMETA_TOKEN')! } : {}),
          ...(options.report ? { report: options.report } : {}),
        });
      }),
  );

const backup = program
  .command('backup')
  .description(
    'take a base backup of the embedded PostgreSQL now (WAL is archived continuously into BACKUP_DIR/wal), then prune to BACKUP_KEEP',
  )
  .action(() => run((config) => backupCommand(config)));
backup
  .command('list')
  .description('the base backups and the WAL archive, and the span a restore can reach')
  .option('--json', 'as JSON', false)
  .action((options: { json: boolean }) => run(async (config) => backupListCommand(config, options.json)));

program
  .command('restore')
  .description(
    'restore the embedded PostgreSQL as it was at a point in time into a new DATA_DIR (never the live one), to serve with DATA_DIR=<dir> npm start',
  )
  .requiredOption('--to <time>', 'the point in time, ISO 8601 with its zone, e.g. 2026-12-07T14:05:00Z')
  .requiredOption('--into <dir>', 'a new or empty folder')
  .action((options: { to: string; into: string }) => run((config) => restoreCommand(config, options)));

// registry check | release | diff: the registry against its released snapshots.
program.addCommand(registryCommand(loadModel));

await program.parseAsync();
