// A fuzz test (issue 7): thousands of random requests against the real service (methods, paths made
// of real route pieces and junk, query strings, headers, bodies that are deep, huge, not UTF-8,
// truncated, or carry prototype-pollution keys). Whatever comes in: never a 5xx, every error is the
// JSON envelope with no stack trace, Object.prototype stays clean (the server runs in this
// process), and seed records the fuzzer may only read are byte-identical afterwards.
// FUZZ_RUNS and FUZZ_SEED override the defaults (docs/development.md, "Tests and CI").
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useServiceForFile } from './support/file-service.ts';
import { encodeQueryValue, type Rec } from './support/service.ts';
import { shippedModel } from './support/fixtures.ts';

const RUNS = Number(process.env.FUZZ_RUNS || 3000);
const SEED = Number(process.env.FUZZ_SEED || 20260701);

const fixture = useServiceForFile();
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** Seed records: the fuzzer may GET them, never send them a write. */
const seeds: Record<string, Rec[]> = { shows: [], episodes: [], guests: [] };
/** Records the fuzzer may change or delete, by URL plural. */
const sacrificial: Record<string, string[]> = { shows: [], episodes: [], guests: [] };

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

function send(baseUrl: string, request: Sent): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close a kept-alive socket (e.g. after answering early without reading a
      // body) just as the next request goes out on it: Node's documented cue to send it again.
      if (req.reusedSocket && error.code === 'ECONNRESET') send(baseUrl, request).then(resolve, reject);
      else reject(error);
    });
    req.end(request.body);
  });
}

async function dumpSeeds(): Promise<string> {
  const parts: string[] = [];
  for (const [table, records] of Object.entries(seeds)) {
    const rows = await fixture.db.query<{ row: unknown }>(
      `SELECT to_jsonb(t) AS row FROM ${table} t WHERE id = ANY($1) ORDER BY id`,
      [records.map((r) => r.id)],
    );
    expect(rows).toHaveLength(records.length);
    parts.push(JSON.stringify(rows));
  }
  // And their audit trail: a write to one would add an entry.
  parts.push(
    JSON.stringify(
      await fixture.db.query('SELECT to_jsonb(t) AS row FROM audit_entries t WHERE record_id = ANY($1) ORDER BY id', [
        Object.values(seeds)
          .flat()
          .map((r) => r.id),
      ]),
    ),
  );
  return parts.join('\n');
}

// ---- generators ---------------------------------------------------------------------------

