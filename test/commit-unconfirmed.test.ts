// A write whose connection dies while its COMMIT is under way (issue 13 §3): the write may or may
// not have been saved, so the answer must not say "nothing was changed". It answers 503
// COMMIT_UNCONFIRMED naming the record to read back, and an Idempotency-Key retry replays that
// answer instead of writing a second time. A deferred constraint trigger makes the backend end
// itself at commit time, which is where a SIGKILL of the server under load lands now and then.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

let db: TestDatabase;
let service: TestService;

beforeAll(async () => {
  db = await createTestDatabase();
  service = await startTestService({ databaseUrl: db.url });
  await db.query(`
    CREATE FUNCTION die_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.title LIKE 'Lost at commit%' THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
        PERFORM pg_sleep(5);
      END IF;
      RETURN NULL;
    END $$`);
  await db.query(
    'CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON shows DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION die_at_commit()',
  );
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

describe('the connection lost during COMMIT', () => {
  it('answers 503 COMMIT_UNCONFIRMED naming the record, not DATABASE_UNAVAILABLE ("nothing was changed")', async () => {
    const answer = await service.request('POST', '/api/v1/shows', { body: { title: 'Lost at commit' } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(answer.body.errors[0]).toMatchObject({ code: 'COMMIT_UNCONFIRMED' });
    expect(answer.body.errors[0]!.message).toMatch(/may or may not have been saved; read show_\w+ back/);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    // The pool lost one connection and serves on.
    expect((await service.request('POST', '/api/v1/shows', { body: { title: 'Saved' } })).status).toBe(201);
  });

  it('keeps that answer for its Idempotency-Key: the retry replays it and writes nothing', async () => {
    const headers = { 'Idempotency-Key': 'commit-unconfirmed-1' };
    const first = await service.request('POST', '/api/v1/shows', { body: { title: 'Lost at commit, keyed' }, headers });
    expect(first.body.errors[0]).toMatchObject({ code: 'COMMIT_UNCONFIRMED' });
    const retry = await service.request('POST', '/api/v1/shows', { body: { title: 'Lost at commit, keyed' }, headers });
    expect(retry.status).toBe(503);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await db.query("SELECT id FROM shows WHERE title LIKE 'Lost at commit%'")).toEqual([]);
  });
});
