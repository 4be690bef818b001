// NFR-8/NFR-9: a generated migration runs on a big, busy table without failing or holding up
// writes. 200,000 episodes; the registry gains an indexed optional field and promotes a
// `storage: document` field to an indexed column. The migration (add column, sync triggers,
// batched backfill, NOT VALID + VALIDATE, CREATE INDEX CONCURRENTLY) runs while writers create and
// update episodes over real HTTP against the instance that still has the old registry. No write
// may fail or wait a second for a lock the migration holds (the service's sessions run with
// lock_timeout = 1s, so such a wait fails the write; wall-clock latency on a shared 2-core runner
// is printed, not asserted); afterwards every row's column holds its doc value, the indexes are
// valid, and old and new instances side by side see each other's writes (a rolling deploy).
import { afterAll, describe, expect, it } from 'vitest';
import { migrateUp, migrationStatus } from '../src/db/migrator.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { NEXT_MIGRATION } from './support/project-facts.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';

const ROWS = 200_000;
const WRITERS = 3;
/** NFR-9: no request blocked for a second or more: the service's sessions give up on a lock after this. */
const MAX_LOCK_WAIT = '1s';
const seededId = (n: number) => `ep_20250101_${String(n).padStart(10, '0')}`;

interface Write {
  readonly op: string;
  readonly id?: string;
  readonly started: number;
  readonly ms: number;
  readonly status: number | string;
}

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/**
 * One writer: creates, updates of seeded rows (only those with n % WRITERS = writer, so each row
 * has one writer and its last value is known) and updates of its own creations, back to back.
 */
