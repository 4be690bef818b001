// The audit trail (§8.17, NFR-11) and conditional writes (no lost updates), over real HTTP on a
// real PostgreSQL.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { purgeAudit } from '../src/audit/audit-log.ts';
import { createDatabasePool } from '../src/db/pool.ts';
import { useServiceForFile } from './support/file-service.ts';
import { startTestService, type Rec, type RequestOptions } from './support/service.ts';
import { runCli } from './support/cli.ts';

const fixture = useServiceForFile();
type Entry = Rec & {
  at: string;
  actor: string | null;
  entity: string;
  record_id: string;
  operation: string;
  request_id: string | null;
  changes: { path: string; old: unknown; new: unknown }[];
  before: Rec | null;
  reverts: string | null;
  details: Record<string, unknown> | null;
};

const request = <T = Rec>(method: string, path: string, options?: RequestOptions) =>
  fixture.service.request<T>(method, path, options);
const history = async (plural: string, id: string, query = '') => {
  const reply = await request<Entry[]>('GET', `/api/v1/${plural}/${id}/history${query}`);
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(200);
  return reply.body.data;
};
const episode = (extra: Record<string, unknown> = {}) =>
  fixture.create({ title: 'Audit me', wardrobe: { shoes: { color: 'nude', brand: 'Christian Louboutin' } }, ...extra });

