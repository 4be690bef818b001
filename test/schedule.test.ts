// The production schedule (seed 8.15), declared as `schedule:` in episode.yaml: filming, edit
// deadline and publish days of live episodes between two days, in order, as JSON and as an
// iCalendar feed (parsed back here by line, as a calendar app would read it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoleService, type RoleService } from './support/role-service.ts';
import { useServiceForFile } from './support/file-service.ts';
import type { Rec } from './support/service.ts';

const fixture = useServiceForFile();
let gala: Rec;
let closet: Rec;

beforeAll(async () => {
  gala = await fixture.create({
    title: 'Gala, night; prep',
    filming_date: '2031-03-10',
    edit_deadline: '2031-03-20',
    publish_date: '2031-03-24',
  });
  closet = await fixture.create({ title: 'Closet tour', filming_date: '2031-03-20', publish_date: '2031-04-02' });
  const gone = await fixture.create({ title: 'Cancelled', filming_date: '2031-03-15' });
  await fixture.service.request('DELETE', `/api/v1/episodes/${gone.id}`);
});

describe('GET /episodes/schedule', () => {
  it('lists every dated event of live episodes in the range, by day and then event order', async () => {
    const reply = await fixture.service.request<Rec[]>(
      'GET',
      '/api/v1/episodes/schedule?from=2031-03-01&to=2031-03-31',
    );
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual([
      { date: '2031-03-10', event: 'filming', id: gala.id, title: 'Gala, night; prep' },
      { date: '2031-03-20', event: 'filming', id: closet.id, title: 'Closet tour' },
      { date: '2031-03-20', event: 'edit_deadline', id: gala.id, title: 'Gala, night; prep' },
      { date: '2031-03-24', event: 'publish', id: gala.id, title: 'Gala, night; prep' },
    ]);
    expect(reply.body.metadata).toMatchObject({ from: '2031-03-01', to: '2031-03-31' });
    const one = await fixture.service.request<Rec[]>('GET', '/api/v1/episodes/schedule?from=2031-04-02&to=2031-04-02');
    expect(one.body.data).toEqual([{ date: '2031-04-02', event: 'publish', id: closet.id, title: 'Closet tour' }]);
  });

  it('refuses bad days and ranges with 400', async () => {
    for (const query of [
      'from=2031-13-01',
      'to=tomorrow',
      'from=2031-03-10&to=2031-03-01',
      'from=2000-01-01&to=2031-01-01',
      'x=1',
    ]) {
      const reply = await fixture.service.request('GET', `/api/v1/episodes/schedule?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.errors[0]!.code, query).toBe('INVALID_QUERY');
    }
  });

  it('serves the same events as an iCalendar feed of all-day events', async () => {
    const response = await fetch(`${fixture.service.url}/api/v1/episodes/schedule.ics?from=2031-03-01&to=2031-03-31`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/calendar/);
    const text = await response.text();
    expect(text.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
    const events = text
      .split('BEGIN:VEVENT')
      .slice(1)
      .map((block) => {
        const line = (name: string) =>
          /^([A-Z;=]+?):(.*)$/m.exec(block.split('\r\n').find((l) => l.startsWith(name)) ?? '')?.[2];
        return { uid: line('UID'), start: line('DTSTART'), summary: line('SUMMARY') };
      });
    expect(events).toEqual([
      { uid: `${gala.id}-filming@reelmeta`, start: '20310310', summary: 'Gala\\, night\\; prep: filming' },
      { uid: `${closet.id}-filming@reelmeta`, start: '20310320', summary: 'Closet tour: filming' },
      { uid: `${gala.id}-edit_deadline@reelmeta`, start: '20310320', summary: 'Gala\\, night\\; prep: edit deadline' },
      { uid: `${gala.id}-publish@reelmeta`, start: '20310324', summary: 'Gala\\, night\\; prep: publish' },
    ]);
    expect(text).toMatch(/DTSTART;VALUE=DATE:20310310/);
  });
});

describe('a calendar feed URL with authentication on', () => {
  let roles: RoleService;
  beforeAll(async () => {
    // Viewers may read shows but not episodes in this copy: a feed carries its issuer's roles.
    roles = await startRoleService({ permissions: { episode: { read: 'editor' } } });
  });
  afterAll(() => roles?.stop());
  const bearer = (caller: 'viewer' | 'editor') => ({ authorization: `Bearer ${roles.tokens.get(caller)}` });

  it('opens the iCalendar feed without a header, to GETs of that feed only', async () => {
    const created = await roles.service.request('POST', '/api/v1/episodes', {
      body: { title: 'Feed episode', filming_date: '2031-05-05' },
      headers: bearer('editor'),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${roles.service.url}/api/v1/episodes/schedule.ics`)).status).toBe(401);

    const issued = await roles.service.request<Rec>('POST', '/api/v1/episodes/schedule/feed', {
      headers: bearer('editor'),
    });
    expect(issued.status).toBe(200);
    const url = new URL(issued.body.data.url as string);
    expect(url.pathname).toBe('/api/v1/episodes/schedule.ics');
    expect(Date.parse(issued.body.data.expires_at as string)).toBeGreaterThan(Date.now() + 80 * 86_400_000);
    const token = url.searchParams.get('feed_token')!;

    const feed = await fetch(`${roles.service.url}${url.pathname}${url.search}&from=2031-05-01&to=2031-05-31`);
    expect(feed.status).toBe(200);
    expect(await feed.text()).toMatch(/SUMMARY:Feed episode: filming/);

    // The token opens nothing else: not the JSON schedule, not a record, not a write.
    for (const [method, path] of [
      ['GET', '/api/v1/episodes/schedule'],
      ['GET', '/api/v1/episodes'],
      ['POST', '/api/v1/episodes/schedule.ics'],
    ] as const) {
      const other = await fetch(`${roles.service.url}${path}?feed_token=${encodeURIComponent(token)}`, { method });
      expect(other.status, `${method} ${path}`).toBe(401);
    }
    // A forged or altered token does not verify.
    const forged = `${token.slice(0, -4)}AAAA`;
    expect((await fetch(`${roles.service.url}${url.pathname}?feed_token=${forged}`)).status).toBe(401);

    // A caller who may not read the episodes gets no feed URL for them.
    const viewers = await roles.service.request<Rec>('POST', '/api/v1/episodes/schedule/feed', {
      headers: bearer('viewer'),
    });
    expect(viewers.status).toBe(403);
  });
});