/** Every name Object.prototype has (constructor, __proto__, toString, valueOf, hasOwnProperty, …): data, never members. */
const PROTO_NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];
const protoName = fc.constantFrom(...PROTO_NAMES);
/** Lone UTF-16 surrogates, as JSON escapes (how they arrive in a body, a filter= or a cursor). */
const LONE_SURROGATES = ['\ud800', '\udfff', 'a\udc00b', '\ud83d', '\ude00x'];
const loneSurrogate = fc.constantFrom(...LONE_SURROGATES.map((escaped) => JSON.parse(`"${escaped}"`) as string));
const SORTABLE = [
  'title',
  'season',
  'created_at',
  'filming_date',
  'status',
  'id',
  'wardrobe.shoes.brand',
  'consent_given',
];
/** base64url JSON cursors whose values have the wrong type for their sort (or the wrong shape altogether). */
const typedGarbageCursor = fc
  .tuple(
    fc.option(fc.constantFrom(...SORTABLE), { nil: undefined }),
    fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      protoName,
      loneSurrogate,
      fc.constantFrom(1.5, -1, 1e300, 2 ** 53, true, '2026-02-30', 'not a date', ''),
    ),
    fc.oneof(fc.string({ maxLength: 12 }), protoName, loneSurrogate, fc.jsonValue({ maxDepth: 1 })),
    fc.boolean(),
  )
  .map(([sort, value, id, asObject]) => {
    const payload = asObject
      ? { s: sort ?? '', v: sort ? [value] : [], id }
      : { [String(value)]: id, s: value, v: value };
    return `${sort ? `_sort=${encodeURIComponent(sort)}&` : ''}_cursor=${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  });

const junkText = fc.string({ maxLength: 40 });
const longText = fc.integer({ min: 300, max: 3000 }).map((n) => 'x'.repeat(n));
const hugeNumbers = [
  '1e400',
  '-1e400',
  '-0',
  '18446744073709551616',
  '1e-400',
  '9007199254740993',
  '0.0000000000000000000001',
  'NaN',
  'Infinity',
  '-1',
  '2147483648',
];
const PLURALS = [
  'episodes',
  'shows',
  'guests',
  'outfits',
  'wardrobe-items',
  'ui-elements',
  'backgrounds',
  'clips',
  'components',
  'scripts',
  'script-versions',
];
/** Mostly the entities with records to aim at. */
const plural = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('episodes', 'shows', 'guests') },
  { weight: 1, arbitrary: fc.constantFrom(...PLURALS) },
);
const SUBPATHS = [
  'episodes',
  'history',
  'revert',
  'restore',
  'script',
  'script/versions',
  'script/versions/1',
  'script/versions/0',
  'script/active',
  'script/diff',
  'wardrobe',
  'backgrounds',
  'ui-elements',
  'trailer',
  'next-episode-number',
  'versions',
  'outfits',
];
const ODD_SEGMENTS = [
  '%zz',
  '%',
  '%00',
  '%2F',
  '%C0%AF',
  '%E2%82',
  '%FF%FE',
  '..',
  '.',
  '%2e%2e',
  '__proto__',
  'constructor',
  'prototype',
  '%F0%9F%98%80',
  '~',
  "'",
  '%27%20OR%201=1--',
  '%5B%5D',
  'null',
  'undefined',
  '-1',
  '1e400',
];

const junkId = fc.oneof(
  junkText.map(encodeURIComponent),
  fc.constantFrom(...ODD_SEGMENTS),
  fc.constant('ep_20250101_missing000'),
  longText,
);
/** An item id: mostly a real record of the path's entity (picked once the records exist), else junk. */
const itemId = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ pick, junk: null })) },
  { weight: 1, arbitrary: junkId.map((junk) => ({ pick: 0, junk })) },
);

function resolveId(
  choice: { pick: number; junk: string | null },
  plural: string,
  reading: boolean,
  seedPick: boolean,
): string {
  if (choice.junk !== null) return choice.junk;
  // Seed ids only ever go into reads.
  const pool: Record<string, string[]> =
    reading && seedPick
      ? Object.fromEntries(Object.entries(seeds).map(([p, records]) => [p, records.map((r) => r.id)]))
      : sacrificial;
  const ids = pool[plural] ?? Object.values(pool).flat();
  return ids[choice.pick % ids.length] ?? 'none';
}

const segment = fc.oneof(
  fc.constantFrom(...PLURALS, 'audit', 'batch', 'export', 'search', 'v1', 'v2', 'api'),
  fc.constantFrom(...ODD_SEGMENTS),
  junkText.map(encodeURIComponent),
  longText,
);

/** A path from real route pieces, with the item id chosen later (seed ids only for reads). */
const pathShape = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(plural, fc.constantFrom('', '', '', '/search', '/export', '/batch'))
      .map(([p, tail]) => ({ kind: 'collection' as const, text: `/api/v1/${p}${tail}` })),
  },
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        plural,
        fc.oneof(
          { weight: 3, arbitrary: fc.constant('') },
          { weight: 2, arbitrary: fc.constantFrom(...SUBPATHS).map((s) => `/${s}`) },
        ),
      )
      .map(([p, tail]) => ({ kind: 'item' as const, plural: p, text: `/api/v1/${p}/:id${tail}` })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '/api/v1/audit',
        '/health',
        '/ready',
        '/metrics',
        '/openapi.json',
        '/docs',
        '/api/v2/episodes',
        '/api',
        '/',
        '/api/v1',
        '/api/v1/',
      )
      .map((text) => ({ kind: 'fixed' as const, text })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(segment, { minLength: 1, maxLength: 6 })
      .map((parts) => ({ kind: 'fixed' as const, text: `/${parts.join('/')}` })),
  },
);

const FIELDS = [
  'title',
  'status',
  'show_id',
  'season',
  'episode_number',
  'wardrobe.shoes.brand',
  'wardrobe.shoes.color',
  'tags',
  'created_at',
  'updated_at',
  'id',
  'guest_info.name',
  'name',
  'email',
  'operation',
  'entity',
  'actor',
  'since',
  'until',
  'nope',
  '__proto__',
  'constructor.prototype',
  'constructor',
];
const PROTO_FIELDS = [
  ...PROTO_NAMES,
  ...PROTO_NAMES.map((n) => `wardrobe.${n}`),
  ...PROTO_NAMES.map((n) => `metadata.${n}`),
  ...PROTO_NAMES.map((n) => `guest_id.${n}`),
];
const filterField = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_FIELDS) },
);
const OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'contains',
  'icontains',
  'startswith',
  'exists',
  'null',
  'bogus',
  '__proto__',
  '',
  ...PROTO_NAMES,
];
const CONTROLS = [
  'q',
  'filter',
  'or',
  '_sort',
  '_fields',
  '_limit',
  '_offset',
  '_cursor',
  '_count',
  'include_deleted',
  'hard',
  'reason',
  'atomic',
  'format',
  'season',
  '__proto__[x]',
  '__proto__[polluted]',
  'constructor[prototype][polluted]',
  'constructor.prototype.polluted',
  '__proto__.polluted',
  ...PROTO_NAMES,
];
const filterJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"or":[{"status":"published"},{"title":{"contains":"a"}}]}',
    '{"and":[{"or":[]}]}',
    '{"__proto__":{"polluted":1}}',
    '{"title":{"__proto__":1}}',
    '{"season":{"gt":1e400}}',
    '{"wardrobe.shoes.brand":{"in":[1,2,{"a":[]}]}}',
    `${'{"or":['.repeat(200)}{}${']}'.repeat(200)}`,
    '{"title":',
    ...LONE_SURROGATES.map((escaped) => `{"title":"${escaped}"}`),
    ...LONE_SURROGATES.map((escaped) => `{"wardrobe.shoes.brand":{"_in":["x","${escaped}"]}}`),
  ),
  // Object.prototype names as filter keys, operators and values (computed keys are own properties, __proto__ too).
  fc
    .tuple(
      fc.constantFrom('title', 'status', 'season', 'tags', 'wardrobe.shoes.brand', 'metadata', ...PROTO_NAMES),
      protoName,
      protoName,
      fc.nat(4),
    )
    .map(([field, key, value, shape]) =>
      JSON.stringify(
        [
          { [key]: value },
          { [field]: value },
          { [field]: { [`_${key}`]: value } },
          { [field]: { _in: [value, 'x'] } },
          { _and: [{ [field]: { [key]: value } }] },
        ][shape],
      ),
    ),
);
const queryValue = fc.oneof(
  junkText,
  { weight: 2, arbitrary: protoName },
  loneSurrogate,
  protoName.map((n) => `${n},draft,${n}`),
  fc.constantFrom(...hugeNumbers),
  filterJson,
  fc.constantFrom(
    'true',
    'false',
    'exact',
    'estimated',
    'none',
    'csv',
    'ndjson',
    '-title,updated_at',
    'title,__proto__',
    '1000000',
    '-5',
    '',
  ),
  longText,
);
const queryPair = fc.oneof(
  fc
    .tuple(filterField, fc.constantFrom(...OPERATORS), queryValue)
    .map(([f, op, v]) => `${encodeURIComponent(op ? `${f}[${op}]` : f)}=${encodeQueryValue(v)}`),
  fc
    .tuple(fc.constantFrom(...CONTROLS), queryValue)
    .map(([k, v]) => `${k.replace(/\[/g, '%5B').replace(/\]/g, '%5D')}=${encodeQueryValue(v)}`),
  typedGarbageCursor,
  fc.constantFrom(
    '__proto__[x]=1',
    'constructor.prototype.polluted=1',
    '%zz=%zz',
    '=',
    '&&',
    'a=%',
    'title',
    '%00=%00',
    '_limit=1&_limit=2',
  ),
);
const queryString = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 5, arbitrary: fc.array(queryPair, { minLength: 1, maxLength: 5 }).map((pairs) => `?${pairs.join('&')}`) },
);

const headerValue = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, ''));
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/merge-patch+json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json;;;',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '*/*',
  '',
);
const otherHeaders = fc.record(
  {
    'if-match': fc.oneof(fc.constantFrom('*', '"abc"', 'W/"1"', '"', '""', 'null', '"0"'), headerValue),
    'x-request-id': fc.oneof(headerValue, fc.constant('x'.repeat(500))),
    'x-actor': fc.oneof(headerValue, fc.constant('__proto__')),
    accept: fc.constantFrom('application/json', 'text/csv', '*/*', 'nonsense', ''),
  },
  { requiredKeys: [] },
);
// Mostly a content type (else most bodies stop at 415); sometimes a header near Node's 16 KiB limit.
const headers = fc
  .tuple(
    fc.option(contentType, { freq: 5 }),
    otherHeaders,
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.integer({ min: 1000, max: 15_000 }) },
    ),
  )
  .map(([type, others, padding]) => ({
    ...others,
    ...(type === null ? {} : { 'content-type': type }),
    ...(padding === null ? {} : { 'x-padding': 'p'.repeat(padding) }),
  }));

const entityLike = fc.dictionary(
  fc.constantFrom(
    'title',
    'status',
    'season',
    'episode_number',
    'show_id',
    'wardrobe',
    'tags',
    'name',
    'email',
    'operations',
    'audit_id',
    'text',
    'data',
    'op',
    'id',
    '__proto__',
    'constructor',
    'prototype',
    'ext',
    'guest_info',
    'backgrounds',
    'ui_elements',
    'version_number',
    'metadata',
    ...PROTO_NAMES,
  ),
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom('published', 'draft', 'in_production', 'ep_20250101_missing000'),
    protoName,
    loneSurrogate,
    fc.dictionary(fc.oneof(protoName, loneSurrogate), fc.oneof(protoName, fc.jsonValue({ maxDepth: 1 })), {
      maxKeys: 3,
    }),
  ),
  { maxKeys: 6 },
);
/** Close to a valid record of each entity, with one field odd: gets past validation often enough to reach the stores. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', 'x'.repeat(5000), '2026-02-30', 'ep_20250101_missing000'),
  fc.double(),
  fc.integer(),
  protoName,
  loneSurrogate,
  fc.array(fc.oneof(protoName, loneSurrogate), { maxLength: 3 }),
  // Nested keys: Object.prototype names and lone surrogates as keys of objects inside the record.
  fc.dictionary(fc.oneof(protoName, loneSurrogate), fc.oneof(protoName, loneSurrogate, fc.jsonValue({ maxDepth: 1 })), {
    minKeys: 1,
    maxKeys: 3,
  }),
);
const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
const RECORDS = {
  shows: fc.record(
    {
      title: text(30),
      slug: fc.stringMatching(/^[a-z0-9-]{1,12}$/),
      description: text(50),
      status: fc.constantFrom('active', 'on_hold', 'ended', 'gone', ...PROTO_NAMES),
      language: fc.constantFrom('en', 'fr', 'xx-YY'),
    },
    { requiredKeys: ['title'] },
  ),
  episodes: fc.record(
    {
      title: text(30),
      status: fc.constantFrom('draft', 'in_production', 'in-production', 'published', 'archived', ...PROTO_NAMES),
      season: fc.integer({ min: -2, max: 40 }),
      episode_number: fc.integer({ min: -2, max: 400 }),
      tags: fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
      wardrobe: fc.record(
        {
          shoes: fc.record(
            { brand: fc.string({ maxLength: 20 }), color: fc.string({ maxLength: 10 }) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      filming_date: fc.constantFrom('2026-01-05', '2026-13-01', 'yesterday'),
      duration_seconds: fc.integer({ min: -5, max: 100_000 }),
    },
    { requiredKeys: ['title'] },
  ),
  guests: fc.record(
    {
      name: text(30),
      business_name: text(30),
      business_email: fc.constantFrom('a@example.com', 'not-an-email'),
      website: fc.constantFrom('https://example.com', 'javascript:alert(1)'),
      notes: text(100),
      consent_given: fc.boolean(),
    },
    { requiredKeys: ['name'] },
  ),
};
const oddField = fc.option(
  fc.tuple(
    fc.constantFrom(
      'title',
      'name',
      'status',
      'season',
      'tags',
      'wardrobe',
      'show_id',
      'ext',
      'id',
      'created_at',
      'schema_version',
      'deleted_at',
      ...PROTO_NAMES,
    ),
    hostileValue,
  ),
  { freq: 2 },
);
/** A JSON body close to a record of `plural` (episodes for the others). */
const plausibleFor = (plural: string) =>
  fc
    .tuple(RECORDS[plural as keyof typeof RECORDS] ?? RECORDS.episodes, oddField)
    .map(([record, odd]) => JSON.stringify(odd ? { ...record, [odd[0]]: odd[1] } : record));
const plausible = fc.constantFrom('shows', 'episodes', 'guests').chain(plausibleFor);

const jsonText = fc.oneof(
  { weight: 3, arbitrary: plausible },
  fc
    .array(
      plausible.map((data) => `{"op":"create","data":${data}}`),
      { minLength: 1, maxLength: 5 },
    )
    .map((ops) => `{"operations":[${ops.join(',')}]}`),
  entityLike.map((v) => JSON.stringify(v)),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc
    .array(
      entityLike.map((data) => ({ op: 'create', data })),
      { maxLength: 4 },
    )
    .map((operations) => JSON.stringify({ operations })),
);
const depth = fc.integer({ min: 50, max: 20_000 });
const bodyText = fc.oneof(
  { weight: 10, arbitrary: jsonText },
  { weight: 2, arbitrary: depth.map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  { weight: 2, arbitrary: depth.map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
  { weight: 1, arbitrary: depth.map((n) => `{"title":"deep","wardrobe":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('title', 'season', 'episode_number', 'duration_seconds', 'tags', 'wardrobe'),
        fc.constantFrom(...hugeNumbers.filter((n) => !/[a-z]/i.test(n))),
      )
      .map(([k, n]) => `{"title":"n","${k}":${n}}`),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"polluted":1}}',
      '{"title":"p","__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"title":"p","wardrobe":{"__proto__":{"polluted":1}}}',
      '{"title":"p","ext":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}',
      '{"operations":[{"op":"create","data":{"__proto__":{"polluted":1},"title":"b"}}]}',
      '{"operations":[{"op":"__proto__","data":{}}],"__proto__":{"polluted":1}}',
      '{"audit_id":{"__proto__":{"polluted":1}}}',
      '{"title":"a","title":"b"}',
      '{"status":"constructor"}',
      '{"status":"toString","title":"p"}',
      '{"__proto__":null}',
      '{"__proto__":{"title":"inherited"}}',
      '{"wardrobe":{"__proto__":{"shoes":{"brand":"x"}}}}',
      '{"metadata":{"constructor":"x","__proto__":{"polluted":1}}}',
      '{"type":"audio","file_reference":"s3://b/k.mp3","metadata":{"constructor":"x","toString":"y","__proto__":"z"}}',
      ...LONE_SURROGATES.flatMap((escaped) => [
        `{"title":"${escaped}"}`,
        `{"title":"t","wardrobe":{"shoes":{"brand":"${escaped}"}}}`,
        `{"title":"t","tags":["${escaped}"]}`,
        `{"${escaped}":1}`,
        `{"name":"n","notes":"${escaped}"}`,
      ]),
    ),
  },
  {
    weight: 3,
    arbitrary: jsonText.chain((text) =>
      fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut)),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      junkText,
      fc.constantFrom(
        '',
        'null',
        'true',
        '1',
        '"x"',
        '[]',
        'undefined',
        '{',
        '}',
        '\u0000',
        '\ufeff{}',
        '{"a":1}garbage',
      ),
    ),
  },
  { weight: 1, arbitrary: fc.constant(`{"title":"${'x'.repeat(1_100_000)}"}`) },
);
const invalidUtf8 = fc.oneof(
  fc.constantFrom(
    Buffer.from([0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    Buffer.from([0xc0, 0xaf]),
    Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
    Buffer.from('{"title":"\\ud800"}'),
  ),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);
const body = fc.oneof(
  { weight: 8, arbitrary: bodyText.map((t) => Buffer.from(t, 'utf8')) },
  { weight: 2, arbitrary: invalidUtf8 },
  { weight: 2, arbitrary: fc.constant(undefined) },
);

const method = fc.oneof(
  { weight: 4, arbitrary: fc.constant('GET') },
  { weight: 3, arbitrary: fc.constant('POST') },
  { weight: 2, arbitrary: fc.constant('PUT') },
  { weight: 3, arbitrary: fc.constant('PATCH') },
  { weight: 1, arbitrary: fc.constant('DELETE') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'HEAD',
      'OPTIONS',
      'PROPFIND',
      'FOO',
      'PURGE',
      'MKCOL',
      'QUERY',
      'REPORT',
      'LINK',
      'SEARCH',
    ),
  },
);

const anyRequest = fc
  .record({
    method,
    shape: pathShape,
    id: itemId,
    seedPick: fc.boolean(),
    query: queryString,
    keepQuery: fc.nat(9),
    headers,
    body,
  })
  .map(({ method, shape, id, seedPick, query, keepQuery, headers, body }): Sent => {
    const reading = method === 'GET' || method === 'HEAD';
    const plural = 'plural' in shape ? shape.plural : '';
    // Writes mostly without a query string, so that more of them reach the body.
    const path =
      shape.text.replace(':id', resolveId(id, plural, reading, seedPick)) + (reading || keepQuery < 3 ? query : '');
    return {
      method,
      path,
      headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) },
      ...(body ? { body } : {}),
    };
  });

