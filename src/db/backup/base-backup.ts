// A base backup of a running embedded PostgreSQL with the server's own low-level API (the embedded
// package ships no pg_basebackup): pg_backup_start, a copy of the data folder while the server
// runs, pg_backup_stop, whose backup_label goes into the copy. The copy may hold torn pages;
// replaying the archived WAL from the start position mends them (full-page writes are forced
// during the backup), which is why pg_backup_stop waits until that WAL is archived.
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { MANIFEST, type BaseBackup } from './catalog.ts';
import { copyTree, type CopyCount } from './copy-tree.ts';
import { prepareLayout, type BackupLayout } from './layout.ts';

const backupId = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/**
 * Takes a base backup of the cluster in `clusterDir`, served at `adminUrl`, into
 * BACKUP_DIR/base/<id>. Only a complete backup gets its backup.json; a failed one is removed.
 */
export async function takeBaseBackup(options: {
  adminUrl: string;
  clusterDir: string;
  /** The cluster's credentials.json, kept beside the copy: the restored cluster has the same users. */
  credentialsFile: string;
  layout: BackupLayout;
}): Promise<BaseBackup> {
  const { layout } = options;
  prepareLayout(layout);
  const client = new pg.Client({ connectionString: options.adminUrl });
  // The server going away (a shutdown) fails the query in flight; unheard, the event would end the process.
  client.on('error', () => undefined);
  await client.connect();
  const startedAt = new Date();
  let id = backupId(startedAt);
  while (existsSync(path.join(layout.baseDir, id)))
    id = `${backupId(startedAt)}-${Math.random().toString(36).slice(2, 6)}`;
  const partial = path.join(layout.baseDir, `${id}.part`);
  try {
    const archiving = await client.query<{ archive_mode: string }>('SHOW archive_mode');
    if (archiving.rows[0]?.archive_mode === 'off')
      throw new Error('WAL archiving is off on this server: a base backup without its WAL cannot be restored');
    const started = await client.query<{ lsn: string; wal: string; timeline: number; version: string }>(
      `SELECT lsn::text, pg_walfile_name(lsn) AS wal, (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline,
              current_setting('server_version') AS version
         FROM pg_backup_start($1, true) AS lsn`,
      [`reelmeta ${id}`],
    );
    const start = started.rows[0]!;
    const count: CopyCount = { files: 0, bytes: 0 };
    await copyTree(options.clusterDir, path.join(partial, 'data'), count);
    // pg_backup_stop(true) returns once the WAL the backup needs is in the archive.
    const stopped = await client.query<{ lsn: string; labelfile: string; spcmapfile: string }>(
      'SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(true)',
    );
    const stop = stopped.rows[0]!;
    await writeFile(path.join(partial, 'data', 'backup_label'), stop.labelfile);
    if (stop.spcmapfile) await writeFile(path.join(partial, 'data', 'tablespace_map'), stop.spcmapfile);
    await copyFile(options.credentialsFile, path.join(partial, 'credentials.json'));
    const backup: BaseBackup = {
      id,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      start_lsn: start.lsn,
      stop_lsn: stop.lsn,
      start_wal: start.wal,
      timeline: Number(start.timeline),
      server_version: start.version,
      bytes: count.bytes,
      files: count.files,
    };
    await writeFile(path.join(partial, MANIFEST), `${JSON.stringify(backup, null, 2)}\n`);
    await rename(partial, path.join(layout.baseDir, id));
    return backup;
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  } finally {
    // Ending the session also ends a backup left started (non-exclusive backups belong to it).
    await client.end();
  }
}
