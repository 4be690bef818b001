// Imports that keep identity (seed 8.19, 10.1): POST /api/v1/{plural}/import takes NDJSON or CSV
// as export writes it and upserts by id, keeping ids and timestamps, with a result per line, a
// dry run, and nothing changed by a re-run. The Appendix B and C records import exactly as the
// seed writes them, and export → import round-trips a database into another one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { useServiceForFile } from './support/file-service.ts';
import { appendixBAsWritten, appendixC } from './support/fixtures.ts';
import { putMediaOf } from './support/s3.ts';
import { startTestService, type Rec, type TestService } from './support/service.ts';

const fixture = useServiceForFile();

interface Line {
  line?: number;
  status?: string;
  id?: string;
  errors?: { code: string; message: string; field: string | null }[];
  summary?: Record<string, unknown>;
}

async function importInto(
  service: TestService,
  plural: string,
  body: string,
  query = '',
  type = 'application/x-ndjson',
): Promise<{ status: number; lines: Line[] }> {
  const response = await fetch(`${service.url}/api/v1/${plural}/import${query}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const text = await response.text();
  if (response.headers.get('content-type')?.includes('ndjson'))
    return {
      status: response.status,
      lines: text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line),
    };
  return { status: response.status, lines: [JSON.parse(text) as Line] };
}
const ndjson = (records: readonly Record<string, unknown>[]) => records.map((r) => JSON.stringify(r)).join('\n');
const get = (path: string) => fixture.service.request<Rec>('GET', `/api/v1${path}`);

describe('import', () => {
  it('takes the Appendix B episode at each of its stages and the Appendix C records exactly as written', async () => {
    const stages = ['minimal', 'with-production-assets', 'fully-evolved'].map(appendixBAsWritten);
    const episodes = await importInto(fixture.service, 'episodes', ndjson(stages));
    expect(episodes.status).toBe(200);
    expect(episodes.lines.slice(0, 3).map((l) => [l.line, l.status, l.id, l.errors])).toEqual([
      [1, 'created', 'ep_20251231_abc123', undefined],
      [2, 'updated', 'ep_20251231_abc123', undefined],
      [3, 'updated', 'ep_20251231_abc123', undefined],
    ]);
    expect(episodes.lines[3]!.summary).toEqual({
      lines: 3,
      created: 1,
      updated: 2,
      unchanged: 0,
      failed: 0,
      dry_run: false,
    });
    const last = stages[2]!;
    const episode = (await get('/episodes/ep_20251231_abc123')).body.data;
    expect(episode).toMatchObject({
      id: 'ep_20251231_abc123',
      title: last.title,
      created_at: '2025-12-31T10:00:00.000Z',
      updated_at: new Date(last.updated_at as string).toISOString(),
      schema_version: 1,
    });

    const clips = ['clip-lala', 'clip-guest'].map(appendixC);
    for (const clip of clips) await putMediaOf(clip);
    const components = ['component-audio', 'component-voiceover-sync'].map(appendixC);
    const clipLines = await importInto(fixture.service, 'clips', ndjson(clips));
    const componentLines = await importInto(fixture.service, 'components', ndjson(components));
    for (const [result, records, plural] of [
      [clipLines, clips, 'clips'],
      [componentLines, components, 'components'],
    ] as const) {
      expect(result.lines.slice(0, -1).map((l) => [l.status, l.errors])).toEqual(
        records.map(() => ['created', undefined]),
      );
      for (const record of records) {
        const stored = (await get(`/${plural}/${record.id as string}`)).body.data;
        expect(stored).toMatchObject({
          id: record.id,
          episode_id: 'ep_20251231_abc123',
          created_at: new Date(record.created_at as string).toISOString(),
        });
        // A clip's thumbnail job writes to it after the import (a later change); a component keeps its stamp.
        if (plural === 'components')
          expect(stored.updated_at).toBe(new Date(record.updated_at as string).toISOString());
      }
    }
    // The clips and components are the episode's, under it.
    const under = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes/ep_20251231_abc123/clips?_fields=id');
    expect(under.body.data.map((r) => r.id).sort()).toEqual(clips.map((c) => c.id).sort());

    // Running the same import again changes nothing.
    const again = await importInto(fixture.service, 'clips', ndjson(clips));
    expect(again.lines.at(-1)!.summary).toMatchObject({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    const componentsAgain = await importInto(fixture.service, 'components', ndjson(components));
    expect(componentsAgain.lines.at(-1)!.summary).toMatchObject({ unchanged: 2 });
    expect((await get(`/components/${components[0]!.id as string}`)).body.data.updated_at).toBe(
      new Date(components[0]!.updated_at as string).toISOString(),
    );
  });

  it('keeps the size and ETag of a media file a replace leaves in place (a PUT or a re-import does not clear them)', async () => {
    const body = {
      ...appendixC('clip-lala'),
      id: undefined,
      take_number: 7,
      file_reference: 's3://bucket/raw/keep/companions.mov',
    };
    await putMediaOf(body);
    const created = await fixture.create(body, 'clips');
    expect(created.file_size_bytes).toBeGreaterThan(0);
    const replaced = await fixture.service.request<Rec>('PUT', `/api/v1/clips/${created.id}`, {
      body: { ...body, notes: 'kept' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.data).toMatchObject({
      notes: 'kept',
      file_size_bytes: created.file_size_bytes,
      file_etag: created.file_etag,
    });
  });

  it('answers each line on its own: bad JSON, a bad id, a failed validation and a deleted record fail alone', async () => {
    const deleted = await fixture.create({ title: 'Deleted here' });
    await fixture.service.request('DELETE', `/api/v1/episodes/${deleted.id}`);
    const body = [
      JSON.stringify({ id: 'ep_20250101_goodone1', title: 'Good' }),
      '{not json',
      JSON.stringify({ id: 'episode-7', title: 'Bad id' }),
      JSON.stringify({ id: 'ep_20250101_invalid1', status: 'done' }),
      '',
      JSON.stringify({ id: deleted.id, title: 'Over a deleted one' }),
      JSON.stringify({ id: 'ep_20250101_badstamp', title: 'Stamp', created_at: 'yesterday' }),
      JSON.stringify({ id: 'ep_20250101_newer001', title: 'From the future', schema_version: 99 }),
    ].join('\n');
    const { status, lines } = await importInto(fixture.service, 'episodes', body);
    expect(status).toBe(200);
    expect(lines.slice(0, -1).map((l) => [l.line, l.status, l.errors?.[0]?.field ?? null])).toEqual([
      [1, 'created', null],
      [2, 'failed', null],
      [3, 'failed', 'id'],
      [4, 'failed', 'title'],
      [6, 'failed', 'id'],
      [7, 'failed', 'created_at'],
      [8, 'failed', 'schema_version'],
    ]);
    expect(lines[4]!.errors![0]!.message).toMatch(/is deleted here; restore it before importing over it/);
    expect(lines.at(-1)!.summary).toMatchObject({ lines: 7, created: 1, failed: 6 });
    expect((await get('/episodes/ep_20250101_goodone1')).status).toBe(200);
    expect((await get('/episodes/ep_20250101_invalid1')).status).toBe(404);
  });

  it('checks everything and writes nothing with dry_run=true', async () => {
    const body = ndjson([
      { id: 'ep_20250101_dryrun01', title: 'Dry' },
      { id: 'ep_20250101_dryrun02', status: 'done' },
    ]);
    const { lines } = await importInto(fixture.service, 'episodes', body, '?dry_run=true');
    expect(lines.map((l) => l.status ?? 'summary')).toEqual(['created', 'failed', 'summary']);
    expect(lines.at(-1)!.summary).toMatchObject({ dry_run: true, created: 1, failed: 1 });
    expect((await get('/episodes/ep_20250101_dryrun01')).status).toBe(404);
    const audit = await fixture.service.request<Rec[]>('GET', '/api/v1/audit?id=ep_20250101_dryrun01');
    expect(audit.body.data).toEqual([]);
  });

  it('refuses a bad format, and a body line longer than a record may be', async () => {
    expect((await importInto(fixture.service, 'episodes', '{}', '?format=xml')).status).toBe(400);
    const long = await importInto(fixture.service, 'episodes', `{"title": "${'x'.repeat(1_100_000)}"`);
    expect(long.lines.at(-1)!.errors![0]!.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('reelmeta import FILE', () => {
  it('streams a file to the service, writes the per-line report and prints the summary; failures exit 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reelmeta-import-'));
    try {
      const file = path.join(dir, 'episodes.ndjson');
      writeFileSync(
        file,
        `${ndjson([{ id: 'ep_20250101_cliimp01', title: 'From the CLI' }, { id: 'ep_20250101_cliimp02' }])}\n`,
      );
      const report = path.join(dir, 'report.ndjson');
      const args = ['import', file, '--entity', 'episodes', '--url', fixture.service.url, '--report', report];
      const first = await runCli(args);
      expect(first.code).toBe(1);
      expect(JSON.parse(first.stdout.trim().split('\n').at(-1)!)).toMatchObject({ lines: 2, created: 1, failed: 1 });
      expect(first.stderr).toContain('"line":2,"status":"failed"');
      expect(readFileSync(report, 'utf8').trim().split('\n')).toHaveLength(3);
      writeFileSync(file, `${ndjson([{ id: 'ep_20250101_cliimp01', title: 'From the CLI' }])}\n`);
      const again = await runCli(args.slice(0, 6));
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout.trim())).toMatchObject({ unchanged: 1, failed: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('export → import', () => {
  let other: { db: TestDatabase; service: TestService } | undefined;
  beforeAll(async () => {
    const db = await createTestDatabase();
    other = { db, service: await startTestService({ databaseUrl: db.url }) };
  });
  afterAll(async () => {
    await other?.service.stop();
    await other?.db.drop();
  });

  it('round-trips episodes and components into another database, as NDJSON and as CSV', async () => {
    await fixture.create({
      title: 'Round trip',
      season: 2,
      tags: ['fashion'],
      wardrobe: { shoes: { brand: 'Gucci' } },
    });
    const exported = async (service: TestService, plural: string, format: string) =>
      (await fetch(`${service.url}/api/v1/${plural}/export?format=${format}`)).text();
    const sorted = (text: string) => text.trim().split('\n').sort().join('\n');
    const episodes = await exported(fixture.service, 'episodes', 'ndjson');
    // Outfits, wardrobe items and shared assets the episodes' rules link are made again on the other side.
    const imported = await importInto(other!.service, 'episodes', episodes);
    expect(imported.lines.at(-1)!.summary).toMatchObject({ failed: 0 });
    const back = await exported(other!.service, 'episodes', 'ndjson');
    const strip = (text: string) =>
      sorted(text)
        .split('\n')
        .map((line) => {
          const { outfits, ui_element_refs, background_refs, thumbnails, thumbnail_status, ...rest } = JSON.parse(
            line,
          ) as Rec;
          return JSON.stringify(rest);
        })
        .join('\n');
    expect(strip(back)).toBe(strip(episodes));

    const csv = await exported(fixture.service, 'components', 'csv');
    const viaCsv = await importInto(other!.service, 'components', csv, '?format=csv', 'text/csv');
    expect(viaCsv.lines.at(-1)!.summary).toMatchObject({ failed: 0 });
    expect(await exported(other!.service, 'components', 'csv')).toBe(csv);
  });
});