/** Writes aimed at real routes with a JSON content type, so that bodies get past routing and 415. */
const aimedWrite = fc
  .record({
    action: fc.constantFrom('create', 'patch', 'put', 'batch', 'view'),
    plural,
    id: itemId,
    view: fc.constantFrom(
      'wardrobe',
      'backgrounds',
      'ui-elements',
      'script',
      'trailer',
      'script/versions',
      'script/active',
      'revert',
      'restore',
    ),
    type: fc.constantFrom('application/json', 'application/merge-patch+json'),
    others: otherHeaders,
    body,
    fitting: fc
      .constantFrom('shows', 'episodes', 'guests')
      .chain((p) =>
        fc.tuple(fc.constant(p), plausibleFor(p), fc.array(plausibleFor(p), { minLength: 1, maxLength: 4 })),
      ),
    useFitting: fc.boolean(),
  })
  .map(({ action, plural: anyPlural, id, view, type, others, body: anyBody, fitting, useFitting }): Sent => {
    // Half the time a body that fits the entity (a batch of them for /batch), so writes succeed.
    const plural = useFitting ? fitting[0] : anyPlural;
    const fittingBody =
      action === 'batch'
        ? `{"operations":[${fitting[2].map((data) => `{"op":"create","data":${data}}`).join(',')}]}`
        : fitting[1];
    const body = useFitting ? Buffer.from(fittingBody) : anyBody;
    const item = `/api/v1/${plural}/${resolveId(id, plural, false, false)}`;
    const [method, path] = {
      create: ['POST', `/api/v1/${plural}`],
      patch: ['PATCH', item],
      put: ['PUT', item],
      batch: ['POST', `/api/v1/${plural}/batch${id.pick % 2 ? '?atomic=true' : ''}`],
      view: [view === 'revert' || view === 'restore' || view === 'script/versions' ? 'POST' : 'PUT', `${item}/${view}`],
    }[action];
    const { 'if-match': ifMatch, ...rest } = others;
    const headers = {
      ...rest,
      ...(useFitting ? {} : ifMatch === undefined ? {} : { 'if-match': ifMatch }),
      'content-type': type,
      ...(body ? { 'content-length': String(body.length) } : {}),
    };
    return { method: method!, path: path!, headers, ...(body ? { body } : {}) };
  });

