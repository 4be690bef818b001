// A guest who registers (seed 8.9, `conversion:` in guest.yaml): POST /guests/{id}/convert
// {"user_id"} links the registered user and hands the guest's clips, and the outfits episodes link
// under the guest's talent name, over to the user (uploaded_by), audited as the caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoleService, type RoleService } from './support/role-service.ts';
import { useServiceForFile } from './support/file-service.ts';
import { appendixC } from './support/fixtures.ts';
import { putMediaOf } from './support/s3.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
const api = <T = Rec>(method: string, path: string, body?: unknown) =>
  fixture.service.request<T>(method, `/api/v1${path}`, {
    ...(body === undefined ? {} : { body }),
    headers: { 'x-actor': 'coordinator@example.com' },
  });

let guest: Rec;
let other: Rec;
let theirClips: Rec[];
let otherClip: Rec;
let theirOutfit: Rec;
let lalasOutfit: Rec;

const clipOf = async (talent: string, episodeId: string, take: number) => {
  const body: Record<string, unknown> = {
    ...appendixC('clip-guest'),
    talent_source: talent,
    episode_id: episodeId,
    take_number: take,
  };
  delete body.id;
  body.file_reference = `s3://bucket/raw/conversion/${talent.replace(/\W+/g, '_')}_${take}.mov`;
  await putMediaOf(body);
  const created = await api('POST', '/clips', body);
  expect(created.status, JSON.stringify(created.body.errors)).toBe(201);
  return created.body.data;
};

beforeAll(async () => {
  guest = await fixture.create({ name: 'Sarah Johnson', consent_given: true }, 'guests');
  other = await fixture.create({ name: 'Maya Lee' }, 'guests');
  theirOutfit = await fixture.create({ name: 'Camel coat look' }, 'outfits');
  lalasOutfit = await fixture.create({ name: 'Champagne separates' }, 'outfits');
  const episode = await fixture.create({
    title: 'Guest styling tips',
    outfits: [
      { id: theirOutfit.id, role: 'Guest - Sarah Johnson' },
      { id: lalasOutfit.id, role: 'Lala' },
    ],
  });
  theirClips = [
    await clipOf('Guest - Sarah Johnson', episode.id as string, 1),
    await clipOf('Guest - Sarah Johnson', episode.id as string, 2),
  ];
  otherClip = await clipOf('Guest - Maya Lee', episode.id as string, 1);
  expect(theirClips.map((c) => c.guest_id)).toEqual([guest.id, guest.id]);
});

