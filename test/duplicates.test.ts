// Duplicate warnings declared in YAML (clip.yaml: `duplicate_warnings`), over real HTTP and
// PostgreSQL: the write succeeds, and the answer names the live records that look the same.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { useServiceForFile } from './support/file-service.ts';
import { copyProject } from './support/project-copy.ts';
import { putMediaOf } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();

interface Warning {
  code: string;
  message: string;
  fields: string[];
  ids: string[];
  total: number;
}

let serial = 0;
/** A clip with its own file, unless the test says otherwise. */
const clipBody = (fields: Record<string, unknown> = {}) => ({
  talent_source: 'Lala',
  file_reference: `s3://bucket/duplicates/raw/take-${++serial}.mov`,
  ...fields,
});

async function write(method: 'POST' | 'PATCH' | 'PUT', path: string, body: Record<string, unknown>) {
  await putMediaOf(body);
  const reply = await fixture.service.request<Rec>(method, path, { body });
  expect(reply.status, JSON.stringify(reply.body.errors)).toBe(method === 'POST' ? 201 : 200);
  return {
    record: reply.body.data,
    warnings: reply.body.metadata.warnings as Warning[] | undefined,
    metadata: reply.body.metadata,
  };
}
const createClip = (fields: Record<string, unknown> = {}) => write('POST', '/api/v1/clips', clipBody(fields));

describe('duplicate warnings on create', () => {
  it('still create the record, and name the live clip with the same source_file_hash', async () => {
    const first = await createClip({ source_file_hash: 'sha256:aaa1' });
    expect(first.metadata).not.toHaveProperty('warnings');

    const second = await createClip({ source_file_hash: 'sha256:aaa1' });
    expect(second.warnings).toEqual([
      {
        code: 'POSSIBLE_DUPLICATE',
        message: `same source_file_hash as clip ${first.record.id}`,
        fields: ['source_file_hash'],
        ids: [first.record.id],
        total: 1,
      },
    ]);
    expect((await fixture.service.request('GET', `/api/v1/clips/${second.record.id}`)).status).toBe(200);
  });

  it('match a set only when every field is equal and none is null', async () => {
    const file = 's3://bucket/duplicates/raw/shared-name.mov';
    const original = await createClip({ file_reference: file, duration_seconds: 42.5 });
    const same = await createClip({ file_reference: file, duration_seconds: 42.5 });
    expect(same.warnings).toEqual([
      {
        code: 'POSSIBLE_DUPLICATE',
        message: `same file_reference and duration_seconds as clip ${original.record.id}`,
        fields: ['file_reference', 'duration_seconds'],
        ids: [original.record.id],
        total: 1,
      },
    ]);
    // Same file, other length; same file, no length: not the same footage as far as we can tell.
    expect((await createClip({ file_reference: file, duration_seconds: 42 })).metadata).not.toHaveProperty('warnings');
    const noLength = await createClip({ file_reference: file });
    expect(noLength.metadata).not.toHaveProperty('warnings');
    expect((await createClip({ file_reference: file })).metadata).not.toHaveProperty('warnings');
  });

  it('give one warning per matching set, in declaration order', async () => {
    const file = 's3://bucket/duplicates/raw/both-sets.mov';
    const original = await createClip({ file_reference: file, duration_seconds: 10, source_file_hash: 'sha256:both' });
    const copy = await createClip({ file_reference: file, duration_seconds: 10, source_file_hash: 'sha256:both' });
    expect(copy.warnings!.map((w) => [w.fields, w.ids])).toEqual([
      [['source_file_hash'], [original.record.id]],
      [['file_reference', 'duration_seconds'], [original.record.id]],
    ]);
  });

  it('ignore soft-deleted clips, and list at most 10 ids while counting all matches', async () => {
    const gone = await createClip({ source_file_hash: 'sha256:many' });
    await fixture.service.request('DELETE', `/api/v1/clips/${gone.record.id}`);
    expect((await createClip({ source_file_hash: 'sha256:many' })).metadata).not.toHaveProperty('warnings');

    for (let i = 0; i < 10; i += 1) await createClip({ source_file_hash: 'sha256:many' });
    const twelfth = await createClip({ source_file_hash: 'sha256:many' });
    const [warning] = twelfth.warnings!;
    expect(warning!.total).toBe(11);
    expect(warning!.ids).toHaveLength(10);
    expect(warning!.ids).toEqual([...warning!.ids].sort());
    expect(warning!.ids).not.toContain(gone.record.id);
    expect(warning!.ids).not.toContain(twelfth.record.id);
    expect(warning!.message).toBe(`same source_file_hash as 11 other clips: ${warning!.ids.slice(0, 3).join(', ')}, …`);
  });
});

