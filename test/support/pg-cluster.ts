// A PostgreSQL cluster of the test's own, from the machine's PostgreSQL binaries (PG_BIN_DIR,
// default Debian's /usr/lib/postgresql/15/bin): a primary made with initdb, and streaming
// replicas of it made with `pg_basebackup -R`, each on its own port in a temporary folder, with
// trust authentication on loopback only. Run as root, they run as the postgres user.
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { freePort } from '../../src/db/embedded.ts';
import { onServer } from './database.ts';

export const PG_BIN_DIR = process.env.PG_BIN_DIR || '/usr/lib/postgresql/15/bin';
/** Whether the binaries a replica needs are here (the tests that need them say so when not). */
export const pgBinariesPresent = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].every((b) =>
  existsSync(path.join(PG_BIN_DIR, b)),
);

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
async function pgCommand(binary: string, args: string[]): Promise<string> {
  const file = path.join(PG_BIN_DIR, binary);
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    return (await run(command, argv, { timeout: 120_000 })).stdout;
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${failed.stderr || failed.message}`);
  }
}

export interface Cluster {
  readonly port: number;
  readonly dir: string;
  url(database?: string): string;
  query<T extends pg.QueryResultRow>(text: string, values?: unknown[], database?: string): Promise<T[]>;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: sessions are cut, the server shuts down cleanly. */
  stop(): Promise<void>;
  /** Stops it (if running) and removes its folder. */
  remove(): Promise<void>;
}

function cluster(root: string, dir: string, port: number): Cluster {
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let running = false;
  const self: Cluster = {
    port,
    dir,
    url,
    query: (text, values, database) => onServer(url(database), async (c) => (await c.query(text, values)).rows),
    start: async () => {
      await pgCommand('pg_ctl', ['start', '-w', '-t', '60', '-D', dir, '-l', path.join(root, 'server.log')]);
      running = true;
    },
    stop: async () => {
      if (!running) return;
      await pgCommand('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', dir]);
      running = false;
    },
    remove: async () => {
      await self.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return self;
}

function newRoot(name: string): string {
  const root = mkdtempSync(path.join(tmpdir(), `reelmeta-${name}-`));
  // The postgres user writes its log here and owns the data folder inside.
  chmodSync(root, 0o777);
  return root;
}

const SETTINGS = (port: number, extra: readonly string[]) =>
  [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    'max_connections = 100',
    'max_wal_senders = 5',
    'wal_level = replica',
    'hot_standby = on',
    'fsync = off',
    ...extra,
  ].join('\n');

/** A primary, started. `settings` are extra postgresql.conf lines. */
export async function startPrimary(settings: readonly string[] = []): Promise<Cluster> {
  const root = newRoot('primary');
  const dir = path.join(root, 'data');
  const port = await freePort();
  await pgCommand('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  // initdb's pg_hba already trusts replication connections from loopback.
  appendFileSync(path.join(dir, 'postgresql.conf'), `\n${SETTINGS(port, settings)}\n`);
  const primary = cluster(root, dir, port);
  await primary.start();
  return primary;
}

/** A streaming replica of `primary` (pg_basebackup -R writes standby.signal and primary_conninfo), started. */
export async function startReplica(primary: Cluster): Promise<Cluster> {
  const root = newRoot('replica');
  const dir = path.join(root, 'data');
  const port = await freePort();
  await pgCommand('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    dir,
    '-R',
    '-X',
    'stream',
    // A fast checkpoint: the default spread one makes pg_basebackup wait for minutes.
    '--checkpoint=fast',
    '--no-sync',
  ]);
  appendFileSync(path.join(dir, 'postgresql.conf'), `\nport = ${port}\n`);
  const replica = cluster(root, dir, port);
  await replica.start();
  return replica;
}

/** Whether runuser is here when we need it (as root). */
export const canRunAsPostgres = !asRoot || spawnSync('runuser', ['--help']).status === 0;
