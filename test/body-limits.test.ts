// Every route of the app, with every method that can carry a body, refuses a body over the
// documented limit with 413 PAYLOAD_TOO_LARGE: declared by Content-Length (refused before it is
// read) and chunked without one (read only up to the limit). The routes are the app's own table,
// so a route added later is swept too.
import http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.ts';
import { MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES, MAX_IMPORT_BYTES } from '../src/api/body.ts';
import { createDatabasePool, type DatabasePool } from '../src/db/pool.ts';
import { useServiceForFile } from './support/file-service.ts';
import { shippedModel } from './support/fixtures.ts';

const fixture = useServiceForFile();
let pool: DatabasePool | undefined;
let routes: { method: string; path: string }[] = [];

beforeAll(async () => {
  pool = await createDatabasePool(fixture.db.url, 1);
  const app = createApp({
    model: shippedModel(),
    pool,
    logger: pino({ level: 'silent' }),
  });
  // Concrete paths: parameters filled in, middleware patterns (`*`) left out.
  const paths = [...new Set(app.routes.map((r) => r.path).filter((p) => !p.includes('*')))].map((p) =>
    p.replace(/:[^/]+/g, 'x1'),
  );
  // Every method that may carry a body (GET and HEAD requests have none in fetch and node's server).
  routes = paths.flatMap((p) => ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => ({ method, path: p })));
});
afterAll(() => pool?.end());

const CHUNK = Buffer.alloc(64 * 1024, 0x20);

/**
 * Sends a body declared as `declared` bytes (none of them sent), or a chunked one of `total`
 * bytes (endless by default), until the server answers.
 */
function sendOverLimit(
  method: string,
  target: string,
  declared?: number,
  total = Infinity,
): Promise<{ status: number; code: string | undefined }> {
  const url = new URL(target, fixture.service.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // Node frames DELETE and OPTIONS bodies only when told to.
    headers[declared === undefined ? 'transfer-encoding' : 'content-length'] =
      declared === undefined ? 'chunked' : String(declared);
    const request = http.request(url, { method, headers });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        request.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? (JSON.parse(text) as { errors?: { code: string }[] }) : {};
        resolve({ status: response.statusCode ?? 0, code: body.errors?.[0]?.code });
      });
    });
    // The server closes the connection after its answer, while this side may still be writing.
    request.on('error', (error) => (answered ? undefined : reject(error)));
    if (declared !== undefined) {
      request.flushHeaders();
      return;
    }
    let sent = 0;
    const pump = () => {
      while (!answered && !request.destroyed) {
        if (sent >= total) return void request.end();
        sent += CHUNK.length;
        if (!request.write(CHUNK)) return void request.once('drain', pump);
      }
    };
    pump();
  });
}

/**
 * The server answers 413 and closes while this side is still writing; under load the kernel may
 * then reset the connection before the answer was read (unread data → RST). Such a request is
 * sent again, a few times.
 */
async function refused(method: string, target: string, declared?: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOverLimit(method, target, declared);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw error;
    }
  }
}

/** An import streams its body line by line (each line at most MAX_IMPORT_LINE_BYTES, import.test.ts). */
const isImport = (method: string, target: string) => method === 'POST' && target.endsWith('/import');
const limitOf = (method: string, target: string) =>
  isImport(method, target)
    ? MAX_IMPORT_BYTES
    : method === 'POST' && target.endsWith('/batch')
      ? MAX_BATCH_BODY_BYTES
      : MAX_BODY_BYTES;

describe('request bodies', () => {
  it('walks a route table that holds every entity route, the revert and the part routes', () => {
    expect(routes.length).toBeGreaterThan(500);
    const paths = routes.map((r) => r.path);
    expect(paths).toContain('/api/v1/episodes/x1/revert');
    expect(paths).toContain('/api/v1/episodes/x1/script/versions');
    expect(paths).toContain('/api/v1/episodes/batch');
  });

  it('are refused over the limit by Content-Length on every route and method', async () => {
    const wrong: string[] = [];
    for (const { method, path: target } of routes) {
      const reply = await refused(method, target, limitOf(method, target) + 1);
      if (reply.status !== 413 || reply.code !== 'PAYLOAD_TOO_LARGE')
        wrong.push(`${method} ${target}: ${reply.status} ${reply.code}`);
    }
    expect(wrong).toEqual([]);
  });

  it('are refused over the limit when chunked without Content-Length, on every route and method', async () => {
    const wrong: string[] = [];
    // An import's streamed body is read line by line, never held whole: a line over the limit
    // ends it (import.test.ts); its total is counted up to MAX_IMPORT_BYTES, too far to send here.
    for (const { method, path: target } of routes.filter((r) => !isImport(r.method, r.path))) {
      const reply = await refused(method, target);
      if (reply.status !== 413 || reply.code !== 'PAYLOAD_TOO_LARGE')
        wrong.push(`${method} ${target}: ${reply.status} ${reply.code}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the batch route takes more than one record may, and still has a limit', async () => {
    const twoMiB = await sendOverLimit('POST', '/api/v1/episodes/batch', undefined, 2 * MAX_BODY_BYTES);
    expect(twoMiB).toEqual({ status: 400, code: 'INVALID_JSON' });
    expect((await sendOverLimit('POST', '/api/v1/episodes/batch')).status).toBe(413);
  });
});
