// One service on its own database for a whole test file (started before its tests, stopped and
// dropped after), and the POST most tests start with (TestService.create).
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startTestService, type Rec, type TestService } from './service.ts';
import type { Config } from '../../src/config.ts';

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
  return {
    get db() {
      return db!;
    },
    get service() {
      return service!;
    },
    create: (body, plural) => service!.create(body, plural),
  };
}
