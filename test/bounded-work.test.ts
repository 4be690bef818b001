// Bounded work per request: every list declares max_items (the registry refuses one that does
// not) and the API answers 422 past it, before any record is created; one write transaction's
// records and advisory locks are bounded; error answers list the first 100 problems and count
// the rest; and a request past REQUEST_TIMEOUT_MS answers 503 with its transaction rolled back.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createDatabasePool, type DatabasePool } from '../src/db/pool.ts';
import {
  MAX_KEY_LOCKS_PER_TRANSACTION,
  MAX_RECORDS_PER_TRANSACTION,
  WorkLimitExceeded,
  countRecordCreated,
  lockKeys,
  transact,
} from '../src/db/work.ts';
import { RegistryError } from '../src/registry/errors.ts';
import { loadModel } from '../src/load-model.ts';
import type { FieldDef } from '../src/registry/model.ts';
import { MAX_ERRORS_LISTED } from '../src/records/errors.ts';
import { sql } from 'slonik';
import { useServiceForFile } from './support/file-service.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { shippedModel } from './support/fixtures.ts';

// The atomic batch below writes 2,000 records before the limit refuses it: about 9 s alone, and
// past REQUEST_TIMEOUT_MS's default 30 s on a busy 2-core runner. The limit is what is tested here,
// not the speed, so requests may take longer.
const fixture = useServiceForFile({ requestTimeoutMs: 300_000 });
const model = shippedModel();

/** Every list a client writes, by entity: its dotted path and bound (arrays inside arrays left out). */
function writableLists(fields: readonly FieldDef[], prefix: string[] = []): { path: string[]; field: FieldDef }[] {
  return fields.flatMap((field) => {
    if (field.readOnly || field.deprecated) return [];
    const at = [...prefix, field.name];
    if (field.type === 'array' || field.type === 'refs') return [{ path: at, field }];
    return field.type === 'object' && field.fields ? writableLists(field.fields, at) : [];
  });
}

/** A body holding `value` at `path`. */
const nested = (path: readonly string[], value: unknown): Record<string, unknown> =>
  path.reduceRight<Record<string, unknown>>(
    (inner, key, index) => (index === path.length - 1 ? { [key]: value } : { [key]: inner }),
    {},
  );

