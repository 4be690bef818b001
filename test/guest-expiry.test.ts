// Guest sessions end (seed 8.9), declared as `expiry:` in guest.yaml: once session_expires_at has
// passed, the contact details are erased and expired_at set, audited; a single read does it
// before it answers, and the sweep a service runs at start (then hourly) does it for the rest.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { startTestService, type Rec } from './support/service.ts';

const fixture = useServiceForFile();
const contact = {
  business_email: 'sarah@example.com',
  business_phone: '+1 555 0100',
  notes: 'Prefers mornings',
  consent_given: true,
};

describe('guest session expiry', () => {
  it('erases the contact details of a lapsed guest before a read serves them, audited', async () => {
    // Written while the session lasts (the trail records the details), read once it has ended.
    const lapsesAt = Date.now() + 1000;
    const guest = await fixture.create(
      { name: 'Sarah Lapsed', ...contact, session_expires_at: new Date(lapsesAt).toISOString() },
      'guests',
    );
    const patched = await fixture.service.request('PATCH', `/api/v1/guests/${guest.id}`, {
      body: { notes: 'Prefers mornings, and tea' },
    });
    expect(patched.status).toBe(200);
    while (Date.now() <= lapsesAt + 50) await new Promise((resolve) => setTimeout(resolve, 50));
    const read = await fixture.service.request<Rec>('GET', `/api/v1/guests/${guest.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({
      name: 'Sarah Lapsed',
      business_email: null,
      business_phone: null,
      notes: null,
    });
    expect(typeof read.body.data.expired_at).toBe('string');
    const history = await fixture.service.request<Rec[]>('GET', `/api/v1/guests/${guest.id}/history`);
    expect(history.body.data[0]).toMatchObject({ operation: 'update', actor: 'reelmeta (expiry)' });
    // The trail keeps that the details were written, not what they were.
    expect(history.body.data.map((e) => e.operation)).toEqual(['update', 'update', 'create']);
    expect(JSON.stringify(history.body.data)).not.toMatch(/sarah@example\.com|555 0100|Prefers mornings/);
    expect(history.body.data[2]!.changes).toEqual(
      expect.arrayContaining([{ path: 'business_email', old: null, new: null, erased: true }]),
    );
    expect(history.body.data[1]!.changes).toEqual([{ path: 'notes', old: null, new: null, erased: true }]);
    expect(history.body.data[1]!.before).toMatchObject({ name: 'Sarah Lapsed', business_email: null });

    const current = await fixture.create(
      { name: 'Maya Current', ...contact, session_expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      'guests',
    );
    const kept = await fixture.service.request<Rec>('GET', `/api/v1/guests/${current.id}`);
    expect(kept.body.data).toMatchObject({ business_email: 'sarah@example.com', expired_at: null });
  });

  it('erases every lapsed guest in the sweep a starting service runs; until then lists and exports show none', async () => {
    const ids: string[] = [];
    const lapsesAt = Date.now() + 1500;
    const session_expires_at = new Date(lapsesAt).toISOString();
    for (const name of ['Lapsed One', 'Lapsed Two'])
      ids.push((await fixture.create({ name, ...contact, session_expires_at }, 'guests')).id);
    const listed = () =>
      fixture.service.request<Rec[]>('GET', `/api/v1/guests?name[startswith]=Lapsed&_fields=business_email,expired_at`);
    expect((await listed()).body.data.map((g) => g.business_email)).toEqual(['sarah@example.com', 'sarah@example.com']);
    // Wait for the session's end (the test's own deadline, not a guess at the machine's speed).
    while (Date.now() <= lapsesAt + 50) await new Promise((resolve) => setTimeout(resolve, 50));
    // Lapsed, not yet swept: lists, the whole-record list and the export answer no details.
    expect((await listed()).body.data.map((g) => [g.business_email, g.expired_at])).toEqual([
      [null, null],
      [null, null],
    ]);
    const whole = await fixture.service.request<Rec[]>('GET', '/api/v1/guests?name[startswith]=Lapsed');
    expect(whole.body.data.map((g) => g.business_phone)).toEqual([null, null]);
    const exported = await fixture.service.request('GET', '/api/v1/guests/export?name[startswith]=Lapsed');
    expect(exported.text).not.toMatch(/sarah@example\.com/);
    const second = await startTestService({ databaseUrl: fixture.db.url });
    try {
      const after = await fixture.service.request<Rec[]>(
        'GET',
        `/api/v1/guests?name[startswith]=Lapsed&expired_at[null]=false&_fields=business_email,business_phone,expired_at`,
      );
      expect(after.body.data.map((g) => [g.id, g.business_email, g.business_phone])).toEqual(
        ids.sort().map((id) => [id, null, null]),
      );
    } finally {
      await second.stop();
    }
  });
});
