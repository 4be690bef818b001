// What a server of one's own (DATABASE_URL) says about its backups, read at start: point-in-time
// recovery needs WAL archiving on and an archiver that is not failing. Amazon RDS manages both
// (automated backups), so there only the retention can be off, which the server cannot tell us.
import pg from 'pg';

export interface BackupWarning {
  readonly code: 'ARCHIVING_OFF' | 'ARCHIVER_FAILING' | 'ARCHIVER_IDLE';
  readonly message: string;
}

const RUNBOOK = 'docs/operations.md#backups-and-point-in-time-recovery';

export async function backupWarnings(databaseUrl: string): Promise<BackupWarning[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // The server going away (a shutdown) fails the query in flight; unheard, the event would end the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{
      archive_mode: string;
      rds: boolean;
      archived_count: number;
      failed_count: number;
      last_archived_time: Date | null;
      last_failed_time: Date | null;
      last_failed_wal: string | null;
    }>(
      `SELECT current_setting('archive_mode') AS archive_mode,
              current_setting('rds.extensions', true) IS NOT NULL AS rds,
              archived_count::int, failed_count::int, last_archived_time, last_failed_time, last_failed_wal
         FROM pg_stat_archiver`,
    );
    const state = rows[0]!;
    const where = state.rds
      ? 'on RDS, automated backups (a retention period above 0)'
      : 'archive_mode=on with an archive_command or pgBackRest';
    if (state.archive_mode === 'off')
      return [
        {
          code: 'ARCHIVING_OFF',
          message: `WAL archiving is off on the database server: no point-in-time recovery, a lost server loses everything since its last backup (NFR-5 asks for an RPO under 15 minutes). Turn on ${where}; see ${RUNBOOK}`,
        },
      ];
    const failedLast =
      state.last_failed_time && (!state.last_archived_time || state.last_failed_time > state.last_archived_time);
    if (failedLast)
      return [
        {
          code: 'ARCHIVER_FAILING',
          message: `the database server's WAL archiver is failing (${state.failed_count} failures, last for ${state.last_failed_wal} at ${state.last_failed_time!.toISOString()}): WAL piles up in pg_wal and point-in-time recovery stops at the last archived segment; see ${RUNBOOK}`,
        },
      ];
    return [];
  } finally {
    await client.end();
  }
}