describe('lists that create or link records', () => {
  it('are all bounded in the registry (every array and refs field, at any depth)', () => {
    const unbounded: string[] = [];
    const walk = (entity: string, fields: readonly FieldDef[], prefix: string) => {
      for (const field of fields) {
        const at = `${prefix}${field.name}`;
        if ((field.type === 'array' || field.type === 'refs') && field.maxItems === undefined)
          unbounded.push(`${entity}.${at}`);
        if (field.fields) walk(entity, field.fields, `${at}.`);
        if (field.items?.fields) walk(entity, field.items.fields, `${at}[].`);
      }
    };
    for (const entity of model.entities) walk(entity.name, entity.fields, '');
    expect(unbounded).toEqual([]);
  });

  describe('a registry list without max_items', () => {
    let copy: ProjectCopy | undefined;
    afterEach(() => copy?.remove());
    it('is a registry error naming the field', () => {
      copy = copyProject();
      copy.edit('registry/entities/episode.yaml', (t) =>
        t.replace(/(\n {10}other:\n {12}type: array\n) {12}max_items: \d+\n/, '$1'),
      );
      expect(() => loadModel(copy!.registryDir)).toThrow(RegistryError);
      expect(() => loadModel(copy!.registryDir)).toThrow(
        /fields\.wardrobe\.fields\.accessories\.fields\.other\.max_items: is required/,
      );
    });
  });

  it('answer 422 past max_items on every list of every entity, naming it', async () => {
    const wrong: string[] = [];
    let swept = 0;
    for (const entity of model.entities) {
      for (const { path: at, field } of writableLists(entity.fields)) {
        swept++;
        const items = Array.from({ length: field.maxItems! + 1 }, () => null);
        const reply = await fixture.service.request('POST', `/api/v1/${entity.route}`, { body: nested(at, items) });
        const dotted = at.join('.');
        const named = reply.body.errors.some(
          (e) => e.field === dotted && e.message === `${dotted} must have at most ${field.maxItems} items`,
        );
        if (reply.status !== 422 || !named)
          wrong.push(`${entity.name}.${dotted}: ${reply.status} ${JSON.stringify(reply.body.errors.slice(0, 2))}`);
      }
    }
    expect(swept).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });

  it('10,000 accessories in a wardrobe: 422 at once, no wardrobe item or outfit created', async () => {
    const count = async () =>
      (
        await fixture.db.query<{ n: number }>(
          'SELECT (SELECT count(*) FROM wardrobe_items) + (SELECT count(*) FROM outfits) AS n',
        )
      )[0]!.n;
    const before = await count();
    const other = Array.from({ length: 10_000 }, (_, i) => `accessory ${i}`);
    const reply = await fixture.service.request('POST', '/api/v1/episodes', {
      body: { title: 'Too many accessories', wardrobe: { accessories: { other } } },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([
      {
        code: 'VALIDATION_ERROR',
        message: 'wardrobe.accessories.other must have at most 20 items',
        field: 'wardrobe.accessories.other',
      },
    ]);
    expect(await count()).toBe(before);
  });

  it('at their bounds still work: every UI and background slot filled links each asset once', async () => {
    const custom = Array.from({ length: 50 }, (_, i) => ({ name: `ui ${i}`, file: `s3://bounds/ui/${i}.png` }));
    const additional = Array.from({ length: 50 }, (_, i) => ({ name: `bg ${i}`, file: `s3://bounds/bg/${i}.jpg` }));
    const full = await fixture.create({
      title: 'Every slot',
      ui_elements: {
        computer_mouse: 's3://bounds/ui/mouse.png',
        login_screen: 's3://bounds/ui/login.png',
        icon_holder: 's3://bounds/ui/icons.png',
        screen_accessories: {
          minimize: 's3://bounds/ui/min.png',
          maximize: 's3://bounds/ui/max.png',
          exit: 's3://bounds/ui/exit.png',
          custom,
        },
      },
      backgrounds: {
        main_closet: 's3://bounds/bg/closet.jpg',
        photoshoot: 's3://bounds/bg/shoot.jpg',
        event: 's3://bounds/bg/event.jpg',
        additional,
      },
      wardrobe: { accessories: { other: Array.from({ length: 20 }, (_, i) => `bounded accessory ${i}`) } },
    });
    expect((full.ui_element_refs as unknown[]).length).toBe(56);
    expect((full.background_refs as unknown[]).length).toBe(53);
  });
});

describe('error answers', () => {
  it('list the first 100 problems and count the rest', async () => {
    // 100,000 items of the wrong type in a 0.6 MB body.
    const reply = await fixture.service.request('POST', '/api/v1/episodes', {
      raw: JSON.stringify({ title: 'x', tags: Array.from({ length: 100_000 }, () => 1) }),
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toHaveLength(MAX_ERRORS_LISTED + 1);
    const total = reply.body.metadata.error_count as number;
    expect(total).toBe(100_001); // the list's length and each item's type
    expect(reply.body.errors.at(-1)).toEqual({
      code: 'TOO_MANY_ERRORS',
      message: `and ${total - MAX_ERRORS_LISTED} more problems not listed (${total} in all)`,
      field: null,
    });
    expect(JSON.stringify(reply.body).length).toBeLessThan(30_000);
  });

  it('of a batch list at most 10 problems per failed item', async () => {
    const operations = Array.from({ length: 50 }, () => ({
      op: 'create',
      data: { title: 1, tags: Array.from({ length: 40 }, () => 1) },
    }));
    const reply = await fixture.service.request<{ errors: unknown[] }[]>('POST', '/api/v1/episodes/batch', {
      body: { operations },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.data.every((item) => item.errors.length === 11)).toBe(true);
  });
});

describe('one write transaction', () => {
  let pool: DatabasePool | undefined;
  beforeAll(async () => {
    pool = await createDatabasePool(fixture.db.url, 2);
  });
  afterAll(() => pool?.end());

  it(`creates at most ${MAX_RECORDS_PER_TRANSACTION} records`, async () => {
    const created = await transact(pool!, async () => {
      for (let i = 0; i < MAX_RECORDS_PER_TRANSACTION; i++) countRecordCreated();
      return 'fits';
    });
    expect(created).toBe('fits');
    await expect(
      transact(pool!, async () => {
        for (let i = 0; i <= MAX_RECORDS_PER_TRANSACTION; i++) countRecordCreated();
      }),
    ).rejects.toBeInstanceOf(WorkLimitExceeded);
  });

  it(`holds at most ${MAX_KEY_LOCKS_PER_TRANSACTION} key locks, however many keys it locks`, async () => {
    const held = await transact(pool!, async (tx) => {
      await lockKeys(
        tx,
        'test(a)',
        Array.from({ length: 40 }, (_, i) => `a${i}`),
      );
      await lockKeys(
        tx,
        'test(b)',
        Array.from({ length: 40 }, (_, i) => `b${i}`),
      );
      await lockKeys(
        tx,
        'test(c)',
        Array.from({ length: 1000 }, (_, i) => `c${i}`),
      );
      return tx.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`,
      );
    });
    // 40 keys of a (and a shared), b and c each whole (exclusive).
    expect(held).toBe(40 + 1 + 1 + 1);
  });

  it('past 64 keys, locks the whole namespace so no other transaction takes a key in it', async () => {
    const other = new pg.Client({ connectionString: fixture.db.url });
    await other.connect();
    try {
      await transact(pool!, async (tx) => {
        await lockKeys(
          tx,
          'test(d)',
          Array.from({ length: 100 }, (_, i) => `d${i}`),
        );
        await other.query('BEGIN');
        // A key lock holds its namespace shared: it has to wait for the exclusive one.
        await other.query("SET LOCAL lock_timeout = '200ms'");
        await expect(other.query(`SELECT pg_advisory_xact_lock_shared(hashtext('test(d)'), 0)`)).rejects.toThrow(
          /lock timeout/,
        );
        await other.query('ROLLBACK');
      });
    } finally {
      await other.end();
    }
  });

  it('answers 413 WORK_LIMIT_EXCEEDED for an atomic batch that would create too many records, and keeps none', async () => {
    // Each create makes an episode, 50 UI elements and 50 backgrounds.
    const files = (n: number, kind: string) =>
      Array.from({ length: 50 }, (_, i) => ({ name: `${kind} ${i}`, file: `s3://limit/${n}/${kind}-${i}.png` }));
    const operations = Array.from({ length: Math.ceil(MAX_RECORDS_PER_TRANSACTION / 101) + 1 }, (_, n) => ({
      op: 'create',
      data: {
        title: `limit ${n}`,
        ui_elements: { screen_accessories: { custom: files(n, 'ui') } },
        backgrounds: { additional: files(n, 'bg') },
      },
    }));
    const reply = await fixture.service.request('POST', '/api/v1/episodes/batch?atomic=true', { body: { operations } });
    expect(reply.status).toBe(413);
    expect(reply.body.errors[0]?.code).toBe('WORK_LIMIT_EXCEEDED');
    expect(
      (
        await fixture.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM ui_elements WHERE file_reference LIKE 's3://limit/%'",
        )
      )[0]!.n,
    ).toBe(0);
  });
});

describe('REQUEST_TIMEOUT_MS', () => {
  it('defaults to 30 s and takes 100 ms to an hour', () => {
    expect(loadConfig({}).requestTimeoutMs).toBe(30_000);
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '5000' }).requestTimeoutMs).toBe(5000);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '50' })).toThrow(
      /REQUEST_TIMEOUT_MS must be an integer from 100 to 3600000/,
    );
  });

  let db: TestDatabase | undefined;
  let service: TestService | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ databaseUrl: db.url, requestTimeoutMs: 500 });
  });
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('a write waiting past the deadline answers 503 REQUEST_TIMEOUT, and what it wrote is rolled back', async () => {
    const holder = new pg.Client({ connectionString: db!.url });
    await holder.connect();
    let reply: Awaited<ReturnType<NonNullable<typeof service>['request']>>;
    try {
      // Another session holds every wardrobe item's lock: the create links its UI element, then
      // waits for the wardrobe past its deadline.
      await holder.query('BEGIN');
      await holder.query(
        "SELECT pg_advisory_xact_lock(hashtext('wardrobe_items(brand,color,heel_height,item_type,product_name,size,style)'), 0)",
      );
      reply = await service!.request('POST', '/api/v1/episodes', {
        body: {
          title: 'Timed out',
          ui_elements: { login_screen: 's3://timeout/login.png' },
          wardrobe: { accessories: { other: ['timed out scarf'] } },
        },
      });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(reply.status).toBe(503);
    expect(reply.body.errors[0]?.code).toBe('REQUEST_TIMEOUT');
    expect(reply.headers.get('retry-after')).toBe('1');
    expect(await db!.query("SELECT id FROM ui_elements WHERE file_reference = 's3://timeout/login.png'")).toEqual([]);
    expect(await db!.query("SELECT id FROM episodes WHERE title = 'Timed out'")).toEqual([]);
    // The pool is fine afterwards, and the same write goes through.
    expect(
      (
        await service!.request('POST', '/api/v1/episodes', {
          body: { title: 'Later', wardrobe: { accessories: { other: ['timed out scarf'] } } },
        })
      ).status,
    ).toBe(201);
  });
});
