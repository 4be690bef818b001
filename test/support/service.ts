// Runs the real service (same startService as `npm start`) on a random port, and the one HTTP
// client the tests speak to it with: plain fetch, JSON in, the envelope (or the raw text) out.
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { startService, type RunningService } from '../../src/service.ts';
import pino from 'pino';
import { testS3Settings } from './s3.ts';

/** A record as the API answers it: its fields, and always its id. */
export type Rec = Record<string, unknown> & { id: string };

export interface Envelope<T = Record<string, unknown>> {
  data: T;
  metadata: Record<string, unknown>;
  errors: { code: string; message: string; field: string | null }[];
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** The body as sent (NDJSON, CSV or an envelope). */
  text: string;
  /** The body parsed as an envelope, when read (a NDJSON or CSV reply is only read as text). */
  body: Envelope<T>;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, instead of JSON-encoding `body`. */
  raw?: string;
  headers?: Record<string, string>;
  /** Sent as the bearer token (before `headers`, which may override it). */
  token?: string;
  /** Gives up (rejects) after this long, as an impatient client would. */
  timeoutMs?: number;
}

export type Request = <T = Record<string, unknown>>(
  method: string,
  path: string,
  options?: RequestOptions,
) => Promise<Reply<T>>;

export interface TestService extends RunningService {
  request: Request;
  /** Creates a record through the API and insists on 201, naming the errors otherwise. */
  create(body: Record<string, unknown>, plural?: string): Promise<Rec>;
}

export function serviceClient(baseUrl: string): Request {
  return async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
    const hasBody = options.raw !== undefined || options.body !== undefined;
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
      signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
    });
    const text = await response.text();
    let body: Envelope<T> | undefined;
    return {
      status: response.status,
      headers: response.headers,
      text,
      get body() {
        body ??= (text ? JSON.parse(text) : null) as Envelope<T>;
        return body;
      },
    };
  };
}

/** Percent-encoding that also writes a lone surrogate, as its three (WTF-8) bytes: the only way one fits in a URL. */
export const encodeQueryValue = (text: string): string =>
  text.replace(/\p{Cs}|[^\p{Cs}]+/gu, (part) => {
    if (!/\p{Cs}/u.test(part)) return encodeURIComponent(part);
    const unit = part.charCodeAt(0);
    return [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
      .map((byte) => `%${byte.toString(16).toUpperCase()}`)
      .join('');
  });

/** The client, and record creation through it, for a running service. */
export function withClient(service: RunningService): TestService {
  const request = serviceClient(service.url);
  const create = async (body: Record<string, unknown>, plural = 'episodes'): Promise<Rec> => {
    const reply = await request<Rec>('POST', `/api/v1/${plural}`, { body });
    expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
    return reply.body.data;
  };
  return { ...service, request, create };
}

/**
 * Rate limits are off unless a test turns them on: every request from a test shares one
 * anonymous bucket (one address), so a busy file or a load test would meet 429s that are not
 * its subject. test/rate-limit.test.ts and test/auth.test.ts switch them on.
 */
export async function startTestService(overrides: Partial<Config> & { databaseUrl: string }): Promise<TestService> {
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    rateLimitEnabled: false,
    s3: testS3Settings(),
    ...overrides,
  };
  return withClient(await startService(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })));
}
