// Runs the real service (same startService as `npm start`) on a random port, and a small JSON
// client for it that speaks plain HTTP through fetch.
import { loadConfig, type Config } from '../../src/config.ts';
import { startService, type RunningService } from '../../src/service.ts';
import pino from 'pino';
import { testS3Settings } from './s3.ts';

export interface Envelope<T = Record<string, unknown>> {
  data: T;
  metadata: Record<string, unknown>;
  errors: { code: string; message: string; field: string | null }[];
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: Envelope<T>;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, instead of JSON-encoding `body`. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface TestService extends RunningService {
  request<T = Record<string, unknown>>(method: string, path: string, options?: RequestOptions): Promise<Reply<T>>;
}

export function serviceClient(baseUrl: string) {
  return async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
    const hasBody = options.raw !== undefined || options.body !== undefined;
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : null) as Envelope<T>,
    };
  };
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
    logLevel: 'silent',
    rateLimitEnabled: false,
    s3: testS3Settings(),
    ...overrides,
  };
  const service = await startService(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return { ...service, request: serviceClient(service.url) };
}
