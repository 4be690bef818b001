// The episode's parts as resources (seed 7.4.1, Appendix D): the Appendix B wardrobe recorded as a
// reused outfit of wardrobe items, UI elements and backgrounds linked to the shared libraries,
// script and trailer views; guests (seed 8.9) and clips linked to them by talent source.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { putTestObjects } from './support/s3.ts';
import type { Rec } from './support/service.ts';
import { appendixB } from './support/fixtures.ts';

const fixture = useServiceForFile();
const withAssets = () => appendixB('with-production-assets');
const get = <T = Rec>(p: string) => fixture.service.request<T>('GET', `/api/v1${p}`);
const put = <T = Rec>(p: string, body: unknown) => fixture.service.request<T>('PUT', `/api/v1${p}`, { body });
type Link = { id: string; role: string };

describe('episode wardrobe', () => {
  it('records the Appendix B wardrobe as an outfit, and the same look worn again as the same outfit', async () => {
    const first = await fixture.create({ ...withAssets(), title: 'Wardrobe one', episode_number: 11 });
    const main = (first.outfits as Link[]).find((l) => l.role === 'main')!;
    const outfit = (await get(`/outfits/${main.id}`)).body.data;
    expect(outfit).toMatchObject({ outfit_type: 'separates', pattern: 'solid', times_worn: 1 });
    const roles = (outfit.items as Link[]).map((l) => l.role);
    expect(roles).toEqual(['top', 'bottom', 'shoes', 'purse', 'necklace', 'earrings', 'bracelets', 'rings', 'other']); // "belt": "none" is no belt
    const shoes = (outfit.items as Link[]).find((l) => l.role === 'shoes')!;
    expect((await get(`/wardrobe-items/${shoes.id}`)).body.data).toMatchObject({
      item_type: 'shoes',
      brand: 'Christian Louboutin',
      heel_height: '4 inches',
    });

    const second = await fixture.service.request<Rec>('POST', '/api/v1/episodes', {
      body: { ...withAssets(), title: 'Wardrobe two', episode_number: 12 },
    });
    expect(second.body.data.outfits).toEqual([{ id: main.id, role: 'main' }]);
    expect(second.body.metadata.warnings).toEqual([expect.objectContaining({ code: 'REUSED', ids: [main.id] })]);
    expect((await get(`/outfits/${main.id}`)).body.data.times_worn).toBe(2);
    expect((await get<Rec[]>('/outfits?times_worn[gte]=2')).body.data.map((o) => o.id)).toEqual([main.id]);

    // Use case 6 keeps working on the document, and through the outfit the same shoes are found.
    const byDocument = await get<Rec[]>('/episodes/search?wardrobe.shoes.brand=Christian%20Louboutin&_fields=title');
    const byOutfit = await get<Rec[]>(`/wardrobe-items/${shoes.id}/episodes?_fields=title`);
    expect(byOutfit.body.data.map((e) => e.id).sort()).toEqual(byDocument.body.data.map((e) => e.id).sort());
    expect(byOutfit.body.data).toHaveLength(2);
  });

  it('GET and PUT /episodes/{id}/wardrobe: a new look reuses the items on file and moves the main link', async () => {
    const episode = await fixture.create({ ...withAssets(), title: 'Wardrobe three', episode_number: 13 });
    const before = (episode.outfits as Link[])[0]!;
    expect((await get(`/episodes/${episode.id}/wardrobe`)).body.data).toEqual(withAssets().wardrobe);

    const look = {
      main_outfit: {
        outfit_type: 'dress',
        dress: { style: 'slip dress', color: 'champagne', brand: 'Reformation', size: 'S' },
      },
      shoes: (withAssets().wardrobe as Rec).shoes,
    };
    const written = await put(`/episodes/${episode.id}/wardrobe`, look);
    expect(written.status, JSON.stringify(written.body.errors)).toBe(200);
    expect(written.body.data).toEqual(look);
    expect(written.body.metadata.warnings).toEqual([
      expect.objectContaining({ code: 'REUSED', fields: ['wardrobe.shoes'] }),
    ]);
    const after = (await get(`/episodes/${episode.id}`)).body.data.outfits as Link[];
    expect(after).toHaveLength(1);
    expect(after[0]!.id).not.toBe(before.id);

    const cleared = await put(`/episodes/${episode.id}/wardrobe`, null);
    expect(cleared.body.data).toBeNull();
    expect((await get(`/episodes/${episode.id}`)).body.data.outfits).toEqual([]);
    expect((await put(`/episodes/${episode.id}/wardrobe`, { shoes: { brand: 42 } })).status).toBe(422);
  });
});