/**
 * Object.prototype names and lone surrogates aimed at the registry's own fields, so they get past
 * the unknown-field checks: enum values and `in` lists, keys inside object fields, typed garbage
 * in cursors over each entity's sortable fields; and bodies with the same names as keys and values.
 */
const model = shippedModel();
const targets = model.entities.map((entity) => ({
  route: entity.route,
  plural: entity.plural,
  enums: entity.fields.filter((f) => f.type === 'enum').map((f) => f.name),
  objects: entity.fields.filter((f) => f.type === 'object').map((f) => f.name),
  scalars: entity.fields.filter((f) => !['object', 'array', 'refs'].includes(f.type)).map((f) => f.name),
}));
const hostileText = fc.oneof({ weight: 3, arbitrary: protoName }, { weight: 1, arbitrary: loneSurrogate });
const aimedQuery = fc
  .tuple(
    fc.constantFrom(...targets),
    fc.nat(),
    fc.nat(),
    hostileText,
    fc.nat(7),
    fc.constantFrom('', '/search', '/export?format=csv&'),
  )
  .map(([target, a, b, text, shape, tail]): Sent => {
    const pick = (list: readonly string[], n: number) => list[n % Math.max(1, list.length)] ?? 'id';
    const field = pick(target.enums.length > 0 && a % 2 === 0 ? target.enums : target.scalars, b);
    const object = pick(target.objects, a);
    const pair = [
      `${field}=${encodeQueryValue(text)}`,
      `${field}%5Bin%5D=${encodeQueryValue(`${text},x`)}`,
      `${field}%5Bnin%5D=${encodeQueryValue(`x,${text}`)}`,
      `filter=${encodeURIComponent(JSON.stringify({ [field]: { _in: [text] } }))}`,
      `filter=${encodeURIComponent(JSON.stringify({ [`${object}.${text}`]: text }))}`,
      `_fields=${encodeQueryValue(`${object}.${text}`)}`,
      `_sort=${field}&_cursor=${Buffer.from(JSON.stringify({ s: field, v: [[text, 1.5, true, {}, 1e300][a % 5]], id: text })).toString('base64url')}`,
      `${encodeQueryValue(`${object}.${text}`)}=${encodeQueryValue(text)}`,
    ][shape]!;
    const base = `/api/v1/${target.route}${tail.replace(/&$/, '')}`;
    return { method: 'GET', path: tail.endsWith('&') ? `${base}&${pair}` : `${base}?${pair}`, headers: {} };
  });
