// Idempotency-Key on every POST under /api (draft-ietf-httpapi-idempotency-key-header): a client
// that retries a POST with the same key gets the first answer again instead of a second write.
// The key is per caller; the request it stands for is its method, path, query, Content-Type,
// If-Match and body (one SHA-256).
// - first use: the key is claimed, the request runs, and its answer is stored (2xx and 4xx; a 5xx
//   or a "try again" status releases the key, so the retry runs afresh, except a commit the
//   database did not confirm, which may have been saved);
// - same key, same request, answered: the stored status, body and headers, marked Idempotent-Replayed;
// - same key, another request: 422 IDEMPOTENCY_KEY_REUSED; still running: 409 IDEMPOTENCY_KEY_IN_USE;
// - a malformed key: 400 INVALID_IDEMPOTENCY_KEY. Keys are forgotten after IDEMPOTENCY_KEY_TTL_HOURS.
import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import type { DatabasePool } from '../db/pool.ts';
import { MAX_KEY_LENGTH } from '../idempotency/idempotency-entity.ts';
import { IdempotencyKeys, type KeyedRequest, type KeyHolder, type StoredAnswer } from '../idempotency/key-store.ts';
import { ApiError } from '../records/errors.ts';
import { CommitUnconfirmed } from '../db/work.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on an answer that was stored, not produced by running the request again. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** An unrenewed claim this old belongs to a request that died; renewed every third of it. */
export const DEFAULT_LEASE_SECONDS = 60;

/** The headers an answer is replayed with (the rest, such as RateLimit-*, belong to the retry). */
const REPLAYED_HEADERS = ['content-type', 'location', 'etag', 'deprecation', 'sunset', 'link'] as const;
/** Answers that tell the client to try again: not an outcome, so not kept. */
const TRY_AGAIN = new Set([408, 425, 429]);
const NO_BODY = new Set([204, 205, 304]);
const MAX_SCOPE_LENGTH = 300;

export interface IdempotencyOptions {
  readonly ttlSeconds?: number;
  readonly leaseSeconds?: number;
}

const malformed = (message: string) =>
  ApiError.single(400, 'INVALID_IDEMPOTENCY_KEY', `${IDEMPOTENCY_HEADER} ${message}`, IDEMPOTENCY_HEADER);

/**
 * The key in a header value: the draft's structured-field string (`"8e03978e-…"`, with `\"` and
 * `\\` escapes) or, as most clients send it, the bare value. Printable ASCII, 1–255 characters.
 */
export function parseIdempotencyKey(raw: string): string {
  const value = raw.trim();
  let key = '';
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"')) throw malformed('opens a quoted string it does not close');
    for (let i = 1; i < value.length - 1; i++) {
      let ch = value[i]!;
      if (ch === '\\') {
        ch = value[++i] ?? '';
        if (ch !== '"' && ch !== '\\') throw malformed('may escape only " and \\ inside quotes');
      } else if (ch === '"') throw malformed('has an unescaped " inside quotes');
      key += ch;
    }
  } else key = value;
  if (key === '') throw malformed('is empty: send a unique value, such as a UUID, per request');
  if (key.length > MAX_KEY_LENGTH) throw malformed(`is ${key.length} characters long; at most ${MAX_KEY_LENGTH}`);
  if (!/^[\x20-\x7e]+$/.test(key)) throw malformed('must be printable ASCII (letters, digits, punctuation, spaces)');
  return key;
}

/**
 * The body, to fingerprint it. limitBodies (body.ts) already capped it; hono keeps what was read,
 * so the route's own reader sees it as sent.
 */
async function readBody(c: Context): Promise<Uint8Array> {
  return c.req.raw.body ? new Uint8Array(await c.req.arrayBuffer()) : new Uint8Array(0);
}

/** Keys are per caller: the token's subject, or with AUTH_MODE=off the X-Actor (blank for none). */
function scopeOf(c: Context): string {
  const principal = c.get('principal');
  const kind = principal?.anonymous === false ? 'user' : 'anonymous';
  const scope = `${kind}:${principal?.subject ?? ''}`;
  return scope.length <= MAX_SCOPE_LENGTH
    ? scope
    : `${kind}:sha256:${createHash('sha256').update(scope).digest('hex')}`;
}

