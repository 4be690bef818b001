// TLS to PostgreSQL (issue 7): `sslmode` in DATABASE_URL, with libpq's meaning, for the pool and
// the migrator alike. The test owns an embedded PostgreSQL: first without TLS (sslmode=require
// must refuse to start, with a clear message), then restarted with ssl=on and a certificate from a
// CA made here with the openssl CLI. Every connection the service opens is checked in the
// server's own log (log_connections) and in pg_stat_ssl.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabasePool } from '../src/db/pool.ts';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { sql } from 'slonik';
import { startTestService } from './support/service.ts';

const DATABASE = 'reelmeta_tls';
const dataDir = mkdtempSync(path.join(tmpdir(), 'reelmeta-tls-'));
const tlsDir = path.join(dataDir, 'tls');
const file = (name: string) => path.join(tlsDir, name);
let port: number;
let database: EmbeddedDatabase | undefined;
const serverLog: string[] = [];

/** A CA and a server certificate it signed, for `localhost` only (not 127.0.0.1: verify-full must notice). */
function makeCertificates(): void {
  mkdirSync(tlsDir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tlsDir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=reelmeta test CA',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  chmodSync(tlsDir, 0o755);
  chmodSync(file('server.crt'), 0o644);
  // PostgreSQL insists that its key is private to the user it runs as (`postgres` when we are root).
  chmodSync(file('server.key'), 0o600);
  if (process.getuid?.() === 0) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres']).toString().trim()));
    chownSync(file('server.key'), uid!, gid!);
  }
}

const start = (settings: readonly string[]) =>
  startEmbeddedPostgres({
    dataDir,
    database: DATABASE,
    port,
    settings: ['log_connections=on', ...settings],
    log: (line) => serverLog.push(line),
  });

/** The embedded server's URL with other query parameters. */
function urlWith(params: string, host = '127.0.0.1'): string {
  const url = new URL(database!.url);
  url.hostname = host;
  return `${url.toString()}?${params}`;
}

beforeAll(async () => {
  makeCertificates();
  port = await freePort();
  database = await start([]);
});

afterAll(async () => {
  await database?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('DATABASE_URL with sslmode', () => {
  it('refuses to start with sslmode=require when the server has no TLS, saying so', async () => {
    await expect(startTestService({ databaseUrl: urlWith('sslmode=require') })).rejects.toThrow(
      /does not accept TLS connections, but DATABASE_URL asks for sslmode=require/,
    );
    await expect(startTestService({ databaseUrl: urlWith('sslmode=prefer') })).rejects.toThrow(
      /sslmode=prefer is not supported; use one of disable, require, verify-ca, verify-full/,
    );
  });

  it('with the server on TLS, connects the migrator and the pool encrypted (require, verify-ca, verify-full)', async () => {
    await database!.stop();
    database = await start(['ssl=on', `ssl_cert_file=${file('server.crt')}`, `ssl_key_file=${file('server.key')}`]);
    serverLog.length = 0;

    const service = await startTestService({ databaseUrl: urlWith('sslmode=require') });
    try {
      const created = await service.request<{ id: string }>('POST', '/api/v1/shows', { body: { title: 'Over TLS' } });
      expect(created.status).toBe(201);
      expect((await service.request('GET', `/api/v1/shows/${created.body.data.id}`)).status).toBe(200);
      // Every backend serving the service right now is encrypted (this checking one is not).
      const plain = new pg.Client({
        connectionString: urlWith('sslmode=disable'),
        ssl: false,
        application_name: 'tls-check',
      });
      await plain.connect();
      try {
        const { rows } = await plain.query<{ ssl: boolean }>(
          'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND a.backend_type = $2',
          [DATABASE, 'client backend'],
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((r) => r.ssl)).toBe(true);
      } finally {
        await plain.end();
      }
    } finally {
      await service.stop();
    }
    // And so was every connection since the restart: the migrator's, the type lookup's, the pool's.
    const authorized = serverLog
      .flatMap((chunk) => chunk.split('\n'))
      .filter(
        (l) =>
          l.includes('connection authorized') &&
          l.includes(`database=${DATABASE}`) &&
          !l.includes('application_name=tls-check'),
      );
    expect(authorized.length).toBeGreaterThanOrEqual(2);
    expect(authorized.filter((l) => !l.includes('SSL enabled'))).toEqual([]);

    // verify-full against the name on the certificate, and verify-ca (chain only) against the address.
    for (const url of [
      urlWith(`sslmode=verify-full&sslrootcert=${file('ca.crt')}`, 'localhost'),
      urlWith(`sslmode=verify-ca&sslrootcert=${file('ca.crt')}`),
    ]) {
      const pool = await createDatabasePool(url, 1);
      try {
        expect(await pool.oneFirst(sql.unsafe`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`)).toBe(true);
      } finally {
        await pool.end();
      }
    }
  });

  it('verify-full rejects a certificate for another host name or from an unknown CA, with a clear message', async () => {
    await expect(
      startTestService({ databaseUrl: urlWith(`sslmode=verify-full&sslrootcert=${file('ca.crt')}`) }),
    ).rejects.toThrow(/presented a TLS certificate that sslmode=verify-full rejects .*sslrootcert/);
    await expect(startTestService({ databaseUrl: urlWith('sslmode=verify-full', 'localhost') })).rejects.toThrow(
      /sslmode=verify-full rejects/,
    );
    // A plain connection still works where the server allows it (sslmode=disable is the default).
    const service = await startTestService({ databaseUrl: urlWith('sslmode=disable') });
    await service.stop();
  });
});