describe('shared assets from the episode documents', () => {
  it('link every UI element and background by slot, reuse library records by file, and refuse deleting one in use', async () => {
    // A file no other test's episode uses, so this is the only library record that has it.
    const existing = await fixture.create(
      { name: 'Onyx icon holder', category: 'icon_holder', file_reference: 's3://bucket/ui/icon_holder_onyx.png' },
      'ui-elements',
    );
    const record = withAssets();
    const uiElements = { ...(record.ui_elements as Rec), icon_holder: 's3://bucket/ui/icon_holder_onyx.png' };
    const episode = await fixture.create({ ...record, ui_elements: uiElements, title: 'Assets', episode_number: 21 });
    const links = episode.ui_element_refs as Link[];
    expect(links.map((l) => l.role)).toEqual([
      'computer_mouse',
      'login_screen',
      'screen_accessories.minimize',
      'screen_accessories.maximize',
      'screen_accessories.exit',
      'icon_holder',
    ]);
    expect(links.find((l) => l.role === 'icon_holder')!.id).toBe(existing.id);
    expect((episode.background_refs as Link[]).map((l) => l.role)).toEqual(['main_closet', 'photoshoot', 'event']);

    // Use case 2, in the Appendix B shape.
    expect((await get(`/episodes/${episode.id}/ui-elements`)).body.data).toEqual(uiElements);
    expect((await get<Rec[]>(`/ui-elements/${existing.id}/episodes?_fields=title`)).body.data).toEqual([
      { id: episode.id, title: 'Assets' },
    ]);
    const refused = await fixture.service.request('DELETE', `/api/v1/ui-elements/${existing.id}`);
    expect(refused.status).toBe(409);

    const backgrounds = {
      main_closet: 's3://bucket/backgrounds/closet_main_v4.jpg',
      additional: [{ name: 'Rooftop', file: 's3://bucket/backgrounds/rooftop.jpg' }],
    };
    const written = await put(`/episodes/${episode.id}/backgrounds`, backgrounds);
    expect(written.body.data).toEqual(backgrounds);
    const now = (await get(`/episodes/${episode.id}`)).body.data.background_refs as Link[];
    expect(now.map((l) => l.role)).toEqual(['main_closet', 'additional.0.file']);
    expect((await get(`/backgrounds/${now[1]!.id}`)).body.data).toMatchObject({
      name: 'Rooftop',
      file_reference: 's3://bucket/backgrounds/rooftop.jpg',
    });
    // The links are the server's: a client cannot write them.
    const ignored = await fixture.service.request<Rec>('PATCH', `/api/v1/episodes/${episode.id}`, {
      body: { background_refs: [] },
    });
    expect(ignored.body.data.background_refs).toEqual(now);
  });
});

