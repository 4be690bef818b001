// Regression tests for what the fuzz test (fuzz.test.ts) found: inputs a client can send that
// once answered 500. Each is now a clear 4xx in the envelope.
import { describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';

const fixture = useServiceForFile();

const nested = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

describe('hostile request bodies', () => {
  it('a very deeply nested JSON body is refused with 400, not a 500 (stack overflow while walking it)', async () => {
    const show = await fixture.create({ title: 'Deep' }, 'shows');
    for (const [method, path] of [
      ['PUT', `/api/v1/shows/${show.id}`],
      ['PATCH', `/api/v1/shows/${show.id}`],
      ['POST', '/api/v1/shows'],
      ['POST', '/api/v1/shows/batch'],
    ] as const) {
      const reply = await fixture.service.request(method, path, { raw: nested(6000) });
      expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(400);
      expect(reply.body.errors[0]).toMatchObject({ code: 'INVALID_BODY', message: expect.stringMatching(/nested/) });
    }
    const wardrobe = await fixture.service.request('POST', '/api/v1/episodes', { raw: `{"title":"w","wardrobe":${nested(6000)}}` });
    expect(wardrobe.status).toBe(400);
  });

  it('a body that is not valid UTF-8 is refused with 400, not stored with replacement characters', async () => {
    const bytes = Buffer.concat([Buffer.from('{"title":"bad '), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')]);
    const reply = await fetch(`${fixture.service.url}/api/v1/shows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    expect(reply.status).toBe(400);
    expect(((await reply.json()) as { errors: unknown[] }).errors[0]).toMatchObject({ code: 'INVALID_JSON', message: 'the request body is not valid UTF-8' });
    expect(await fixture.db.query("SELECT id FROM shows WHERE title LIKE 'bad %'")).toEqual([]);
  });
});
