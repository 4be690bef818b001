// Behind PgBouncer in transaction mode (issue 18): the service keeps no session state a pooler
// that hands each transaction to any server connection would break. The test starts Debian's
// pgbouncer (skipped without it) with 3 server connections for many more clients, migrates the
// database directly (migrations hold a session lock), starts the service through it with
// DB_PREPARED_STATEMENTS=false and drives creates, conditional patches, lists, a batch, an
// idempotent POST and an export at once; every answer is checked, and so is that PgBouncer never
// opened more than its 3 server connections, that no advisory lock or setting stayed behind on them,
// and what DB_PREPARED_STATEMENTS=true does behind a PgBouncer that cannot keep named statements.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { freePort } from '../src/db/embedded.ts';
import { migrateUp, migrationStatus } from '../src/db/migrator.ts';
import { startService } from '../src/service.ts';
import { createTestDatabase, onServer, type TestDatabase } from './support/database.ts';
import { testS3Settings } from './support/s3.ts';
import { startTestService, withClient, type Rec, type TestService } from './support/service.ts';

const BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'].find((p) => existsSync(p));
/** e.g. [1, 18]; named statements in transaction mode need 1.21 and max_prepared_statements. */
const VERSION = BINARY
  ? (/PgBouncer (\d+)\.(\d+)/
      .exec(execFileSync(BINARY, ['--version']).toString())
      ?.slice(1, 3)
      .map(Number) ?? [0, 0])
  : [0, 0];
const KEEPS_PREPARED = VERSION[0]! > 1 || (VERSION[0] === 1 && VERSION[1]! >= 21);
/** Server connections per database and user: far fewer than the service's clients. */
const SERVER_POOL = 3;
const CLIENT_POOL = 12;
const MIGRATIONS = loadConfig({}).migrationsDir;