async function writer(
  service: TestService,
  index: number,
  running: () => boolean,
  writes: Write[],
  lastTier: Map<string, string>,
) {
  const own: string[] = [];
  for (let i = 0; running(); i += 1) {
    const tier = `w${index}-${i}`;
    const kind = i % 3;
    let op: string;
    let id: string | undefined;
    let send: () => ReturnType<TestService['request']>;
    if (kind === 0 || own.length === 0) {
      op = 'create';
      send = () =>
        service.request<Rec>('POST', '/api/v1/episodes', {
          body: { title: `Written during the migration ${tier}`, season: 2, tier },
        });
    } else {
      op = kind === 1 ? 'update seeded' : 'update own';
      id =
        kind === 1
          ? seededId(index + WRITERS * (1 + Math.floor(Math.random() * (ROWS / WRITERS - 1))))
          : own[Math.floor(Math.random() * own.length)]!;
      const target = id;
      send = () =>
        service.request<Rec>('PATCH', `/api/v1/episodes/${target}`, { body: { tier, title: `Updated ${tier}` } });
    }
    const started = performance.now();
    let status: number | string;
    try {
      const reply = await send();
      status = reply.status;
      if (status === 201 || status === 200) {
        const written = (reply.body.data as Rec).id;
        if (op === 'create') own.push(written);
        lastTier.set(written, tier);
        id = written;
      }
    } catch (error) {
      status = (error as Error).message;
    }
    writes.push({ op, ...(id ? { id } : {}), started, ms: performance.now() - started, status });
  }
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

describe('an online migration on 200,000 episodes under a write load', () => {
  it('adds an indexed field and promotes a document field without a failed or slow write', async () => {
    const copy: ProjectCopy = copyProject();
    cleanup.push(() => copy.remove());
    const db: TestDatabase = await createTestDatabase();
    cleanup.push(() => db.drop());
    const dirs = copy.dirs;
    const episodeYaml = 'registry/entities/episode.yaml';

    // Before: `tier` lives in doc. A document field needs no DDL: codegen only records it.
    copy.edit(episodeYaml, (t) =>
      t.replace(
        '  # --- Production content',
        '  tier: { type: string, max_length: 40, storage: document }\n  # --- Production content',
      ),
    );
    const recorded = await runCli(['codegen'], copy.env);
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(recorded.stdout).not.toContain('new migration');
    expect(
      JSON.parse(copy.read('migrations/snapshot.json')).tables.find((t: { name: string }) => t.name === 'episodes')
        .documentFields,
    ).toEqual([{ name: 'tier', type: 'text' }]);
    await migrateUp(db.url, copy.migrationsDir);
    await db.query(`
      INSERT INTO episodes (id, schema_version, title, season, doc)
      SELECT 'ep_20250101_' || lpad(g::text, 10, '0'), 1, 'Episode ' || g, 1 + g % 12,
             CASE WHEN g % 50 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('tier', (ARRAY['gold', 'silver', 'bronze', 'platinum'])[1 + g % 4]) END
      FROM generate_series(1, ${ROWS}) AS g`);
    await db.query('ANALYZE episodes');
    // Sessions opened from now on (the service's pool) fail a statement that waits on a lock this
    // long; the migrator sets its own, shorter lock_timeout per step.
    await db.query(`ALTER DATABASE "${db.name}" SET lock_timeout = '${MAX_LOCK_WAIT}'`);
    const old = await startTestService({ databaseUrl: db.url, ...dirs });
    cleanup.push(() => old.stop());

    // The product owner's change: `tier` becomes an indexed column, and `sponsor` is new.
    copy.edit(episodeYaml, (t) =>
      t.replace(
        '  tier: { type: string, max_length: 40, storage: document }\n',
        '  tier: { type: string, max_length: 40, indexed: true }\n  sponsor: { type: string, max_length: 120, indexed: true }\n',
      ),
    );
    const generated = await runCli(['codegen'], copy.env);
    expect(generated.code, generated.stderr).toBe(0);
    const migration = `${NEXT_MIGRATION}_add_episodes_sponsor_promote_episodes_tier`;
    expect(generated.stdout).toContain(`new migration: ${migration}`);
    const up = copy.read(`migrations/${migration}.up.sql`);
    expect(up).toContain('-- reelmeta: no-transaction');
    expect(up).toContain('CREATE INDEX CONCURRENTLY "episodes_tier_idx" ON "episodes" USING btree ("tier");');
    expect(up).toContain('CREATE INDEX CONCURRENTLY "episodes_sponsor_idx" ON "episodes" USING btree ("sponsor");');

    // Writers on the old instance for the whole migration, from a moment before to a moment after.
    const writes: Write[] = [];
    const lastTier = new Map<string, string>();
    let running = true;
    const writers = Array.from({ length: WRITERS }, (_, index) => writer(old, index, () => running, writes, lastTier));
    const retries: string[] = [];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const migrationStarted = performance.now();
    await migrateUp(db.url, copy.migrationsDir, { onRetry: (r) => retries.push(`step ${r.step}: ${r.message}`) });
    const migrationEnded = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    running = false;
    await Promise.all(writers);

    const during = writes.filter((w) => w.started >= migrationStarted && w.started + w.ms <= migrationEnded);
    const latencies = writes.map((w) => w.ms);
    const summary = {
      migration_ms: Math.round(migrationEnded - migrationStarted),
      writes: writes.length,
      during_migration: during.length,
      p50_ms: Math.round(percentile(latencies, 0.5)),
      p99_ms: Math.round(percentile(latencies, 0.99)),
      max_ms: Math.round(Math.max(...latencies)),
      lock_retries: retries,
    };
    console.log(`online migration under load: ${JSON.stringify(summary)}`);
    expect(writes.filter((w) => w.status !== 200 && w.status !== 201)).toEqual([]);
    expect(during.length).toBeGreaterThan(30);
    expect(new Set(during.map((w) => w.op))).toEqual(new Set(['create', 'update seeded', 'update own']));
    expect((await migrationStatus(db.url, copy.migrationsDir)).at(-1)).toMatchObject({
      state: 'applied',
      name: migration.slice(5),
    });

    // Every row's column holds its doc value, including rows written during the migration.
    const [counts] = await db.query<{ rows: number; disagreeing: number }>(
      `SELECT count(*)::int AS rows, count(*) FILTER (WHERE tier IS DISTINCT FROM doc ->> 'tier')::int AS disagreeing FROM episodes`,
    );
    expect(counts).toEqual({ rows: ROWS + writes.filter((w) => w.op === 'create').length, disagreeing: 0 });
    const ids = [...lastTier.keys()];
    const stored = await db.query<{ id: string; tier: string }>('SELECT id, tier FROM episodes WHERE id = ANY($1)', [
      ids,
    ]);
    expect(new Map(stored.map((r) => [r.id, r.tier]))).toEqual(lastTier);
    const indexes = await db.query(
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = 'episodes'::regclass AND c.relname IN ('episodes_tier_idx', 'episodes_sponsor_idx') ORDER BY 1`,
    );
    expect(indexes).toEqual([
      { name: 'episodes_sponsor_idx', valid: true },
      { name: 'episodes_tier_idx', valid: true },
    ]);
    const checks = await db.query(
      `SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'episodes'::regclass AND conname IN ('episodes_tier_check', 'episodes_sponsor_check') ORDER BY 1`,
    );
    expect(checks).toEqual([
      { conname: 'episodes_sponsor_check', convalidated: true },
      { conname: 'episodes_tier_check', convalidated: true },
    ]);

    // The rolling deploy: the new instance (column) next to the old one (doc).
    const now = await startTestService({ databaseUrl: db.url, ...dirs, migrateOnStart: false });
    cleanup.push(() => now.stop());
    const seeded = seededId(4);
    expect((await now.request<Rec>('GET', `/api/v1/episodes/${seeded}`)).body.data).toMatchObject({
      tier: lastTier.get(seeded) ?? 'gold',
      sponsor: null,
    });
    const viaNew = await now.request<Rec>('PATCH', `/api/v1/episodes/${seeded}`, {
      body: { tier: 'diamond', sponsor: 'Chanel' },
    });
    expect(viaNew.status).toBe(200);
    expect((await old.request<Rec>('GET', `/api/v1/episodes/${seeded}`)).body.data.tier).toBe('diamond');
    // The old instance rewrites doc whole on a PATCH of another field: the new value survives.
    expect(
      (
        await old.request<Rec>('PATCH', `/api/v1/episodes/${seeded}`, {
          body: { title: 'Retitled by the old instance' },
        })
      ).status,
    ).toBe(200);
    expect((await now.request<Rec>('GET', `/api/v1/episodes/${seeded}`)).body.data).toMatchObject({
      tier: 'diamond',
      sponsor: 'Chanel',
      title: 'Retitled by the old instance',
    });
    const createdByOld = (
      await old.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'Old instance', tier: 'old-code' } })
    ).body.data;
    const createdByNew = (
      await now.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'New instance', tier: 'new-code' } })
    ).body.data;
    expect((await now.request<Rec>('GET', `/api/v1/episodes/${createdByOld.id}`)).body.data.tier).toBe('old-code');
    expect((await old.request<Rec>('GET', `/api/v1/episodes/${createdByNew.id}`)).body.data.tier).toBe('new-code');
    expect(
      (await old.request<Rec>('PATCH', `/api/v1/episodes/${createdByNew.id}`, { body: { tier: null } })).status,
    ).toBe(200);
    expect((await now.request<Rec>('GET', `/api/v1/episodes/${createdByNew.id}`)).body.data.tier).toBeNull();
    const diamonds = await now.request<Rec[]>('GET', '/api/v1/episodes?tier=diamond&_fields=tier');
    expect(diamonds.body.data.map((r) => r.id)).toEqual([seeded]);
  }, 240_000);
});