const aimedBody = fc
  .tuple(fc.constantFrom(...targets), fc.nat(), hostileText, fc.nat(3), fc.constantFrom('POST', 'PATCH', 'PUT'), itemId)
  .map(([target, a, text, shape, method, id]): Sent => {
    const pick = (list: readonly string[]) => list[a % Math.max(1, list.length)] ?? 'title';
    const key = JSON.stringify(text);
    const part = [
      `${key}:"x"`,
      `"${pick(target.enums)}":${key}`,
      `"${pick(target.objects)}":{${key}:${key}}`,
      `"${pick(target.objects)}":{${key}:{"polluted":1}}`,
    ][shape]!;
    const path =
      method === 'POST'
        ? `/api/v1/${target.route}`
        : `/api/v1/${target.route}/${resolveId(id, target.plural, false, false)}`;
    const body = Buffer.from(`{${part}}`);
    return {
      method,
      path,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    };
  });

const request = fc.oneof(
  { weight: 3, arbitrary: anyRequest },
  { weight: 2, arbitrary: aimedWrite },
  { weight: 1, arbitrary: aimedQuery },
  { weight: 1, arbitrary: aimedBody },
);

// ---- the test -----------------------------------------------------------------------------

let before: string;

beforeAll(async () => {
  const show = await fixture.create({ title: 'Seed show' }, 'shows');
  seeds.shows!.push(show, await fixture.create({ title: 'Seed show two', status: 'active' }, 'shows'));
  seeds.episodes!.push(
    await fixture.create({
      title: 'Seed episode',
      status: 'in-production',
      show_id: show.id,
      season: 1,
      tags: ['seed'],
    }),
    await fixture.create({
      title: 'Seed episode with wardrobe',
      wardrobe: { shoes: { brand: 'Seed Brand', color: 'red' } },
    }),
  );
  seeds.guests!.push(await fixture.create({ name: 'Seed Guest' }, 'guests'));
  for (let i = 0; i < 3; i++) {
    const target = await fixture.create({ title: `Fuzz target show ${i}` }, 'shows');
    sacrificial.shows!.push(target.id);
    sacrificial.episodes!.push((await fixture.create({ title: `Fuzz target episode ${i}`, show_id: target.id })).id);
    sacrificial.guests!.push((await fixture.create({ name: `Fuzz guest ${i}` }, 'guests')).id);
  }
  before = await dumpSeeds();
});