/** The user pgbouncer runs as: itself, unless that is root (pgbouncer refuses to run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, user]).toString().trim()));
      return { uid: uid!, gid: gid! };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('running as root, and there is neither a postgres nor a nobody user for pgbouncer to run as');
}

const title = BINARY
  ? `behind PgBouncer ${VERSION.join('.')} in transaction mode (${BINARY})`
  : 'behind PgBouncer in transaction mode: SKIPPED, no pgbouncer binary (install the Debian package: apt-get install pgbouncer)';

describe.skipIf(!BINARY)(title, () => {
  let dir: string | undefined;
  let logFile: string;
  let db: TestDatabase;
  let bouncer: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port: number;
  let user: string;
  let password: string;
  let service: TestService | undefined;
  let preparedService: TestService | undefined;
  const preparedLog: string[] = [];

  /** A URL through PgBouncer to one of its databases (`pgbouncer` is its admin console). */
  const bounced = (database: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  /** A second name for the test database: a pool (and server connections) of its own. */
  const preparedAlias = () => `${db.name}_prepared`;

  const adminConsole = <T extends pg.QueryResultRow>(command: string) =>
    onServer(bounced('pgbouncer'), async (c) => (await c.query<T>(command)).rows);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reelmeta-pgbouncer-'));
    logFile = path.join(dir, 'pgbouncer.log');
    db = await createTestDatabase();
    const server = new URL(db.url);
    user = decodeURIComponent(server.username) || 'postgres';
    // The server's password when it asks for one (the embedded PostgreSQL: scram-sha-256); PgBouncer
    // logs in with the auth_file's password, and checks the clients' against it.
    password = decodeURIComponent(server.password) || randomBytes(12).toString('hex');
    // Migrations hold a session-level advisory lock and run online steps outside transactions:
    // they go to PostgreSQL directly, never through the pooler (docs/deployment.md).
    await migrateUp(db.url, MIGRATIONS);

    port = await freePort();
    const target = `host=${server.hostname} port=${server.port || 5432} dbname=${db.name}`;
    // slonik sends statement_timeout and idle_in_transaction_session_timeout as startup parameters;
    // PgBouncer 1.18 refuses a client that sends them unless told to ignore them, so the pooled
    // server connections get them from connect_query instead (every client shares those values).
    const timeouts = `connect_query='SET statement_timeout = 30000; SET idle_in_transaction_session_timeout = 60000'`;
    writeFileSync(
      path.join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `${db.name} = ${target} ${timeouts}`,
        `${preparedAlias()} = ${target} ${timeouts}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = scram-sha-256',
        `auth_file = ${path.join(dir, 'userlist.txt')}`,
        `admin_users = ${user}`,
        'pool_mode = transaction',
        `default_pool_size = ${SERVER_POOL}`,
        'min_pool_size = 0',
        'reserve_pool_size = 0',
        'max_client_conn = 200',
        'ignore_startup_parameters = statement_timeout, idle_in_transaction_session_timeout',
        ...(KEEPS_PREPARED ? ['max_prepared_statements = 100'] : []),
        `logfile = ${logFile}`,
        `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'userlist.txt'), `"${user}" "${password}"\n`, { mode: 0o600 });
    const owner = runAs();
    if (owner) for (const name of ['', ...readdirSync(dir)]) chownSync(path.join(dir, name), owner.uid, owner.gid);

    const child = spawn(BINARY!, [path.join(dir, 'pgbouncer.ini')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(owner ?? {}),
    });
    bouncer = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') + stderr;
    for (let waited = 0; ; waited += 100) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`pgbouncer exited at start (${child.exitCode ?? child.signalCode}):\n${log()}`);
      try {
        await adminConsole('SHOW VERSION');
        break;
      } catch (error) {
        if (waited >= 10_000) throw new Error(`pgbouncer does not answer on ${port}: ${error}\n${log()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    service = await startTestService({
      databaseUrl: bounced(db.name),
      // Only checks that every migration is applied: through the pooler, in one transaction.
      migrateOnStart: false,
      preparedStatements: false,
      poolSize: CLIENT_POOL,
      // Requests queue for the 3 server connections: a busy machine must not turn that into 503s.
      dbConnectTimeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await preparedService?.stop();
    if (bouncer && bouncer.exitCode === null && bouncer.signalCode === null) {
      bouncer.kill('SIGTERM'); // immediate shutdown
      const timer = setTimeout(() => bouncer?.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Samples, until stopped, the service pool's clients and servers as PgBouncer and PostgreSQL see them. */
  function watchConnections() {
    const most = { clients: 0, servers: 0, backends: 0, samples: 0 };
    let running = true;
    const done = (async () => {
      const consoleClient = new pg.Client({ connectionString: bounced('pgbouncer') });
      // Not to the test database: this connection must not count among its backends.
      const postgres = new pg.Client({ connectionString: new URL('/postgres', db.url).toString() });
      await Promise.all([consoleClient.connect(), postgres.connect()]);
      try {
        while (running) {
          const [pools, backends] = await Promise.all([
            consoleClient.query('SHOW POOLS'),
            postgres.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
              [db.name],
            ),
          ]);
          const pool = pools.rows.find((r) => r.database === db.name && r.user === user);
          if (pool) {
            most.clients = Math.max(most.clients, Number(pool.cl_active) + Number(pool.cl_waiting));
            most.servers = Math.max(
              most.servers,
              ['sv_active', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login'].reduce((n, k) => n + Number(pool[k]), 0),
            );
          }
          most.backends = Math.max(most.backends, backends.rows[0].n as number);
          most.samples += 1;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await Promise.all([consoleClient.end(), postgres.end()]);
      }
    })();
    return {
      most,
      stop: async () => {
        running = false;
        await done;
      },
    };
  }

  /** Server connections PgBouncer logged in to the database under `alias`, since it started. */
  const serverLogins = (alias: string) =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes(` ${alias}/${user}@`) && line.includes('new connection to server')).length;

  const advisoryLocks = () =>
    onServer(new URL('/postgres', db.url).toString(), async (c) =>
      (
        await c.query(
          "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
          [db.name],
        )
      ).rows.map((r) => r.pid as number),
    );

  it('serves concurrent work correctly on 3 server connections shared by many more clients', async () => {
    const { request } = service!;
    const SEASON = 42;
    const N = 24;
    const key = randomUUID();
    const once = { title: 'Once through the pooler', season: SEASON + 2 };
    const work = async () => {
      const created = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          request<Rec>('POST', '/api/v1/episodes', {
            body: { title: `Bounced ${i}`, season: SEASON, episode_number: i + 1, status: 'in-production' },
          }),
        ),
      );
      for (const reply of created) expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
      const [writes, lists, batch, idempotent, exported] = await Promise.all([
        // A read by id, a PATCH conditional on the version it answered, then that version again: stale.
        Promise.all(
          created.map(async (reply, i) => {
            const id = reply.body.data.id;
            const read = await request<Rec>('GET', `/api/v1/episodes/${id}`);
            expect(read.body.data).toMatchObject({ id, title: `Bounced ${i}`, season: SEASON });
            const etag = read.headers.get('etag')!;
            const patched = await request<Rec>('PATCH', `/api/v1/episodes/${id}`, {
              body: { title: `Bounced ${i} (patched)`, wardrobe: { shoes: { color: 'black' } } },
              headers: { 'if-match': etag },
            });
            const stale = await request<Rec>('PATCH', `/api/v1/episodes/${id}`, {
              body: { title: 'lost update' },
              headers: { 'if-match': etag },
            });
            return [patched, stale];
          }),
        ).then((pairs) => pairs.flat()),
        Promise.all(
          Array.from({ length: 8 }, () =>
            request<Rec[]>('GET', `/api/v1/episodes?season=${SEASON}&status=in_production&_limit=100`),
          ),
        ),
        request<{ status: number }[]>('POST', '/api/v1/episodes/batch?atomic=true', {
          body: {
            operations: Array.from({ length: 4 }, (_, i) => ({
              op: 'create',
              data: { title: `Batched ${i}`, season: SEASON + 1, episode_number: i + 1 },
            })),
          },
        }),
        Promise.all(
          Array.from({ length: 6 }, () =>
            request<Rec>('POST', '/api/v1/episodes', { body: once, headers: { 'idempotency-key': key } }),
          ),
        ),
        request('GET', `/api/v1/episodes/export?format=ndjson&season=${SEASON}`),
      ]);
      // Sent again later, the idempotent POST replays its one answer.
      const retry = await request<Rec>('POST', '/api/v1/episodes', { body: once, headers: { 'idempotency-key': key } });
      return { created, writes, lists, batch, idempotent, exported, retry };
    };
    const watch = watchConnections();
    const { created, writes, lists, batch, idempotent, exported, retry } = await work().finally(() => watch.stop());

    for (const [i, reply] of writes.entries()) {
      if (i % 2 === 0) expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
      else {
        expect(reply.status).toBe(412);
        expect(reply.body.errors[0]!.code).toBe('PRECONDITION_FAILED');
      }
    }
    for (const list of lists) {
      expect(list.status, JSON.stringify(list.body.errors)).toBe(200);
      expect(list.body.data).toHaveLength(N);
      expect(new Set(list.body.data.map((r) => r.season))).toEqual(new Set([SEASON]));
    }
    expect(batch.status, JSON.stringify(batch.body.errors)).toBe(200);
    expect(batch.body.data.map((item) => item.status)).toEqual([201, 201, 201, 201]);
    const ran = idempotent.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
    expect(ran).toHaveLength(1);
    for (const reply of idempotent.filter((r) => r !== ran[0])) {
      if (reply.status === 409) expect(reply.body.errors[0]!.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      else expect(reply.body).toEqual(ran[0]!.body);
    }
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.data.id).toBe(ran[0]!.body.data.id);
    expect(exported.status).toBe(200);
    const lines = exported.text.trim().split('\n');
    expect(lines).toHaveLength(N);
    expect(new Set(lines.map((line) => (JSON.parse(line) as Rec).id))).toEqual(
      new Set(created.map((r) => r.body.data.id)),
    );

    // What was stored, read back through the pooler.
    const after = await request<Rec[]>('GET', `/api/v1/episodes?season=${SEASON}&_sort=episode_number&_limit=100`);
    expect(after.body.data.map((r) => r.title)).toEqual(Array.from({ length: N }, (_, i) => `Bounced ${i} (patched)`));
    expect(after.body.data.every((r) => (r.wardrobe as { shoes: { color: string } }).shoes.color === 'black')).toBe(
      true,
    );
    const counted = async (query: string) =>
      (await request<Rec[]>('GET', `/api/v1/episodes?${query}&_limit=100`)).body.data.length;
    expect(await counted(`season=${SEASON + 1}`)).toBe(4);
    expect(await counted(`season=${SEASON + 2}`)).toBe(1);

    // Clients outnumbered the servers, which never grew past the pool (pg-boss's pool shares it too).
    expect(watch.most.samples).toBeGreaterThan(3);
    expect(watch.most.clients).toBeGreaterThan(SERVER_POOL);
    expect(watch.most.servers).toBeLessThanOrEqual(SERVER_POOL);
    expect(watch.most.backends).toBeLessThanOrEqual(SERVER_POOL);
    expect(serverLogins(db.name)).toBeGreaterThan(0);
    expect(serverLogins(db.name)).toBeLessThanOrEqual(SERVER_POOL);
  });

  it('leaves no session state on the shared server connections: no advisory lock, no setting', async () => {
    expect(await advisoryLocks()).toEqual([]);
    // Three transactions at once hold all three server connections: each still has the pool's settings.
    const clients = Array.from({ length: SERVER_POOL }, () => new pg.Client({ connectionString: bounced(db.name) }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      await Promise.all(clients.map((c) => c.query('BEGIN')));
      const settings = await Promise.all(
        clients.map(
          async (c) =>
            (
              await c.query(
                `SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS statement_timeout,
                   current_setting('lock_timeout') AS lock_timeout,
                   current_setting('idle_in_transaction_session_timeout') AS idle_timeout,
                   current_setting('search_path') AS search_path,
                   (SELECT count(*)::int FROM pg_prepared_statements) AS prepared`,
              )
            ).rows[0],
        ),
      );
      await Promise.all(clients.map((c) => c.query('COMMIT')));
      expect(new Set(settings.map((s) => s.pid)).size).toBe(SERVER_POOL);
      for (const { pid: _, ...s } of settings)
        expect(s).toEqual({
          statement_timeout: '30s',
          lock_timeout: '0',
          idle_timeout: '1min',
          search_path: '"$user", public',
          prepared: 0,
        });
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('reads the migration history through the pooler without leaving its lock behind', async () => {
    // MIGRATE_ON_START=false instances and the CLI read it on start, here twelve at once.
    const states = await Promise.all(Array.from({ length: 12 }, () => migrationStatus(bounced(db.name), MIGRATIONS)));
    for (const state of states) expect(state.every((s) => s.state === 'applied')).toBe(true);
    expect(await advisoryLocks()).toEqual([]);
  });

  it(`with DB_PREPARED_STATEMENTS=true: ${KEEPS_PREPARED ? 'works, with max_prepared_statements' : 'works: PgBouncer < 1.21 loses named statements, and the service stops naming them'}`, async () => {
    const ids = (await service!.request<Rec[]>('GET', '/api/v1/episodes?season=42&_limit=100')).body.data.map(
      (r) => r.id,
    );
    const lines = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        preparedLog.push(chunk.toString());
        callback();
      },
    });
    // Its own alias: a pool of its own, so named statements never reach the first service's servers.
    preparedService = withClient(
      await startService(
        {
          ...loadConfig({}),
          port: 0,
          host: '127.0.0.1',
          rateLimitEnabled: false,
          s3: testS3Settings(),
          logLevel: 'error',
          databaseUrl: bounced(preparedAlias()),
          migrateOnStart: false,
          preparedStatements: true,
          poolSize: CLIENT_POOL,
          dbConnectTimeoutMs: 10_000,
        },
        pino({ level: 'error' }, lines),
      ),
    );
    const statuses: number[] = [];
    // Reads by id are named statements; concurrent ones land on other server connections than
    // the one their client connection prepared them on.
    for (let round = 0; round < 5; round++) {
      const replies = await Promise.all(
        [...ids, ...ids].map((id) => preparedService!.request('GET', `/api/v1/episodes/${id}`)),
      );
      statuses.push(...replies.map((r) => r.status));
    }
    // Without the fallback (driver.ts), 27 of the first 48 answered 500: `prepared statement
    // "rm_…" already exists` or `does not exist`. Each such read now runs again unnamed.
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(preparedLog.join('')).toBe('');
  });
});
