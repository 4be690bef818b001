// A production calendar (seed 8.15) for an entity that declares `schedule:`: its records' dated
// events (filming, edit deadline, publish for episodes) between two days, in order, as JSON
// (GET /api/v1/episodes/schedule?from=&to=) and as an iCalendar feed a team subscribes to
// (…/schedule.ics, RFC 5545 by ical-generator: all-day events, one UID per record and event).
import type { Context } from 'hono';
import ical from 'ical-generator';
import { isStorableDate } from '../registry/ajv.ts';
import type { EntityDef, ScheduleDef } from '../registry/model.ts';
import { ApiError } from '../records/errors.ts';
import { sendData } from './envelope.ts';
import { FEED_TOKEN_PARAM } from '../auth/feed-tokens.ts';
import { queryParams } from './params.ts';
import { collectionPath } from './paths.ts';
import type { Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, json } from './openapi/components.ts';

/** The most events one answer lists; a longer range is asked for in pieces. */
export const MAX_SCHEDULE_EVENTS = 1000;
const DAY_MS = 86_400_000;
/** Without `from`/`to`: 30 days back and 180 ahead of today. */
const DEFAULT_BACK_DAYS = 30;
const DEFAULT_AHEAD_DAYS = 180;
const MAX_RANGE_DAYS = 3660;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `from` and `to` (YYYY-MM-DD, inclusive), checked. */
function rangeOf(c: Context, extra: readonly string[] = []): { from: string; to: string } {
  const params = queryParams(c, ['from', 'to', ...extra]);
  const now = Date.now();
  const from = params.get('from') ?? day(now - DEFAULT_BACK_DAYS * DAY_MS);
  const to = params.get('to') ?? day(now + DEFAULT_AHEAD_DAYS * DAY_MS);
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isStorableDate(value) || Number.isNaN(Date.parse(value)))
      throw ApiError.single(400, 'INVALID_QUERY', `${name} must be a day, YYYY-MM-DD`, name);
  }
  const span = (Date.parse(to) - Date.parse(from)) / DAY_MS;
  if (span < 0) throw ApiError.single(400, 'INVALID_QUERY', 'to must not be before from', 'to');
  if (span > MAX_RANGE_DAYS)
    throw ApiError.single(400, 'INVALID_QUERY', `from and to may be at most ${MAX_RANGE_DAYS} days apart`, 'to');
  return { from, to };
}

