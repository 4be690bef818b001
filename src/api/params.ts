// Query parameters of a route: unknown ones are refused, booleans are spelled true or false.
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../records/errors.ts';

/**
 * Percent-encoded bytes that are not UTF-8 (`%FF`, or `%ED%A0%80`, a lone surrogate) would be
 * read as U+FFFD: refused, as a body that is not UTF-8 is. A `%` not followed by two hex digits
 * stays literal text, as URLSearchParams reads it.
 */
export const refuseMalformedQuery: MiddlewareHandler = async (c, next) => {
  const url = c.req.url;
  const start = url.indexOf('?');
  if (start !== -1 && url.includes('%', start)) {
    try {
      decodeURIComponent(url.slice(start + 1).replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
    } catch {
      throw ApiError.single(
        400,
        'INVALID_QUERY',
        'the query string is not valid UTF-8 once percent-decoded (e.g. %FF, or %ED%A0%80 for a lone surrogate)',
        'query',
      );
    }
  }
  await next();
};

/** Rejects query parameters a route does not understand, instead of silently ignoring a typo. */
export function queryParams(c: Context, allowed: readonly string[]): URLSearchParams {
  const params = new URL(c.req.url).searchParams;
  for (const key of params.keys()) {
    if (!allowed.includes(key)) {
      throw ApiError.single(
        400,
        'INVALID_QUERY',
        `unknown query parameter "${key}"${allowed.length ? `; allowed here: ${allowed.join(', ')}` : ''}`,
        key,
      );
    }
  }
  return params;
}

export function booleanParam(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw ApiError.single(400, 'INVALID_QUERY', `${name} must be true or false`, name);
}
