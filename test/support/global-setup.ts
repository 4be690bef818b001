// One PostgreSQL for the whole run: DATABASE_URL's server when set (CI runs the suite on the
// machine's PostgreSQL 15 that way), otherwise an embedded PostgreSQL in a temporary folder.
// Each test file then creates its own database on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('adminUrl', process.env.DATABASE_URL);
    return async () => undefined;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'reelmeta-test-pg-'));
  const embedded = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
  project.provide('adminUrl', embedded.url);
  return async () => {
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