export function scheduleRoutes(entity: EntityDef, version: string): Route[] {
  const schedule: ScheduleDef | undefined = entity.schedule;
  if (!schedule) return [];
  const base = `${collectionPath(version, entity)}/schedule`;
  const names = schedule.events.map((e) => `${e.name} (${e.field})`).join(', ');
  const parameters = [
    {
      name: 'from',
      in: 'query' as const,
      description: 'First day (default: 30 days ago).',
      schema: { type: 'string', format: 'date' },
    },
    {
      name: 'to',
      in: 'query' as const,
      description: 'Last day (default: 180 days ahead).',
      schema: { type: 'string', format: 'date' },
    },
  ];
  const event = {
    type: 'object',
    properties: {
      date: { type: 'string', format: 'date' },
      event: { enum: schedule.events.map((e) => e.name) },
      id: { type: 'string' },
      [schedule.title]: { type: 'string' },
    },
  };
  /** The request's range, checked, and the events in it. */
  const scheduleOf = (services: RouteServices, extra: readonly string[] = []) => {
    const store = services.stores.get(entity.name)!;
    return async (c: Context) => {
      const { from, to } = rangeOf(c, extra);
      return { from, to, events: await store.scheduleEvents(schedule, from, to, MAX_SCHEDULE_EVENTS) };
    };
  };
  return [
    {
      method: 'get',
      path: base,
      operationId: `${version}_schedule_${entity.plural}`,
      summary: `The production schedule of ${entity.plural}: ${names}, by day`,
      description: `Every event of a live record between from and to (inclusive), by day, then ${schedule.events.map((e) => e.name).join(', ')}; at most ${MAX_SCHEDULE_EVENTS}.`,
      tags: [entity.plural],
      parameters,
      responses: {
        200: { description: 'Events in order', content: json(envelope(event, true)) },
        400: errorResponse('A bad day or range'),
      },
      permission: [[entity, 'read']],
      handler: (services) => {
        const eventsOf = scheduleOf(services);
        return async (c) => {
          const { from, to, events } = await eventsOf(c);
          return sendData(
            c,
            services.model,
            events.map((e) => ({ date: e.date, event: e.event, id: e.id, [schedule.title]: e.title })),
            { entity, extra: { from, to, limit: MAX_SCHEDULE_EVENTS } },
          );
        };
      },
    },
    {
      method: 'get',
      path: `${base}.ics`,
      operationId: `${version}_schedule_${entity.plural}_ical`,
      summary: `The production schedule of ${entity.plural} as an iCalendar feed`,
      description: `The same events as all-day VEVENTs (text/calendar), for a calendar app to subscribe to. A calendar app cannot send a bearer token: subscribe to the URL POST ${base}/feed answers, whose ${FEED_TOKEN_PARAM} opens this feed (and nothing else) to GETs.`,
      tags: [entity.plural],
      parameters: [
        ...parameters,
        {
          name: FEED_TOKEN_PARAM,
          in: 'query' as const,
          description: `Instead of a bearer token: the token of a feed URL (POST ${base}/feed).`,
          schema: { type: 'string' },
        },
      ],
      responses: {
        200: { description: 'An iCalendar document', content: { 'text/calendar': { schema: { type: 'string' } } } },
        400: errorResponse('A bad day or range'),
      },
      permission: [[entity, 'read']],
      handler: (services) => {
        const eventsOf = scheduleOf(services, [FEED_TOKEN_PARAM]);
        return async (c) => {
          const { events } = await eventsOf(c);
          const calendar = ical({ name: `Reelmeta ${entity.plural} schedule`, prodId: '//Reelmeta//schedule//EN' });
          for (const e of events) {
            calendar.createEvent({
              id: `${e.id}-${e.event}@reelmeta`,
              start: new Date(`${e.date}T00:00:00Z`),
              allDay: true,
              summary: `${e.title}: ${e.event.replace(/_/g, ' ')}`,
              url: `${new URL(c.req.url).origin}${collectionPath(version, entity)}/${e.id}`,
              ...(e.updated_at ? { stamp: new Date(e.updated_at) } : {}),
            });
          }
          return c.body(calendar.toString(), 200, { 'content-type': 'text/calendar; charset=utf-8' });
        };
      },
    },
    {
      method: 'post',
      path: `${base}/feed`,
      operationId: `${version}_schedule_${entity.plural}_feed`,
      summary: `A calendar feed URL for the ${entity.plural} schedule`,
      description: `The URL of ${base}.ics with a ${FEED_TOKEN_PARAM} that stands for the caller (their roles now) on that feed only, for a calendar app that cannot send a bearer token. It works until expires_at (FEED_TOKEN_DAYS); changing FEED_TOKEN_SECRET revokes every feed URL. from and to may be added to it.`,
      tags: [entity.plural],
      responses: {
        200: {
          description: 'The feed URL',
          content: json(
            envelope({
              type: 'object',
              properties: {
                url: { type: 'string', format: 'uri' },
                expires_at: { type: 'string', format: 'date-time' },
              },
            }),
          ),
        },
      },
      permission: [[entity, 'read']],
      handler: (services) => async (c) => {
        queryParams(c, []);
        const feed = `${collectionPath(version, entity)}/schedule.ics`;
        const { token, expiresAt } = await services.feeds.issue(c.get('principal'), feed);
        const url = `${new URL(c.req.url).origin}${feed}?${FEED_TOKEN_PARAM}=${encodeURIComponent(token)}`;
        return sendData(c, services.model, { url, expires_at: expiresAt.toISOString() }, { entity });
      },
    },
  ];
}