describe('script and trailer views', () => {
  it('serve the script as its active version (PUT adds one) and the trailer as a view, refusing other keys', async () => {
    const episode = await fixture.create({ ...withAssets(), title: 'Script', episode_number: 31 });
    // The Appendix B document's script reference is the script's version 1 (parts.script.mirror).
    expect((await get(`/episodes/${episode.id}`)).body.data.content).toMatchObject({
      script: 's3://bucket/scripts/ep_abc123_v2.pdf',
    });
    expect((await get(`/episodes/${episode.id}/script`)).body.data).toMatchObject({
      version_number: 1,
      file_reference: 's3://bucket/scripts/ep_abc123_v2.pdf',
    });
    const written = await put(`/episodes/${episode.id}/script`, {
      file_reference: 's3://bucket/scripts/v3.pdf',
      text: 'INT. WALK-IN CLOSET - DAY',
    });
    expect(written.body.data).toMatchObject({
      version_number: 2,
      file_reference: 's3://bucket/scripts/v3.pdf',
      text: 'INT. WALK-IN CLOSET - DAY',
    });
    expect((await get(`/episodes/${episode.id}/script`)).body.data).toMatchObject({
      file_reference: 's3://bucket/scripts/v3.pdf',
      text: 'INT. WALK-IN CLOSET - DAY',
    });
    expect((await get(`/episodes/${episode.id}`)).body.data.content).toMatchObject({
      script: 's3://bucket/scripts/v3.pdf',
    });
    const unknown = await put(`/episodes/${episode.id}/script`, { file: 's3://bucket/x.pdf' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0]!.field).toBe('file');
    expect((await put(`/episodes/${episode.id}/trailer`, { url: 'not a url' })).status).toBe(422);
    expect((await get(`/episodes/${episode.id}/trailer`)).body.data).toEqual({
      file_reference: 's3://bucket/trailers/ep_abc123_trailer.mp4',
      url: null,
    });
    expect((await get('/episodes/ep_20250101_missing000/script')).status).toBe(404);
    expect((await fixture.service.request('POST', `/api/v1/episodes/${episode.id}/script`)).status).toBe(405);
  });
});

describe('guests and talent', () => {
  it('store contact details only with consent, stamp consent and conversion, and expire sessions', async () => {
    const refused = await fixture.service.request('POST', '/api/v1/guests', {
      body: { name: 'Ana Lima', business_email: 'ana@atelier.example' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0]).toMatchObject({ code: 'CONSENT_REQUIRED', field: 'business_email' });

    const guest = await fixture.create(
      { name: 'Ana Lima', business_email: 'ana@atelier.example', consent_given: true },
      'guests',
    );
    expect(Date.parse(guest.consent_at as string)).toBeGreaterThan(Date.now() - 60_000);
    const expires = Date.parse(guest.session_expires_at as string) - Date.now();
    expect(Math.round(expires / 86_400_000)).toBe(30);

    const withdrawn = await fixture.service.request<Rec>('PATCH', `/api/v1/guests/${guest.id}`, {
      body: { consent_given: false },
    });
    expect(withdrawn.body.data).toMatchObject({ consent_given: false, consent_at: null, business_email: null });
    const converted = await fixture.service.request<Rec>('PATCH', `/api/v1/guests/${guest.id}`, {
      body: { user_id: 'cognito-sub-123' },
    });
    expect(converted.body.data.converted_at).toEqual(expect.any(String));
    const forged = await fixture.service.request<Rec>('PATCH', `/api/v1/guests/${guest.id}`, {
      body: { consent_at: '2020-01-01T00:00:00Z' },
    });
    expect(forged.body.data.consent_at).toBeNull();
  });

  it('accept the canonical talent, aliases and any "Guest - Name", and link the guest', async () => {
    await putTestObjects(['s3://bucket/raw/take.mov']);
    const clip = (talent: string) =>
      fixture.service.request<Rec>('POST', '/api/v1/clips', {
        body: { talent_source: talent, file_reference: 's3://bucket/raw/take.mov' },
      });
    expect((await clip('lala')).body.data.talent_source).toBe('Lala');
    const bob = await clip('Bob');
    expect(bob.status).toBe(422);
    expect(bob.body.errors[0]!.message).toContain('must be one of: Lala, JustAWomanInHerPrime, or text matching');

    const first = (await clip('Guest - Sarah Johnson')).body.data;
    const second = (await clip('Guest - Sarah Johnson')).body.data;
    expect(first.guest_id).toEqual(expect.stringMatching(/^guest_/));
    expect(second.guest_id).toBe(first.guest_id);
    expect((await get(`/guests/${first.guest_id as string}`)).body.data).toMatchObject({
      name: 'Sarah Johnson',
      consent_given: false,
    });
    expect((await get<Rec[]>(`/guests/${first.guest_id as string}/clips`)).body.data).toHaveLength(2);
    expect((await get<Rec[]>('/clips?talent_source=Guest%20-%20Sarah%20Johnson')).body.data).toHaveLength(2);
  });
});
