// The embedded PostgreSQL's continuous archiving: every completed WAL segment is gzip'd into
// BACKUP_DIR/wal, and a segment in use is completed after at most archive_timeout. New segments
// are zero-filled rather than recycled, so a segment closed early compresses to a few kilobytes
// instead of staying 16 MB. The paths are ours (BACKUP_DIR, checked in config.ts), never a client's.
import path from 'node:path';
import type { BackupLayout } from './layout.ts';

const quoted = (file: string) => `'${file}'`;

/** The archive_command line: idempotent (an already archived, identical segment is success) and atomic (rename). */
export function archiveCommand(layout: BackupLayout): string {
  const target = quoted(path.join(layout.walDir, '%f.gz'));
  const part = quoted(path.join(layout.walDir, '%f.gz.part'));
  return (
    `if [ -f ${target} ]; then gunzip -c ${target} | cmp -s - %p; ` +
    `else gzip -1 -c %p > ${part} && sync ${part} && mv ${part} ${target}; fi`
  );
}

/** The restore_command line: fails (as PostgreSQL requires) for a segment the archive does not hold. */
export function restoreCommand(layout: BackupLayout): string {
  const source = quoted(path.join(layout.walDir, '%f.gz'));
  return `test -f ${source} && gunzip -c ${source} > %p`;
}

/** Server settings (`name=value`) that turn archiving on. */
export function archiveSettings(layout: BackupLayout, archiveTimeoutSeconds: number): string[] {
  return [
    'wal_level=replica',
    'archive_mode=on',
    `archive_command=${archiveCommand(layout)}`,
    `archive_timeout=${archiveTimeoutSeconds}`,
    'wal_recycle=off',
    'wal_init_zero=on',
  ];
}
