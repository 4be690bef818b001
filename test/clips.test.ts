// Clips (seed FR-6, Appendix C) are YAML only: the Appendix C records are accepted as written
// ("use" is the older spelling of the "good" rating), Appendix D use case 3 finds approved Lala
// clips of an episode, timecodes are checked, and unassigned clips wait in the library.
import { beforeAll, describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { putMediaOf } from './support/s3.ts';
import type { Rec } from './support/service.ts';
import { appendixC } from './support/fixtures.ts';

const fixture = useServiceForFile();
let episode: Rec;

beforeAll(async () => {
  episode = (
    await fixture.service.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'New Year Style Reset' } })
  ).body.data;
});

/** Posts a clip whose footage is in S3 first, as a real client would have uploaded it. */
const post = async (body: Record<string, unknown>) => {
  await putMediaOf(body);
  return fixture.service.request<Rec>('POST', '/api/v1/clips', { body });
};

describe('clips', () => {
  it('accept the Appendix C records as written, and answer use case 3', async () => {
    const lala = await post({ ...appendixC('clip-lala'), episode_id: episode.id });
    expect(lala.status, JSON.stringify(lala.body.errors)).toBe(201);
    expect(lala.body.data).toMatchObject({
      talent_source: 'Lala',
      clip_type: 'raw',
      timecode_out: '00:04:05:00',
      quality_rating: 'good',
      status: 'approved',
      take_number: 1,
    });
    const guest = await post({ ...appendixC('clip-guest'), episode_id: episode.id });
    expect(guest.status, JSON.stringify(guest.body.errors)).toBe(201);
    expect(guest.body.data).toMatchObject({ talent_source: 'Guest - Sarah Johnson', quality_rating: 'good' });
    await post({ ...appendixC('clip-lala'), episode_id: episode.id, status: 'pending_review', take_number: 2 });

    // Appendix D use case 3, through the sub-resource the episode_id ref gives.
    const found = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/episodes/${episode.id}/clips?talent_source=Lala&status=approved`,
    );
    expect(found.body.data.map((c) => c.id)).toEqual([lala.body.data.id]);
    expect(found.body.data[0]).toMatchObject({
      file_reference: 's3://bucket/raw/ep_abc123/lala_take_01.mov',
      timecode_in: '00:00:00:00',
    });
    const searched = await fixture.service.request<Rec[]>('GET', '/api/v1/clips/search?q=monologue');
    expect(searched.body.data.map((c) => c.take_number as number).sort()).toEqual([1, 2]);
  });

  it('check timecodes: the HH:MM:SS:FF shape, and out not before in', async () => {
    const base = { talent_source: 'Lala', file_reference: 's3://bucket/raw/x.mov' };
    const backwards = await post({ ...base, timecode_in: '00:02:00:00', timecode_out: '00:01:59:23' });
    expect(backwards.status).toBe(422);
    expect(backwards.body.errors).toEqual([
      {
        code: 'VALIDATION_ERROR',
        message: 'timecode_out must not be before timecode_in (00:02:00:00)',
        field: 'timecode_out',
      },
    ]);
    const shape = await post({ ...base, timecode_in: '0:02:00', timecode_out: '00:61:00:00' });
    expect(shape.status).toBe(422);
    expect(shape.body.errors.map((e) => e.field).sort()).toEqual(['timecode_in', 'timecode_out']);
    expect((await post({ ...base, timecode_in: '00:02:00:00', timecode_out: '00:02:00:00' })).status).toBe(201);
  });

  it('wait unassigned in the library, are assigned by PATCH, and return to it when their episode is deleted', async () => {
    const loose = (
      await post({
        talent_source: 'JustAWomanInHerPrime',
        file_reference: 's3://bucket/raw/loose.mov',
        clip_type: 'b-roll',
      })
    ).body.data;
    expect(loose).toMatchObject({ episode_id: null, clip_type: 'b_roll', status: 'pending_review' });
    const unassigned = async () =>
      (await fixture.service.request<Rec[]>('GET', '/api/v1/clips?episode_id[null]=true')).body.data.map((c) => c.id);
    expect(await unassigned()).toContain(loose.id);

    const other = (
      await fixture.service.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'Spring Capsule' } })
    ).body.data;
    const assigned = await fixture.service.request<Rec>('PATCH', `/api/v1/clips/${loose.id}`, {
      body: { episode_id: other.id },
    });
    expect(assigned.body.data.episode_id).toBe(other.id);
    expect(await unassigned()).not.toContain(loose.id);

    const deleted = await fixture.service.request<Rec>('DELETE', `/api/v1/episodes/${other.id}`);
    expect(deleted.body.data.detached).toEqual({ clips: 1 });
    expect(await unassigned()).toContain(loose.id);
  });
});
