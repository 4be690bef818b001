// Query parameters of a route: unknown ones are refused, booleans are spelled true or false.
import type { Context } from 'hono';
import { ApiError } from './errors.ts';

/** Rejects query parameters a route does not understand, instead of silently ignoring a typo. */
export function queryParams(c: Context, allowed: readonly string[]): URLSearchParams {
  const params = new URL(c.req.url).searchParams;
  for (const key of params.keys()) {
    if (!allowed.includes(key)) {
      throw ApiError.single(400, 'INVALID_QUERY', `unknown query parameter "${key}"${allowed.length ? `; allowed here: ${allowed.join(', ')}` : ''}`, key);
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
