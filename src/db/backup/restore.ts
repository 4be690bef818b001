// Point-in-time restore of the embedded PostgreSQL into a new DATA_DIR: the newest base backup
// finished before the target, the archived WAL replayed up to the target, then promoted to a
// cluster of its own, so `DATA_DIR=<into> npm start` serves it. The live DATA_DIR is only read.
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { runningEmbeddedUrl, startEmbeddedPostgres, type EmbeddedDatabase } from '../embedded.ts';
import { restoreCommand } from './archive-settings.ts';
import { backupFor, listBackups, type BaseBackup } from './catalog.ts';
import { giveToServerUser, type BackupLayout } from './layout.ts';
import { copyTree } from './copy-tree.ts';

export class RestoreRefused extends Error {
  override readonly name = 'RestoreRefused';
}

/** An ISO 8601 time with its zone (`Z` or `±hh:mm`), as `--to` takes it. */
export function parseTarget(text: string, now = new Date()): Date {
  const zoned = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:?\d\d)$/i;
  const at = new Date(text);
  if (!zoned.test(text.trim()) || Number.isNaN(at.getTime()))
    throw new RestoreRefused(`--to must be an ISO 8601 time with its zone, e.g. 2026-12-07T14:05:00Z (got "${text}")`);
  if (at.getTime() > now.getTime()) throw new RestoreRefused(`--to ${text} is in the future`);
  return at;
}

const inside = (child: string, parent: string) => {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

const real = (dir: string) => (existsSync(dir) ? realpathSync(dir) : path.resolve(dir));

/** The new DATA_DIR must be empty or new, and apart from the live one and the backups. */
function checkTarget(into: string, liveDataDir: string, layout: BackupLayout): void {
  const target = real(into);
  for (const [other, what] of [
    [real(liveDataDir), 'the live DATA_DIR'],
    [real(layout.dir), 'BACKUP_DIR'],
  ] as const) {
    if (inside(target, other) || inside(other, target))
      throw new RestoreRefused(`--into ${into} overlaps ${what} (${other}): restore into a folder of its own`);
  }
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new RestoreRefused(`--into ${into} is not empty: a restore never overwrites a folder`);
}

/** The live server, when running, completes and archives its current WAL segment first. */
async function archiveCurrentSegment(liveDataDir: string): Promise<void> {
  const url = runningEmbeddedUrl(liveDataDir, 'postgres');
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  // The server going away (a shutdown) fails the query in flight; unheard, the event would end the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const current = await client.query<{ wal: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS wal');
    const segment = current.rows[0]!.wal;
    await client.query('SELECT pg_switch_wal()');
    for (let waited = 0; waited < 10_000; waited += 100) {
      const archived = await client.query<{ last: string | null }>(
        'SELECT last_archived_wal AS last FROM pg_stat_archiver',
      );
      if ((archived.rows[0]?.last ?? '') >= segment) return;
      await sleep(100);
    }
  } finally {
    await client.end();
  }
}

/** Segments still only in the live pg_wal (not archived yet) go beside the restore, where recovery looks next. */
async function copyUnarchivedWal(liveClusterDir: string, layout: BackupLayout, walDir: string): Promise<number> {
  const live = path.join(liveClusterDir, 'pg_wal');
  if (!existsSync(live)) return 0;
  let copied = 0;
  for (const name of await readdir(live)) {
    if (!/^[0-9A-F]{24}$/.test(name) || existsSync(path.join(layout.walDir, `${name}.gz`))) continue;
    await copyFile(path.join(live, name), path.join(walDir, name)).then(
      () => (copied += 1),
      () => undefined,
    );
  }
  return copied;
}

export interface RestoreResult {
  readonly backup: BaseBackup;
  readonly target: string;
  readonly into: string;
  /** The archive holds nothing after the target: all of it was replayed (the last transaction is `stoppedAt`'s). */
  readonly endOfArchive: boolean;
  /** What the server said where it stopped replaying, e.g. `recovery stopping before commit of transaction 812, time …`. */
  readonly stoppedAt?: string;
  readonly seconds: number;
}

export async function restoreToTime(options: {
  target: Date;
  into: string;
  liveDataDir: string;
  layout: BackupLayout;
  database: string;
  log?: (line: string) => void;
}): Promise<RestoreResult> {
  const { layout, target } = options;
  const started = performance.now();
  const into = path.resolve(options.into);
  checkTarget(into, options.liveDataDir, layout);
  const backup = backupFor(layout, target);
  if (!backup) {
    const first = listBackups(layout)[0];
    throw new RestoreRefused(
      first
        ? `no base backup finished before ${target.toISOString()}: the oldest finished at ${first.finished_at}`
        : `there are no base backups in ${layout.baseDir}: take one with \`reelmeta backup\``,
    );
  }
  await archiveCurrentSegment(options.liveDataDir);
  try {
    return await recover(backup, options, into, started);
  } catch (error) {
    // The folder was new or empty: a failed restore leaves nothing half-made behind.
    await rm(into, { recursive: true, force: true });
    throw error;
  }
}

async function recover(
  backup: BaseBackup,
  options: Parameters<typeof restoreToTime>[0],
  into: string,
  started: number,
): Promise<RestoreResult> {
  const { layout, target } = options;
  const backupDir = path.join(layout.baseDir, backup.id);
  const clusterDir = path.join(into, 'pg');
  await mkdir(into, { recursive: true });
  await copyTree(path.join(backupDir, 'data'), clusterDir);
  await copyFile(path.join(backupDir, 'credentials.json'), path.join(into, 'credentials.json'));
  await copyUnarchivedWal(path.join(options.liveDataDir, 'pg'), layout, path.join(clusterDir, 'pg_wal'));
  await writeFile(path.join(clusterDir, 'recovery.signal'), '');
  giveToServerUser(clusterDir);

  const lines: string[] = [];
  const replay = (settings: string[]) =>
    startEmbeddedPostgres({
      dataDir: into,
      database: options.database,
      settings: ['archive_mode=off', `restore_command=${restoreCommand(layout)}`, ...settings],
      log: (line) => {
        lines.push(line);
        options.log?.(line);
      },
    });
  let recovered: EmbeddedDatabase;
  let endOfArchive = false;
  try {
    recovered = await replay([
      `recovery_target_time=${target.toISOString().replace('T', ' ').replace('Z', '+00')}`,
      'recovery_target_action=promote',
    ]);
  } catch (error) {
    if (!lines.some((l) => l.includes('recovery ended before configured recovery target was reached'))) throw error;
    // Nothing in the archive is later than the target: the database at the target is the
    // database at the archive's end. Recovery starts again and replays all of it.
    endOfArchive = true;
    recovered = await replay([]);
  }
  await recovered.stop();
  const stoppedAt = lines
    .flatMap((l) => l.split('\n'))
    .find((l) => /recovery stopping|last completed transaction/.test(l))
    ?.replace(/^.*?(recovery stopping|last completed transaction)/, '$1')
    .trim();
  return {
    backup,
    target: target.toISOString(),
    into,
    endOfArchive,
    ...(stoppedAt ? { stoppedAt } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