describe('audit rows for every write', () => {
  it('records create, update, delete, restore and hard delete with actor, request id and a field-level diff', async () => {
    const created = await request('POST', '/api/v1/episodes', {
      body: { title: 'Diffed', wardrobe: { shoes: { color: 'nude' } } },
      headers: { 'x-actor': '  lala  ', 'x-request-id': 'req-create-1' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('req-create-1');
    const id = created.body.data.id;

    const patched = await request('PATCH', `/api/v1/episodes/${id}`, {
      body: { wardrobe: { shoes: { color: 'black' } }, tags: ['a', 'b'] },
      headers: { 'x-actor': 'prime' },
    });
    expect(patched.status).toBe(200);
    const generated = patched.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect((await request('DELETE', `/api/v1/episodes/${id}?reason=dup`)).status).toBe(200);
    expect((await request('POST', `/api/v1/episodes/${id}/restore`)).status).toBe(200);
    // A PATCH that changes nothing is not a change.
    expect((await request('PATCH', `/api/v1/episodes/${id}`, { body: { title: 'Diffed' } })).status).toBe(200);

    const entries = await history('episodes', id);
    expect(entries.map((e) => e.operation)).toEqual(['restore', 'delete', 'update', 'create']);
    const [restore, remove, update, create] = entries as [Entry, Entry, Entry, Entry];
    expect(create).toMatchObject({
      actor: 'lala',
      request_id: 'req-create-1',
      entity: 'episode',
      record_id: id,
      before: null,
    });
    expect(create.changes).toContainEqual({ path: 'wardrobe.shoes.color', old: null, new: 'nude' });
    expect(update).toMatchObject({ actor: 'prime', request_id: generated });
    // Nested objects by dotted path, lists whole; updated_at is bookkeeping, not a change.
    // (the wardrobe is also recorded as an outfit, so `outfits` changed too)
    expect(update.changes).toContainEqual({ path: 'tags', old: null, new: ['a', 'b'] });
    expect(update.changes).toContainEqual({ path: 'wardrobe.shoes.color', old: 'nude', new: 'black' });
    expect(update.changes.map((c) => c.path)).not.toContain('updated_at');
    expect(update.before).toMatchObject({ id, wardrobe: { shoes: { color: 'nude' } } });
    expect(remove.changes.map((c) => c.path)).toEqual(expect.arrayContaining(['deleted_at', 'deleted_reason']));
    expect(restore.changes.map((c) => c.path)).toEqual(expect.arrayContaining(['deleted_at', 'restored_at']));

    expect((await request('DELETE', `/api/v1/episodes/${id}?hard=true`)).status).toBe(200);
    const hard = (await history('episodes', id))[0]!;
    expect(hard).toMatchObject({ operation: 'hard_delete', before: { id, title: 'Diffed' } });
    expect(hard.changes).toContainEqual({ path: 'title', old: 'Diffed', new: null });
  });

  it('writes the audit row in the write transaction: a failed write leaves none', async () => {
    const show = await fixture.create({ title: 'Show with episodes' }, 'shows');
    await episode({ show_id: show.id });
    // on_delete restrict: the delete is refused, so nothing is audited.
    const refused = await request('DELETE', `/api/v1/shows/${show.id}?hard=true`);
    expect(refused.status).toBe(409);
    expect((await history('shows', show.id)).map((e) => e.operation)).toEqual(['create']);
  });

  it('lists entries with the query language: entity, id (the record), actor, since, until', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const a = await request('POST', '/api/v1/episodes', { body: { title: 'By Zed' }, headers: { 'x-actor': 'zed' } });
    await request('PATCH', `/api/v1/episodes/${a.body.data.id}`, {
      body: { title: 'By Zed again' },
      headers: { 'x-actor': 'zed' },
    });
    const byActor = await request<Entry[]>('GET', `/api/v1/audit?actor=zed&since=${encodeURIComponent(before)}`);
    expect(byActor.status).toBe(200);
    expect(byActor.body.data.map((e) => e.operation)).toEqual(['update', 'create']);
    const byId = await request<Entry[]>(
      'GET',
      `/api/v1/audit?entity=episode&id=${a.body.data.id}&operation=update&_fields=operation,changes`,
    );
    expect(byId.body.data).toHaveLength(1);
    expect(byId.body.data[0]!.changes).toEqual([{ path: 'title', old: 'By Zed', new: 'By Zed again' }]);
    const none = await request<Entry[]>('GET', `/api/v1/audit?actor=zed&until=${encodeURIComponent(before)}`);
    expect(none.body.data).toEqual([]);
    const bad = await request('GET', '/api/v1/audit?colour=red');
    expect(bad.status).toBe(400);
    // Written by the service only.
    const post = await request('POST', '/api/v1/audit', { body: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await request('DELETE', `/api/v1/episodes/${a.body.data.id}/history`)).status).toBe(405);
  });

  it('records a cascaded soft delete in the parent entry', async () => {
    const ep = await episode();
    await fixture.create(
      { episode_id: ep.id, type: 'audio', file_reference: 's3://bucket/audio/intro.mp3' },
      'components',
    );
    const reply = await request('DELETE', `/api/v1/episodes/${ep.id}`);
    expect(reply.status).toBe(200);
    const [entry] = await history('episodes', ep.id);
    expect(entry!.operation).toBe('delete');
    expect(entry!.details).toEqual({ cascaded: { components: 1 } });
  });
});

describe('revert', () => {
  it('reverts a nested field change, and audits the revert', async () => {
    const ep = await episode();
    await request('PATCH', `/api/v1/episodes/${ep.id}`, { body: { wardrobe: { shoes: { color: 'black' } } } });
    const [change] = await history('episodes', ep.id);
    expect(change!.changes).toContainEqual({ path: 'wardrobe.shoes.color', old: 'nude', new: 'black' });

    const reverted = await request('POST', `/api/v1/episodes/${ep.id}/revert`, {
      body: { audit_id: change!.id },
      headers: { 'x-actor': 'ops' },
    });
    expect(reverted.status, JSON.stringify(reverted.body.errors)).toBe(200);
    expect(reverted.body.data.wardrobe).toEqual({ shoes: { color: 'nude', brand: 'Christian Louboutin' } });
    expect(reverted.headers.get('etag')).toMatch(/^"\d+"$/);
    expect((await request('GET', `/api/v1/episodes/${ep.id}`)).body.data.wardrobe).toEqual({
      shoes: { color: 'nude', brand: 'Christian Louboutin' },
    });

    const [revert] = await history('episodes', ep.id);
    expect(revert).toMatchObject({
      operation: 'revert',
      reverts: change!.id,
      actor: 'ops',
      details: { undid: 'update' },
    });
    expect(revert!.changes).toContainEqual({ path: 'wardrobe.shoes.color', old: 'black', new: 'nude' });
  });

  it('reverts a delete by restoring, a create by deleting; refuses entries of other records', async () => {
    const ep = await episode();
    await request('DELETE', `/api/v1/episodes/${ep.id}`);
    const [deletion, creation] = await history('episodes', ep.id);
    const restored = await request('POST', `/api/v1/episodes/${ep.id}/revert`, { body: { audit_id: deletion!.id } });
    expect(restored.status).toBe(200);
    expect(restored.body.data.deleted_at).toBeNull();

    const other = await episode();
    const wrong = await request('POST', `/api/v1/episodes/${other.id}/revert`, { body: { audit_id: creation!.id } });
    expect(wrong.status).toBe(404);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'NOT_FOUND', field: 'audit_id' });
    expect((await request('POST', `/api/v1/episodes/${ep.id}/revert`, { body: {} })).status).toBe(400);

    const undone = await request('POST', `/api/v1/episodes/${ep.id}/revert`, { body: { audit_id: creation!.id } });
    expect(undone.status).toBe(200);
    expect(undone.body.data).toMatchObject({ id: ep.id, deleted: true, hard: false });
    expect((await request('GET', `/api/v1/episodes/${ep.id}`)).status).toBe(404);
    expect((await history('episodes', ep.id))[0]).toMatchObject({ operation: 'revert', details: { undid: 'delete' } });
  });
});

