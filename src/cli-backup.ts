// `reelmeta backup`, `reelmeta backup list` and `reelmeta restore --to <time> --into <dir>`: base
// backups and point-in-time restores of the embedded PostgreSQL (DATA_DIR). A server of one's own
// (DATABASE_URL) is backed up by its own tools: the commands say so and point at the runbook.
import type { Config } from './config.ts';
import { runningEmbeddedUrl } from './db/embedded.ts';
import { backupEmbedded } from './db/backup/embedded-backups.ts';
import { archiveSpan, listBackups } from './db/backup/catalog.ts';
import { backupLayout } from './db/backup/layout.ts';
import { parseTarget, restoreToTime } from './db/backup/restore.ts';
import { createLogger, EMBEDDED_DATABASE, openDatabase } from './service.ts';

const RUNBOOK = 'docs/operations.md#backups-and-point-in-time-recovery';

function requireEmbedded(config: Config, command: string): void {
  if (config.databaseUrl)
    throw new Error(
      `${command} works on the embedded PostgreSQL (DATA_DIR); DATABASE_URL is set, so back that server up with its own tools (pgBackRest, or RDS automated backups): see ${RUNBOOK}`,
    );
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A base backup now: of the running server's database when one runs, else of one started for it. */
export async function backupCommand(config: Config): Promise<number> {
  requireEmbedded(config, 'backup');
  const running = runningEmbeddedUrl(config.dataDir, EMBEDDED_DATABASE);
  const database = running
    ? undefined
    : await openDatabase(config, createLogger({ logLevel: process.env.LOG_LEVEL || 'warn' }));
  try {
    const { backup, pruned } = await backupEmbedded(config.backup, config.dataDir, running ?? database!.url);
    console.log(
      `base backup ${backup.id} taken: ${backup.files} files, ${megabytes(backup.bytes)}, WAL ${backup.start_lsn}..${backup.stop_lsn}`,
    );
    console.log(`restorable to any time from ${backup.finished_at} on (reelmeta restore --to <time> --into <dir>)`);
    if (pruned.backups.length > 0 || pruned.segments > 0)
      console.log(
        `pruned to BACKUP_KEEP=${config.backup.keep}: removed ${pruned.backups.length} base backups (${pruned.backups.join(', ') || 'none'}) and ${pruned.segments} WAL segments`,
      );
    return 0;
  } finally {
    await database?.close();
  }
}

export function backupListCommand(config: Config, json: boolean): number {
  requireEmbedded(config, 'backup list');
  const layout = backupLayout(config.backup.dir);
  const backups = listBackups(layout);
  const wal = archiveSpan(layout);
  if (json) {
    console.log(JSON.stringify({ backup_dir: layout.dir, backups, wal_archive: wal }, null, 2));
    return 0;
  }
  console.log(`backups in ${layout.dir}`);
  if (backups.length === 0) console.log('  no base backups yet: take one with `reelmeta backup`');
  for (const b of backups)
    console.log(
      `  ${b.id}  finished ${b.finished_at}  ${megabytes(b.bytes)}  ${b.files} files  from WAL ${b.start_wal}`,
    );
  console.log(
    `WAL archive: ${wal.segments} segments, ${megabytes(wal.bytes)}` +
      (wal.newest_at ? `, newest archived ${wal.newest_at}` : ''),
  );
  if (backups.length > 0)
    console.log(
      `restorable to any time from ${backups[0]!.finished_at} on, as far as the archived WAL reaches (a restore first has a running server archive the segment in use)`,
    );
  return 0;
}

export async function restoreCommand(config: Config, options: { to: string; into: string }): Promise<number> {
  requireEmbedded(config, 'restore');
  const result = await restoreToTime({
    target: parseTarget(options.to),
    into: options.into,
    liveDataDir: config.dataDir,
    layout: backupLayout(config.backup.dir),
    database: EMBEDDED_DATABASE,
  });
  console.log(
    `restored to ${result.target} from base backup ${result.backup.id} into ${result.into} in ${result.seconds.toFixed(1)} s`,
  );
  if (result.endOfArchive)
    console.log(
      `nothing in the WAL archive is later than ${result.target}: restored all of it${result.stoppedAt ? ` (${result.stoppedAt})` : ''}`,
    );
  else if (result.stoppedAt) console.log(`the server says: ${result.stoppedAt}`);
  console.log(`serve it with: DATA_DIR=${result.into} npm start   (the live DATA_DIR is untouched)`);
  return 0;
}
