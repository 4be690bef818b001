// Backups of the embedded PostgreSQL as the service and the CLI use them: the archive settings
// every start of it gets (a start without them would leave a gap in the archive), a base backup
// now with pruning after it, and the running server's schedule (BACKUP_EVERY_HOURS).
import path from 'node:path';
import type { Logger } from 'pino';
import type { BackupSettings } from '../../config.ts';
import { archiveSettings } from './archive-settings.ts';
import { takeBaseBackup } from './base-backup.ts';
import { listBackups, prune, type BaseBackup } from './catalog.ts';
import { backupLayout, prepareLayout } from './layout.ts';

/** Server settings for the embedded PostgreSQL: continuous archiving into BACKUP_DIR/wal. */
export function embeddedArchiveSettings(settings: BackupSettings): string[] {
  const layout = backupLayout(settings.dir);
  prepareLayout(layout);
  return archiveSettings(layout, settings.archiveTimeoutSeconds);
}

export interface BackupOutcome {
  readonly backup: BaseBackup;
  readonly pruned: { backups: string[]; segments: number };
}

/** A base backup of the embedded cluster in `dataDir`, served at `adminUrl`, then pruning to BACKUP_KEEP. */
export async function backupEmbedded(
  settings: BackupSettings,
  dataDir: string,
  adminUrl: string,
): Promise<BackupOutcome> {
  const layout = backupLayout(settings.dir);
  const backup = await takeBaseBackup({
    adminUrl,
    clusterDir: path.join(dataDir, 'pg'),
    credentialsFile: path.join(dataDir, 'credentials.json'),
    layout,
  });
  return { backup, pruned: prune(layout, settings.keep) };
}

/**
 * While the server runs: a base backup at start when there is none, and whenever the newest is
 * BACKUP_EVERY_HOURS old (checked every few minutes). Returns the function that stops it.
 */
export function scheduleBackups(
  settings: BackupSettings,
  dataDir: string,
  adminUrl: string,
  logger: Logger,
): () => void {
  if (settings.everyHours === 0) return () => undefined;
  const dueAfterMs = settings.everyHours * 3600 * 1000;
  let running: Promise<void> | undefined;
  let stopped = false;
  const check = () => {
    if (running) return;
    const newest = listBackups(backupLayout(settings.dir)).at(-1);
    if (newest && Date.now() - Date.parse(newest.finished_at) < dueAfterMs) return;
    running = backupEmbedded(settings, dataDir, adminUrl)
      .then(
        ({ backup, pruned }) =>
          logger.info(
            {
              backup: backup.id,
              bytes: backup.bytes,
              pruned_backups: pruned.backups,
              pruned_segments: pruned.segments,
            },
            'base backup taken',
          ),
        (error: unknown) =>
          stopped
            ? logger.info(
                { reason: error instanceof Error ? error.message : String(error) },
                'base backup cut short by the shutdown',
              )
            : logger.error({ err: error }, 'base backup failed; it is tried again in five minutes'),
      )
      .finally(() => (running = undefined));
  };
  check();
  const timer = setInterval(check, 5 * 60 * 1000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