describe('ETag and If-Match', () => {
  it('GET answers an ETag; a write with a stale If-Match is 412, a current one or * passes', async () => {
    const ep = await episode();
    const read = await request('GET', `/api/v1/episodes/${ep.id}`);
    const etag = read.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    expect((await request('GET', `/api/v1/episodes/${ep.id}`)).headers.get('etag')).toBe(etag);

    const first = await request('PATCH', `/api/v1/episodes/${ep.id}`, {
      body: { title: 'One' },
      headers: { 'if-match': etag },
    });
    expect(first.status).toBe(200);
    const next = first.headers.get('etag')!;
    expect(next).not.toBe(etag);
    expect((await request('GET', `/api/v1/episodes/${ep.id}`)).headers.get('etag')).toBe(next);

    for (const [method, body] of [
      ['PATCH', { title: 'Two' }],
      ['PUT', { title: 'Two' }],
      ['DELETE', undefined],
    ] as const) {
      const stale = await request(method, `/api/v1/episodes/${ep.id}`, { body, headers: { 'if-match': etag } });
      expect(stale.status, method).toBe(412);
      expect(stale.body.errors[0]!.code).toBe('PRECONDITION_FAILED');
    }
    expect((await request('GET', `/api/v1/episodes/${ep.id}`)).body.data.title).toBe('One');
    expect(
      (
        await request('PUT', `/api/v1/episodes/${ep.id}`, {
          body: { title: 'Put' },
          headers: { 'if-match': `"1", ${next}` },
        })
      ).status,
    ).toBe(200);
    expect(
      (await request('PATCH', `/api/v1/episodes/${ep.id}`, { body: { title: 'Any' }, headers: { 'if-match': '*' } }))
        .status,
    ).toBe(200);
    expect((await request('DELETE', `/api/v1/episodes/${ep.id}`, { headers: { 'if-match': next } })).status).toBe(412);
    const current = (await request('GET', `/api/v1/episodes/${ep.id}`)).headers.get('etag')!;
    expect((await request('DELETE', `/api/v1/episodes/${ep.id}`, { headers: { 'if-match': current } })).status).toBe(
      200,
    );
    // A restore and a view's PUT honour it too.
    expect(
      (await request('POST', `/api/v1/episodes/${ep.id}/restore`, { headers: { 'if-match': current } })).status,
    ).toBe(412);
    const restored = await request('POST', `/api/v1/episodes/${ep.id}/restore`, { headers: { 'if-match': '*' } });
    expect(restored.status).toBe(200);
    const live = restored.headers.get('etag')!;
    expect(
      (
        await request('PUT', `/api/v1/episodes/${ep.id}/wardrobe`, {
          body: { shoes: { color: 'red' } },
          headers: { 'if-match': current },
        })
      ).status,
    ).toBe(412);
    const view = await request('PUT', `/api/v1/episodes/${ep.id}/wardrobe`, {
      body: { shoes: { color: 'red' } },
      headers: { 'if-match': live },
    });
    expect(view.status).toBe(200);
    expect(view.headers.get('etag')).not.toBe(live);
  });

  it('two clients read the same episode and both write: one succeeds, one gets 412, one change is audited', async () => {
    const ep = await episode();
    const etag = (await request('GET', `/api/v1/episodes/${ep.id}`)).headers.get('etag')!;
    // Hold the row so that both writes are certainly in flight at once, each past its own read,
    // then let them go: the check must happen under the row lock for exactly one to win.
    const holder = new pg.Client({ connectionString: fixture.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM episodes WHERE id = $1 FOR UPDATE', [ep.id]);
      const writes = Promise.all([
        request('PATCH', `/api/v1/episodes/${ep.id}`, {
          body: { title: 'Client A' },
          headers: { 'if-match': etag, 'x-actor': 'a' },
        }),
        request('PATCH', `/api/v1/episodes/${ep.id}`, {
          body: { title: 'Client B' },
          headers: { 'if-match': etag, 'x-actor': 'b' },
        }),
      ]);
      for (let waited = 0; waited < 100; waited += 1) {
        const { rows } = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (rows[0]!.n >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await holder.query('COMMIT');
      const [a, b] = await writes;
      expect([a.status, b.status].sort()).toEqual([200, 412]);
      const winner = a.status === 200 ? 'a' : 'b';
      const updates = (await history('episodes', ep.id)).filter((e) => e.operation === 'update');
      expect(updates).toHaveLength(1);
      expect(updates[0]).toMatchObject({
        actor: winner,
        changes: [{ path: 'title', old: 'Audit me', new: winner === 'a' ? 'Client A' : 'Client B' }],
      });
      expect((await request('GET', `/api/v1/episodes/${ep.id}`)).body.data.title).toBe(
        winner === 'a' ? 'Client A' : 'Client B',
      );
    } finally {
      await holder.end();
    }
  });

  it('batch items carry if_match', async () => {
    const ep = await episode();
    const etag = (await request('GET', `/api/v1/episodes/${ep.id}`)).headers.get('etag')!;
    const reply = await request<{ status: number; errors?: { code: string; field: string }[] }[]>(
      'POST',
      '/api/v1/episodes/batch',
      {
        body: {
          operations: [
            { op: 'update', id: ep.id, data: { title: 'Batch 1' }, if_match: etag },
            { op: 'update', id: ep.id, data: { title: 'Batch 2' }, if_match: etag },
            { op: 'update', id: ep.id, data: { title: 'Batch 3' }, if_match: 5 },
          ],
        },
      },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.data.map((r) => r.status)).toEqual([200, 412, 400]);
    expect(reply.body.data[1]!.errors![0]!.code).toBe('PRECONDITION_FAILED');
    expect(reply.body.data[2]!.errors?.[0]?.field).toBe('operations[2].if_match');
  });
});

describe('retention', () => {
  it('purges entries older than the retention, keeping deletions and script entries', async () => {
    const ep = await episode();
    await request('PATCH', `/api/v1/episodes/${ep.id}`, { body: { title: 'Old change' } });
    await request('DELETE', `/api/v1/episodes/${ep.id}`);
    await fixture.db.query(`UPDATE audit_entries SET at = now() - interval '40 days' WHERE record_id = $1`, [ep.id]);
    await fixture.db.query(
      `INSERT INTO audit_entries (id, schema_version, at, entity, record_id, operation, changes) VALUES ('aud_old_script', 1, now() - interval '400 days', 'script_version', 'sv_1', 'update', '[]')`,
    );
    const pool = await createDatabasePool(fixture.db.url, 1);
    try {
      expect(await purgeAudit(pool, 0)).toBe(0);
      expect(await purgeAudit(pool, 60)).toBe(0);
      expect(await purgeAudit(pool, 30)).toBe(2);
    } finally {
      await pool.end();
    }
    expect((await history('episodes', ep.id)).map((e) => e.operation)).toEqual(['delete']);
    expect(await fixture.db.query("SELECT id FROM audit_entries WHERE id = 'aud_old_script'")).toHaveLength(1);
  });

  it('purges at start with AUDIT_RETENTION_DAYS, and from the command line (npm run audit:purge)', async () => {
    const ep = await episode();
    await request('PATCH', `/api/v1/episodes/${ep.id}`, { body: { title: 'Older change' } });
    await fixture.db.query(
      `UPDATE audit_entries SET at = now() - interval '20 days' WHERE record_id = $1 AND operation = 'update'`,
      [ep.id],
    );
    // A second instance on the same database, started with a 10-day retention, purges at start.
    const second = await startTestService({ databaseUrl: fixture.db.url, auditRetentionDays: 10 });
    await second.stop();
    expect((await history('episodes', ep.id)).map((e) => e.operation)).toEqual(['create']);

    await fixture.db.query(`UPDATE audit_entries SET at = now() - interval '20 days' WHERE record_id = $1`, [ep.id]);
    const kept = await runCli(['audit', 'purge'], { DATABASE_URL: fixture.db.url });
    expect(kept.stdout).toContain('every audit entry is kept');
    const purged = await runCli(['audit', 'purge'], { DATABASE_URL: fixture.db.url, AUDIT_RETENTION_DAYS: '15' });
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout).toContain('purged 1 audit entries older than 15 days');
    expect(await history('episodes', ep.id)).toEqual([]);
  });
});
