// The base backups in BACKUP_DIR/base, each described by its backup.json, and pruning: the newest
// BACKUP_KEEP are kept, with every archived WAL segment from the oldest kept one's start on.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BackupLayout } from './layout.ts';

export interface BaseBackup {
  readonly id: string;
  /** When pg_backup_start returned, and when pg_backup_stop did: restorable to any time after `finished_at`. */
  readonly started_at: string;
  readonly finished_at: string;
  readonly start_lsn: string;
  readonly stop_lsn: string;
  /** The WAL segment replay starts from: earlier segments are not needed by this backup. */
  readonly start_wal: string;
  readonly timeline: number;
  readonly server_version: string;
  readonly bytes: number;
  readonly files: number;
}

export const MANIFEST = 'backup.json';
/** A `.part` folder this old is no backup under way (the largest takes minutes). */
const STALE_PART_MS = 24 * 3600 * 1000;

/** Complete backups (with their manifest), oldest first. */
export function listBackups(layout: BackupLayout): BaseBackup[] {
  if (!existsSync(layout.baseDir)) return [];
  return readdirSync(layout.baseDir)
    .filter((id) => !id.endsWith('.part') && existsSync(path.join(layout.baseDir, id, MANIFEST)))
    .map((id) => JSON.parse(readFileSync(path.join(layout.baseDir, id, MANIFEST), 'utf8')) as BaseBackup)
    .sort((a, b) => a.finished_at.localeCompare(b.finished_at));
}

/** The newest backup a restore to `target` can start from: one that finished before it. */
export function backupFor(layout: BackupLayout, target: Date): BaseBackup | undefined {
  return listBackups(layout)
    .filter((b) => Date.parse(b.finished_at) < target.getTime())
    .at(-1);
}

/** A segment file name (24 hex digits, possibly gzip'd), not a history or backup-history file. */
const SEGMENT = /^([0-9A-F]{24})(?:\.partial)?\.gz$/;

export interface ArchiveSpan {
  readonly segments: number;
  readonly bytes: number;
  /** The newest archived segment's time: roughly the latest point a restore can reach today. */
  readonly newest_at?: string;
}

export function archiveSpan(layout: BackupLayout): ArchiveSpan {
  if (!existsSync(layout.walDir)) return { segments: 0, bytes: 0 };
  let segments = 0;
  let bytes = 0;
  let newest = 0;
  for (const name of readdirSync(layout.walDir)) {
    if (!SEGMENT.test(name)) continue;
    const stat = statSync(path.join(layout.walDir, name));
    segments += 1;
    bytes += stat.size;
    newest = Math.max(newest, stat.mtimeMs);
  }
  return { segments, bytes, ...(newest > 0 ? { newest_at: new Date(newest).toISOString() } : {}) };
}

/** Removes all but the newest `keep` backups and the segments no kept backup needs; says what went. */
export function prune(layout: BackupLayout, keep: number): { backups: string[]; segments: number } {
  const backups = listBackups(layout);
  const dropped = backups.slice(0, Math.max(0, backups.length - keep));
  for (const backup of dropped) rmSync(path.join(layout.baseDir, backup.id), { recursive: true, force: true });
  // A backup cut short by a stop leaves its `.part` folder when the process exits first.
  for (const name of existsSync(layout.baseDir) ? readdirSync(layout.baseDir) : []) {
    const folder = path.join(layout.baseDir, name);
    if (name.endsWith('.part') && Date.now() - statSync(folder).mtimeMs > STALE_PART_MS)
      rmSync(folder, { recursive: true, force: true });
  }
  const oldestKept = backups[dropped.length];
  let segments = 0;
  if (oldestKept && existsSync(layout.walDir)) {
    // Segment names sort by timeline, then position; the segment a backup starts in, and later, stay.
    // Only the kept backup's timeline and older ones are pruned by name; history files always stay.
    for (const name of readdirSync(layout.walDir)) {
      const segment = SEGMENT.exec(name)?.[1];
      if (segment && segment < oldestKept.start_wal) {
        rmSync(path.join(layout.walDir, name), { force: true });
        segments += 1;
      }
    }
  }
  return { backups: dropped.map((b) => b.id), segments };
}
