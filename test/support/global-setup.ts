// One PostgreSQL for the whole run: DATABASE_URL's server when set (CI runs the suite on the
// machine's PostgreSQL 15 that way), otherwise an embedded PostgreSQL in a temporary folder.
// Each test file then creates its own database on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { startEmbeddedS3 } from '../../src/media/embedded-s3.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  }
}

/** One S3-compatible server for the run (test/support/s3.ts), with the buckets the test services use. */
async function startTestS3(project: TestProject): Promise<() => Promise<void>> {
  const directory = mkdtempSync(path.join(tmpdir(), 'reelmeta-test-s3-'));
  const s3 = await startEmbeddedS3({ directory, buckets: ['bucket', 'thumbnails'] });
  project.provide('s3', { endpoint: s3.endpoint, ...s3.credentials });
  return async () => {
    await s3.stop();
    rmSync(directory, { recursive: true, force: true });
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopS3 = await startTestS3(project);
  const stopPostgres = await startPostgres(project);
  return async () => {
    await stopPostgres();
    await stopS3();
  };
}

async function startPostgres(project: TestProject): Promise<() => Promise<void>> {
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
