// Configuration comes from environment variables only; every one has a documented default
// (README, "Environment variables").
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Config {
  readonly port: number;
  readonly host: string;
  /** When unset, an embedded PostgreSQL runs in dataDir. */
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly registryDir: string;
  readonly generatedDir: string;
  readonly migrationsDir: string;
  readonly migrateOnStart: boolean;
  readonly poolSize: number;
  /** Longest a single query may run before PostgreSQL cancels it (the request answers 503). */
  readonly statementTimeoutMs: number;
  /** How long a shutdown waits for in-flight requests before it closes their connections. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** Days a guest session lasts when not given (seed 8.9). */
  readonly guestSessionDays: number;
  /** Audit entries older than this many days are purged (critical ones kept); 0 keeps all. */
  readonly auditRetentionDays: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An integer setting from the environment: the fallback when unset, else a number within bounds. */
export function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromRoot = (name: string, fallback: string) => path.resolve(PROJECT_ROOT, env[name] || fallback);
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    registryDir: fromRoot('REGISTRY_DIR', 'registry'),
    generatedDir: fromRoot('GENERATED_DIR', 'generated'),
    migrationsDir: fromRoot('MIGRATIONS_DIR', 'migrations'),
    migrateOnStart: flag(env, 'MIGRATE_ON_START', true),
    poolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 500),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 30_000, 1, 3_600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 0, 600_000),
    logLevel: env.LOG_LEVEL || 'info',
    guestSessionDays: integer(env, 'GUEST_SESSION_DAYS', 30, 1, 365),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 0, 0, 36500),
  };
}
