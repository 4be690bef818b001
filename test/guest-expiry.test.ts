// Guest sessions end (seed 8.9), declared as `expiry:` in guest.yaml: once session_expires_at has
// passed, the contact details are erased and expired_at set, audited; a single read does it
// before it answers, and the sweep a service runs at start (then hourly) does it for the rest.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { startTestService, type Rec } from './support/service.ts';

const fixture = useServiceForFile();
const past = () => new Date(Date.now() - 60_000).toISOString();
const contact = {
  business_email: 'sarah@example.com',
  business_phone: '+1 555 0100',
  notes: 'Prefers mornings',
  consent_given: true,
};

describe('guest session expiry', () => {
  it('erases the contact details of a lapsed guest before a read serves them, audited', async () => {
    const guest = await fixture.create({ name: 'Sarah Lapsed', ...contact, session_expires_at: past() }, 'guests');
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

    const current = await fixture.create(
      { name: 'Maya Current', ...contact, session_expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      'guests',
    );
    const kept = await fixture.service.request<Rec>('GET', `/api/v1/guests/${current.id}`);
    expect(kept.body.data).toMatchObject({ business_email: 'sarah@example.com', expired_at: null });
  });

  it('erases every lapsed guest in the sweep a starting service runs', async () => {
    const ids: string[] = [];
    for (const name of ['Lapsed One', 'Lapsed Two'])
      ids.push((await fixture.create({ name, ...contact, session_expires_at: past() }, 'guests')).id);
    // Listed before any sweep, the details are still there (lists do not erase).
    const before = await fixture.service.request<Rec[]>(
      'GET',
      `/api/v1/guests?name[startswith]=Lapsed&_fields=business_email`,
    );
    expect(before.body.data.map((g) => g.business_email)).toEqual(['sarah@example.com', 'sarah@example.com']);
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