afterAll(() => agent.destroy());

describe('fuzzing the HTTP API', () => {
  it(`never answers 5xx, always answers errors in the envelope, and leaves seed records alone (${RUNS} runs)`, async () => {
    console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
    const baseUrl = fixture.service.url;
    const statuses = new Map<number, number>();
    const outcome = await fc.check(
      fc.asyncProperty(request, async (sent) => {
        const answer = await send(baseUrl, sent);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const label = `${sent.method} ${sent.path.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 500)}`;
        expect(answer.status, label).toBeLessThan(500);
        expect(answer.status, label).toBeGreaterThanOrEqual(200);
        if (sent.method === 'HEAD' || answer.text === '') return;
        const isJson = answer.contentType.startsWith('application/json');
        if (answer.status >= 400) expect(isJson, label).toBe(true);
        if (!isJson) return;
        const parsed = JSON.parse(answer.text) as Record<string, unknown>;
        if (answer.status >= 400 || sent.path.startsWith('/api/')) {
          expect(parsed, label).toMatchObject({ metadata: expect.any(Object), errors: expect.any(Array) });
          expect('data' in parsed, label).toBe(true);
          for (const problem of parsed.errors as { code: unknown; message: unknown }[]) {
            expect(typeof problem.code, label).toBe('string');
            expect(String(problem.message), label).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // fast-check's own report prints the whole body (megabytes for the deep ones): say it short.
    if (outcome.failed) {
      const [sent] = outcome.counterexample ?? [];
      const shown = sent && {
        method: sent.method,
        path: sent.path.slice(0, 300),
        headers: Object.fromEntries(Object.entries(sent.headers).map(([k, v]) => [k, v.slice(0, 100)])),
        body: sent.body?.subarray(0, 300).toString('utf8'),
        bodyBytes: sent.body?.length,
      };
      throw new Error(
        `fuzz failed after ${outcome.numRuns} runs (replay: FUZZ_SEED=${SEED}, path ${outcome.counterexamplePath}): ${JSON.stringify(shown)}\n${String(outcome.errorInstance).slice(0, 1500)}`,
      );
    }
    console.log(`fuzz: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(await dumpSeeds()).toBe(before);
    // The service is still fine afterwards.
    expect((await fixture.service.request('GET', `/api/v1/episodes/${seeds.episodes![0]!.id}`)).status).toBe(200);
  }, 240_000);
});
