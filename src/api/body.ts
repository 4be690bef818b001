// Reading a JSON request body: the right content type (415), at most 1 MiB (413),
// well-formed JSON (400) nested at most MAX_JSON_DEPTH deep. The size cap is one middleware for
// every route (limitBodies, in app.ts), enforced while streaming, not only by Content-Length.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { hasLoneSurrogate, LONE_SURROGATE_MESSAGE } from '../registry/text.ts';
import { ApiError, type ApiProblem } from '../records/errors.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
/** A batch of up to 1,000 records needs more room than one record. */
export const MAX_BATCH_BODY_BYTES = 16 * MAX_BODY_BYTES;
/** The largest import body (limitBodies checks a declared Content-Length; import-routes.ts counts a streamed one). */
export const MAX_IMPORT_BYTES = 8 * 1024 * 1024 * 1024;
/** The import route's path: its body is streamed, up to MAX_IMPORT_BYTES. */
export const IMPORT_PATH = /^\/api\/[^/]+\/[^/]+\/import\/?$/;

const limitOf = (bytes: number): MiddlewareHandler =>
  bodyLimit({
    maxSize: bytes,
    onError: (c) => {
      // The rest of the body was not read: the connection cannot carry another request.
      c.header('Connection', 'close');
      throw ApiError.single(
        413,
        'PAYLOAD_TOO_LARGE',
        `the request body is larger than ${bytes} bytes (${bytes / MAX_BODY_BYTES} MiB)`,
      );
    },
  });

/** Far deeper than any record (a few levels), far shallower than what overflows a recursive walk. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of objects and arrays in JSON text, counted without parsing (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return deepest;
}

const limitBody = limitOf(MAX_BODY_BYTES);
const limitBatchBody = limitOf(MAX_BATCH_BODY_BYTES);

/** The one route with a larger body: POST /api/{version}/{plural}/batch. */
const BATCH_PATH = /^\/api\/[^/]+\/[^/]+\/batch\/?$/;

/**
 * Every request's body, whatever the route and method, at most MAX_BODY_BYTES (the batch route:
 * MAX_BATCH_BODY_BYTES). A body without Content-Length is read here, up to the limit, so a route
 * that never reads its body cannot be sent an unbounded one either.
 */
export const limitBodies: MiddlewareHandler = (c, next) => {
  // HTTP/1.1 framing: without Content-Length or Transfer-Encoding there is no body (RFC 9112 6.3).
  // Asking the request for its body would build a full Request under @hono/node-server, a cost
  // every GET would pay.
  if (c.req.header('transfer-encoding') === undefined && (c.req.header('content-length') ?? '0') === '0') return next();
  // An import streams: a declared length is checked here, a streamed body is counted as it is read.
  if (c.req.method === 'POST' && IMPORT_PATH.test(c.req.path)) {
    const declared = c.req.header('content-length');
    if (
      declared !== undefined &&
      c.req.header('transfer-encoding') === undefined &&
      Number(declared) > MAX_IMPORT_BYTES
    )
      throw ApiError.single(413, 'PAYLOAD_TOO_LARGE', `the import is larger than ${MAX_IMPORT_BYTES} bytes`);
    return next();
  }
  return (c.req.method === 'POST' && BATCH_PATH.test(c.req.path) ? limitBatchBody : limitBody)(c, next);
};

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The JSON body when one was sent, undefined for none: for routes whose body is optional. */
export async function readOptionalJsonBody(c: Context): Promise<unknown> {
  const sent = c.req.header('transfer-encoding') !== undefined || (c.req.header('content-length') ?? '0') !== '0';
  return sent ? readJsonBody(c) : undefined;
}

export async function readJsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw ApiError.single(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as application/json${c.req.method === 'PATCH' ? ' or application/merge-patch+json' : ''} (got ${type || 'no Content-Type'})`,
    );
  }
  let text: string;
  try {
    // JSON is UTF-8 (RFC 8259): invalid bytes are refused, not stored as U+FFFD.
    text = STRICT_UTF8.decode(await c.req.arrayBuffer());
  } catch (error) {
    if (error instanceof TypeError && /encoded data was not valid/i.test(error.message))
      throw ApiError.single(400, 'INVALID_JSON', 'the request body is not valid UTF-8');
    throw error;
  }
  if (text.trim() === '') throw ApiError.single(400, 'INVALID_JSON', 'the request body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw ApiError.single(400, 'INVALID_JSON', `the request body is not valid JSON: ${(error as Error).message}`);
  }
  // Validation, merge patches and diffs walk the value recursively: refuse what would overflow them.
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw ApiError.single(400, 'INVALID_BODY', `the request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  // Escapes make lone surrogates valid JSON; refused here, for every body, in keys and values.
  if (text.includes('\\u')) {
    const problems: ApiProblem[] = [];
    findLoneSurrogates(parsed, '', problems);
    if (problems.length > 0) throw new ApiError(422, problems);
  }
  return parsed;
}

const MAX_SURROGATE_PROBLEMS = 20;

/** Field paths as validation names them: `wardrobe.shoes.brand`, `tags[2]`. */
function findLoneSurrogates(value: unknown, path: string, problems: ApiProblem[]): void {
  if (problems.length >= MAX_SURROGATE_PROBLEMS) return;
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value))
      problems.push({
        code: 'VALIDATION_ERROR',
        message: `${path || 'the body'} ${LONE_SURROGATE_MESSAGE}`,
        field: path || null,
      });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findLoneSurrogates(item, `${path}[${index}]`, problems));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (hasLoneSurrogate(key)) {
        if (problems.length < MAX_SURROGATE_PROBLEMS)
          problems.push({
            code: 'VALIDATION_ERROR',
            message: `the key ${JSON.stringify(at)} ${LONE_SURROGATE_MESSAGE}`,
            field: at,
          });
      } else findLoneSurrogates(child, at, problems);
    }
  }
}
