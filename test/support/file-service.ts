// One service on its own database for a whole test file (started before its tests, stopped and
// dropped after), and the POST most tests start with.
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startTestService, type TestService } from './service.ts';
import type { Config } from '../../src/config.ts';

export type Rec = Record<string, unknown> & { id: string };

export interface FileService {
  readonly db: TestDatabase;
  readonly service: TestService;
  /** Creates a record through the API and insists on 201. */
  create(body: Record<string, unknown>, plural?: string): Promise<Rec>;
}

export function useServiceForFile(overrides: Partial<Config> = {}): FileService {
  let db: TestDatabase | undefined;
  let service: TestService | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ ...overrides, databaseUrl: db.url });
  });
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });
  const create = async (body: Record<string, unknown>, plural = 'episodes'): Promise<Rec> => {
    const reply = await service!.request<Rec>('POST', `/api/v1/${plural}`, { body });
    expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
    return reply.body.data;
  };
  return {
    get db() {
      return db!;
    },
    get service() {
      return service!;
    },
    create,
  };
}
