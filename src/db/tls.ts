// TLS to PostgreSQL, from libpq's parameters in DATABASE_URL (`sslmode`, `sslrootcert`, `sslcert`,
// `sslkey`, or PGSSLMODE / PGSSLROOTCERT in the environment). Read here once, with libpq's meaning,
// and handed as explicit TLS options to both slonik's pool and the migrator's pg client: slonik 47's
// own DSN parser knows only disable|require|no-verify, and both it and pg treat `require` as a full
// certificate check, unlike libpq.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { setting } from '../config.ts';

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface DatabaseTarget {
  /** DATABASE_URL without its TLS parameters. */
  readonly url: string;
  readonly sslMode: SslMode;
  /** TLS options for the connection; false for a plain one. */
  readonly ssl: false | ConnectionOptions;
  /** `host:port`, for messages. */
  readonly address: string;
}

const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];

export class DatabaseTlsError extends Error {
  override readonly name = 'DatabaseTlsError';
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DatabaseTlsError(`cannot read the ${what} ${file} named in DATABASE_URL: ${(error as Error).message}`);
  }
}

export function databaseTarget(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const parsed = new URL(databaseUrl);
  const param = (name: string) => parsed.searchParams.get(name) ?? undefined;
  const mode = param('sslmode') ?? setting(env, 'PGSSLMODE') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new DatabaseTlsError(`sslmode=${mode} is not supported; use one of ${SSL_MODES.join(', ')}`);
  }
  const sslMode = mode as SslMode;
  const rootCert = param('sslrootcert') ?? setting(env, 'PGSSLROOTCERT');
  const cert = param('sslcert');
  const key = param('sslkey');
  if (Boolean(cert) !== Boolean(key))
    throw new DatabaseTlsError('sslcert and sslkey go together: give both or neither');
  for (const name of TLS_PARAMETERS) parsed.searchParams.delete(name);
  const address = `${parsed.hostname}:${parsed.port || '5432'}`;
  if (sslMode === 'disable') return { url: parsed.toString(), sslMode, ssl: false, address };

  // `system` (as in libpq 16): the platform's CA store, which is also Node's default.
  const ca = rootCert && rootCert !== 'system' ? readPem(rootCert, 'CA file (sslrootcert)') : undefined;
  const ssl: ConnectionOptions = {
    ...(ca ? { ca } : {}),
    ...(cert && key
      ? { cert: readPem(cert, 'client certificate (sslcert)'), key: readPem(key, 'client key (sslkey)') }
      : {}),
    // require: encrypted, certificate not checked, unless a CA is given (then as verify-ca, like libpq).
    rejectUnauthorized: sslMode !== 'require' || ca !== undefined,
    // verify-ca checks the chain but not that the certificate names this host.
    ...(sslMode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
  return { url: parsed.toString(), sslMode, ssl, address };
}

/** A connection failure at start-up, said in terms of DATABASE_URL's TLS settings. */
export function explainConnectionFailure(error: unknown, target: DatabaseTarget): Error {
  const reason = error instanceof Error ? error.message : String(error);
  if (/does not support SSL/i.test(reason)) {
    return new DatabaseTlsError(
      `the database at ${target.address} does not accept TLS connections, but DATABASE_URL asks for sslmode=${target.sslMode}: enable ssl on the server, or use sslmode=disable`,
    );
  }
  if (target.sslMode !== 'disable' && /certificate|self.signed|altnames|CERT_|unable to verify/i.test(reason)) {
    return new DatabaseTlsError(
      `the database at ${target.address} presented a TLS certificate that sslmode=${target.sslMode} rejects (${reason}); ` +
        'point sslrootcert in DATABASE_URL (or PGSSLROOTCERT) at the CA bundle that signed it, e.g. the RDS global bundle',
    );
  }
  if (/no pg_hba.conf entry.*no encryption/i.test(reason)) {
    return new DatabaseTlsError(
      `the database at ${target.address} requires TLS (${reason}): add sslmode=verify-full (or require) to DATABASE_URL`,
    );
  }
  return error instanceof Error ? error : new Error(reason);
}