describe('POST /guests/{id}/convert', () => {
  it("links the user and hands the guest's clips and outfits over, audited as the caller", async () => {
    const converted = await api('POST', `/guests/${guest.id}/convert`, { user_id: 'usr_sarah' });
    expect(converted.status, JSON.stringify(converted.body.errors)).toBe(200);
    expect(converted.body.data).toMatchObject({ id: guest.id, user_id: 'usr_sarah' });
    expect(Date.parse(converted.body.data.converted_at as string)).not.toBeNaN();
    expect(converted.body.metadata.handed_over).toEqual({ clips: 2, outfits: 1 });
    expect(converted.headers.get('etag')).toBeTruthy();

    for (const clip of theirClips)
      expect((await api('GET', `/clips/${clip.id}`)).body.data).toMatchObject({
        uploaded_by: 'usr_sarah',
        guest_id: guest.id,
      });
    expect((await api('GET', `/outfits/${theirOutfit.id}`)).body.data.uploaded_by).toBe('usr_sarah');
    // Not theirs: another guest's clip, and the outfit Lala wore in the same episode.
    expect((await api('GET', `/clips/${otherClip.id}`)).body.data.uploaded_by).toBeNull();
    expect((await api('GET', `/outfits/${lalasOutfit.id}`)).body.data.uploaded_by).toBeNull();

    const trail = await api<Rec[]>('GET', `/audit?actor=coordinator@example.com&operation=update&_limit=10`);
    const entries = trail.body.data.map((e) => [e.entity, e.record_id]);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['guest', guest.id],
        ['clip', theirClips[0]!.id],
        ['clip', theirClips[1]!.id],
        ['outfit', theirOutfit.id],
      ]),
    );
    expect(entries).toHaveLength(4);
  });

  it('changes nothing when converted again to the same user, and refuses another user', async () => {
    const again = await api('POST', `/guests/${guest.id}/convert`, { user_id: 'usr_sarah' });
    expect(again.status).toBe(200);
    expect(again.body.metadata.handed_over).toEqual({ clips: 0, outfits: 0 });

    const another = await api('POST', `/guests/${guest.id}/convert`, { user_id: 'usr_someone_else' });
    expect(another.status).toBe(409);
    expect(another.body.errors[0]).toMatchObject({ code: 'ALREADY_CONVERTED', field: 'user_id' });
    expect((await api('GET', `/guests/${guest.id}`)).body.data.user_id).toBe('usr_sarah');
  });

  it('answers 400 for a body without a user id, 404 for no such guest, and 404 on entities without conversion', async () => {
    for (const body of [{}, { user_id: '' }, { user_id: 42 }, [], 'usr'])
      expect((await api('POST', `/guests/${other.id}/convert`, body)).body.errors[0]).toMatchObject({
        code: 'INVALID_BODY',
        field: 'user_id',
      });
    expect((await api('POST', '/guests/guest_20250101_nosuchone0/convert', { user_id: 'u' })).status).toBe(404);
    expect((await api('POST', `/clips/${otherClip.id}/convert`, { user_id: 'u' })).status).toBe(404);
    // A refused conversion wrote nothing.
    expect((await api('GET', `/guests/${other.id}`)).body.data.user_id).toBeNull();
    expect((await api('GET', `/clips/${otherClip.id}`)).body.data.uploaded_by).toBeNull();
  });

  it('refuses a user id longer than the field takes, writing nothing', async () => {
    const maya = await api('POST', `/guests/${other.id}/convert`, { user_id: 'x'.repeat(201) });
    expect(maya.status).toBe(422);
    expect(maya.body.errors[0]).toMatchObject({ field: 'user_id' });
    expect((await api('GET', `/guests/${other.id}`)).body.data.user_id).toBeNull();
    expect((await api('GET', `/clips/${otherClip.id}`)).body.data.uploaded_by).toBeNull();
  });
});

describe('a conversion the caller may not finish', () => {
  let roles: RoleService;
  beforeAll(async () => {
    // Editors update guests and clips, but only admins update outfits.
    roles = await startRoleService({ permissions: { outfit: { update: 'admin' } } });
  });
  afterAll(() => roles?.stop());

  it('is refused whole: the guest and clips written before the outfit are rolled back', async () => {
    const as = (caller: 'editor' | 'admin') => ({ authorization: `Bearer ${roles.tokens.get(caller)}` });
    const call = <T = Rec>(method: string, path: string, caller: 'editor' | 'admin', body?: unknown) =>
      roles.service.request<T>(method, `/api/v1${path}`, {
        ...(body === undefined ? {} : { body }),
        headers: as(caller),
      });
    const made = async (plural: string, body: Record<string, unknown>) => {
      const reply = await call('POST', `/${plural}`, 'admin', body);
      expect(reply.status, JSON.stringify(reply.body.errors)).toBe(201);
      return reply.body.data;
    };
    const guest = await made('guests', { name: 'Nia Cole' });
    const outfit = await made('outfits', { name: 'Denim on denim' });
    const episode = await made('episodes', {
      title: 'Denim week',
      outfits: [{ id: outfit.id, role: 'Guest - Nia Cole' }],
    });
    const clip: Record<string, unknown> = {
      ...appendixC('clip-guest'),
      talent_source: 'Guest - Nia Cole',
      episode_id: episode.id,
    };
    delete clip.id;
    clip.file_reference = 's3://bucket/raw/conversion/nia_cole_1.mov';
    await putMediaOf(clip);
    const stored = await made('clips', clip);

    const refused = await call('POST', `/guests/${guest.id}/convert`, 'editor', { user_id: 'usr_nia' });
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]?.message).toMatch(/outfit/);
    expect((await call('GET', `/guests/${guest.id}`, 'admin')).body.data.user_id).toBeNull();
    expect((await call('GET', `/clips/${stored.id}`, 'admin')).body.data.uploaded_by).toBeNull();

    const done = await call('POST', `/guests/${guest.id}/convert`, 'admin', { user_id: 'usr_nia' });
    expect(done.status).toBe(200);
    expect(done.body.metadata.handed_over).toEqual({ clips: 1, outfits: 1 });
  });
});
