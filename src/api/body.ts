// Reading a JSON request body: the right content type (415), at most 1 MiB (413),
// well-formed JSON (400). The size cap is enforced while streaming, not only by Content-Length.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './errors.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
/** A batch of up to 1,000 records needs more room than one record. */
export const MAX_BATCH_BODY_BYTES = 16 * MAX_BODY_BYTES;

const limitOf = (bytes: number): MiddlewareHandler =>
  bodyLimit({
    maxSize: bytes,
    onError: (c) => {
      // The rest of the body was not read: the connection cannot carry another request.
      c.header('Connection', 'close');
      throw ApiError.single(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${bytes} bytes (${bytes / MAX_BODY_BYTES} MiB)`);
    },
  });

export const limitBody = limitOf(MAX_BODY_BYTES);
export const limitBatchBody = limitOf(MAX_BATCH_BODY_BYTES);

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export async function readJsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw ApiError.single(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as application/json${c.req.method === 'PATCH' ? ' or application/merge-patch+json' : ''} (got ${type || 'no Content-Type'})`,
    );
  }
  const text = await c.req.text();
  if (text.trim() === '') throw ApiError.single(400, 'INVALID_JSON', 'the request body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw ApiError.single(400, 'INVALID_JSON', `the request body is not valid JSON: ${(error as Error).message}`);
  }
}