describe('duplicate warnings on update', () => {
  it('warn when a PATCH or PUT changes a set to values another clip has, and not for other changes', async () => {
    const original = await createClip({ source_file_hash: 'sha256:upd-1' });
    const other = await createClip({ source_file_hash: 'sha256:upd-2' });
    const path = `/api/v1/clips/${other.record.id}`;

    const moved = await write('PATCH', path, { source_file_hash: 'sha256:upd-1' });
    expect(moved.record.source_file_hash).toBe('sha256:upd-1');
    expect(moved.warnings).toEqual([
      expect.objectContaining({ fields: ['source_file_hash'], ids: [original.record.id] }),
    ]);

    // The set did not change: no warning, though the clip is still a possible duplicate.
    expect((await write('PATCH', path, { notes: 'checked' })).metadata).not.toHaveProperty('warnings');
    const { id: _id, ...rest } = moved.record;
    expect((await write('PUT', path, { ...rest, notes: 'replaced' })).metadata).not.toHaveProperty('warnings');

    // A replace that changes the file and length onto another clip's warns about that set only.
    const target = await createClip({ duration_seconds: 7 });
    const replaced = await write('PUT', path, {
      ...clipBody(),
      file_reference: target.record.file_reference,
      duration_seconds: 7,
      source_file_hash: 'sha256:upd-1',
    });
    expect(replaced.warnings!.map((w) => [w.fields, w.ids])).toEqual([
      [['file_reference', 'duration_seconds'], [target.record.id]],
    ]);
  });
});

describe('duplicate warnings in a batch', () => {
  it('are carried by each item result, including duplicates created earlier in the same batch', async () => {
    const existing = await createClip({ source_file_hash: 'sha256:batch-0' });
    for (const atomic of [false, true]) {
      const operations = [
        { op: 'create', data: clipBody({ source_file_hash: 'sha256:batch-0' }) },
        { op: 'create', data: clipBody({ source_file_hash: `sha256:batch-new-${atomic}` }) },
        { op: 'create', data: clipBody({ source_file_hash: `sha256:batch-new-${atomic}` }) },
        { op: 'update', id: existing.record.id, data: { notes: 'untouched hash' } },
      ];
      await putMediaOf(operations);
      const reply = await fixture.service.request<Rec[]>('POST', `/api/v1/clips/batch?atomic=${atomic}`, {
        body: { operations },
      });
      expect(reply.status).toBe(200);
      const [dup, fresh, second, update] = reply.body.data;
      expect(dup!.warnings).toEqual([
        expect.objectContaining({ code: 'POSSIBLE_DUPLICATE', ids: expect.arrayContaining([existing.record.id]) }),
      ]);
      expect(fresh).not.toHaveProperty('warnings');
      expect(second!.warnings).toEqual([
        expect.objectContaining({ fields: ['source_file_hash'], ids: [fresh!.id], total: 1 }),
      ]);
      expect(update!.status).toBe(200);
      expect(update).not.toHaveProperty('warnings');
    }
  });
});

describe('the duplicate_warnings option', () => {
  it('is checked by the registry: known top-level fields with single values only', async () => {
    const copy = copyProject();
    try {
      copy.edit('registry/entities/clip.yaml', (t) =>
        t.replace('  - [source_file_hash]\n', '  - [source_file_hash]\n  - [source_hash]\n  - [tags, talent_source]\n'),
      );
      const result = await runCli(['codegen', '--check'], copy.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /registry\/entities\/clip\.yaml: duplicate_warnings\.1: unknown field "source_hash"; fields: episode_id, .* \(line \d+\)/,
      );
      expect(result.stderr).toMatch(
        /clip\.yaml: duplicate_warnings\.2: "tags" is an array; duplicate_warnings sets take column fields with single values/,
      );
      copy.edit('registry/entities/clip.yaml', (t) =>
        t.replace('  - [source_hash]\n  - [tags, talent_source]\n', '  - []\n'),
      );
      const empty = await runCli(['codegen', '--check'], copy.env);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toMatch(/clip\.yaml: duplicate_warnings\.1: must NOT have fewer than 1 items/);
    } finally {
      copy.remove();
    }
  });
});
