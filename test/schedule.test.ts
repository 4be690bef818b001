// The production schedule (seed 8.15), declared as `schedule:` in episode.yaml: filming, edit
// deadline and publish days of live episodes between two days, in order, as JSON and as an
// iCalendar feed (parsed back here by line, as a calendar app would read it).
import { beforeAll, describe, expect, it } from 'vitest';
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