/** The headers that change what a POST means (a part's POST takes If-Match). */
const MEANINGFUL_HEADERS = ['content-type', 'if-match'] as const;

function fingerprint(c: Context, method: string, path: string, body: Uint8Array): string {
  const hash = createHash('sha256').update(`${method} ${path}\n`);
  for (const name of MEANINGFUL_HEADERS) hash.update(`${name}: ${c.req.header(name) ?? ''}\n`);
  return hash.update(body).digest('hex');
}

/** A key already held: another request's (422), still running (409), or answered (the replay). */
function answerHolder(c: Context, request: KeyedRequest, holder: KeyHolder): Response {
  if (holder.fingerprint !== request.fingerprint) {
    const first = `${holder.method} ${holder.path}`;
    const what =
      first === `${request.method} ${request.path}`
        ? `${first} with another body or If-Match or Content-Type`
        : `${first}, not ${request.method} ${request.path}`;
    throw ApiError.single(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      `this ${IDEMPOTENCY_HEADER} was first sent with ${what}; a key stands for one request, so send a new key for a new request`,
      IDEMPOTENCY_HEADER,
    );
  }
  if (!holder.answer) {
    c.header('Retry-After', '1');
    throw ApiError.single(
      409,
      'IDEMPOTENCY_KEY_IN_USE',
      `a request with this ${IDEMPOTENCY_HEADER} is still running; try again when it has answered`,
      IDEMPOTENCY_HEADER,
    );
  }
  const { status, headers, body } = holder.answer;
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  c.header(REPLAYED_HEADER, 'true');
  return NO_BODY.has(status) ? c.body(null, status as 204) : c.body(body, status as ContentfulStatusCode);
}

function answerOf(response: Response, body: string): StoredAnswer {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body };
}

/** Runs the request that claimed the key, renewing the claim meanwhile, and stores or releases it. */
async function runClaimed(c: Context, next: Next, keys: IdempotencyKeys, claim: string, logger: Logger): Promise<void> {
  const renewal = setInterval(
    () => {
      keys.renew(claim).catch((error: unknown) => logger.warn({ err: error }, 'idempotency key claim not renewed'));
    },
    (keys.leaseSeconds * 1000) / 3,
  );
  renewal.unref();
  let kept = false;
  try {
    await next();
    const { status } = c.res;
    // A write whose commit went unconfirmed may have been saved: its answer stands for the key,
    // so a retry is told to read back rather than write a second time.
    if ((status < 500 && !TRY_AGAIN.has(status)) || c.error instanceof CommitUnconfirmed) {
      kept = true;
      try {
        await keys.complete(claim, answerOf(c.res, await c.res.clone().text()));
      } catch (error) {
        // The request has run and its answer stands; the claim lapses after its lease.
        logger.warn({ err: error, status }, 'idempotency key answer not stored');
      }
    }
  } finally {
    clearInterval(renewal);
    if (!kept)
      await keys
        .release(claim)
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'idempotency key not released; it lapses after its lease'),
        );
  }
}

/** The middleware for /api/*: POSTs with an Idempotency-Key header run at most once per key and caller. */
export function idempotentPosts(
  pool: DatabasePool,
  logger: Logger,
  options: IdempotencyOptions = {},
): MiddlewareHandler {
  const keys = new IdempotencyKeys(pool, {
    ttlSeconds: options.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    leaseSeconds: options.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
  });
  return async (c, next) => {
    const header = c.req.method === 'POST' ? c.req.header(IDEMPOTENCY_HEADER) : undefined;
    if (header === undefined) return next();
    const key = parseIdempotencyKey(header);
    const body = await readBody(c);
    const url = new URL(c.req.url);
    const path = `${url.pathname}${url.search}`;
    const request: KeyedRequest = {
      scope: scopeOf(c),
      key,
      method: 'POST',
      path,
      fingerprint: fingerprint(c, 'POST', path, body),
    };
    const result = await keys.claim(request);
    if (!result.claimed) return answerHolder(c, request, result.holder);
    await runClaimed(c, next, keys, result.claim, logger);
  };
}
