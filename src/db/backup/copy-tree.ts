// Copies a PostgreSQL data folder as a base backup needs it: without the files that belong to the
// running server alone, with the folders rebuilt at start left empty, and skipping a file the server
// removes while the copy runs (a dropped table's).
import type { Dirent } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Left out of the copy (PostgreSQL's own list): rebuilt at start, or this server's alone. */
const SKIPPED_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'recovery.signal', 'standby.signal']);
/** Copied as empty folders. */
const EMPTIED_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);

export interface CopyCount {
  files: number;
  bytes: number;
}

/** Copies `from` into `to`; a file the server removes meanwhile (a dropped table's) is skipped. */
export async function copyTree(
  from: string,
  to: string,
  count: CopyCount = { files: 0, bytes: 0 },
  top = true,
): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  let entries: Dirent[];
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (top && EMPTIED_DIRS.has(entry.name)) {
        await mkdir(target, { mode: 0o700 });
        if (entry.name === 'pg_wal') await mkdir(path.join(target, 'archive_status'), { mode: 0o700 });
      } else if (!entry.name.startsWith('pgsql_tmp')) await copyTree(source, target, count, false);
      continue;
    }
    if (!entry.isFile() || (top && SKIPPED_FILES.has(entry.name))) continue;
    try {
      await copyFile(source, target);
      count.files += 1;
      count.bytes += (await stat(target)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
