// Components (seed FR-10, Appendix C) are YAML only: the Appendix C records are accepted as
// written, they list under their episode, filter on their free-form metadata, and deleting the
// episode soft-deletes them and says how many (FR-5).
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import type { Rec } from './support/service.ts';
import { appendixC } from './support/fixtures.ts';

const fixture = useServiceForFile();

describe('components', () => {
  it('accept the Appendix C records as written, list under their episode, and go with it when it is deleted', async () => {
    const episode = (
      await fixture.service.request<Rec>('POST', '/api/v1/episodes', { body: { title: 'New Year Style Reset' } })
    ).body.data;
    const created: Rec[] = [];
    for (const name of ['component-audio', 'component-voiceover-sync']) {
      const record: Record<string, unknown> = { ...appendixC(name), episode_id: episode.id };
      const reply = await fixture.service.request<Rec>('POST', '/api/v1/components', { body: record });
      expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
      expect(reply.body.data.id).toMatch(/^comp_\d{8}_[a-z0-9]{10}$/);
      const fields = Object.fromEntries(
        Object.entries(record).filter(([key]) => !['id', 'created_at', 'updated_at'].includes(key)),
      );
      expect(reply.body.data).toMatchObject(fields);
      created.push(reply.body.data);
    }

    const dangling = await fixture.service.request('POST', '/api/v1/components', {
      body: appendixC('component-audio'),
    });
    expect(dangling.status).toBe(409);
    expect(dangling.body.errors[0]).toMatchObject({
      field: 'episode_id',
      message: `episode_id refers to an episode that does not exist (${appendixC('component-audio').episode_id as string})`,
    });

    const listed = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/episodes/${episode.id}/components?_sort=type&_fields=type,subtype`,
    );
    expect(listed.body.data).toEqual([
      { id: created[0]!.id, type: 'audio', subtype: 'background_music' },
      { id: created[1]!.id, type: 'voiceover_sync', subtype: 'timing_data' },
    ]);
    const byMetadata = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/components?metadata.license=royalty_free&_fields=metadata.track_name',
    );
    expect(byMetadata.body.data).toEqual([{ id: created[0]!.id, metadata: { track_name: 'Uplifting Corporate' } }]);
    const segments = await fixture.service.request<Rec[]>('GET', '/api/v1/components?metadata.segments=24');
    expect(segments.body.data.map((r) => r.id)).toEqual([created[1]!.id]);

    const deleted = await fixture.service.request<Rec>('DELETE', `/api/v1/episodes/${episode.id}?reason=cancelled`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.cascaded).toEqual({ components: 2 });
    expect((await fixture.service.request<Rec[]>('GET', '/api/v1/components')).body.data).toEqual([]);
    expect(
      (await fixture.service.request<Rec[]>('GET', '/api/v1/components?include_deleted=true')).body.data,
    ).toHaveLength(2);
  });
});
