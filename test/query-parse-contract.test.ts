// Contract tests for the first steps of the query compiler, without a database: URL parameters →
// the unresolved AST (parse.ts, no model), the transformers over it (transform.ts), and resolve
// against the model (resolve.ts): every node kind and every operator has a case here.
import { describe, expect, it } from 'vitest';
import { parseListQuery } from '../src/query/list-query.ts';
import { parseQuery } from '../src/query/parse.ts';
import { presetCondition } from '../src/query/presets.ts';
import { QueryError } from '../src/query/problems.ts';
import { resolveQuery } from '../src/query/resolve.ts';
import { ApiVersionRenames, DefaultSort, QueryTransformer } from '../src/query/transform.ts';
import {
  EVERY_KIND_LISTED,
  UNRESOLVED_KINDS,
  type UnresolvedKind,
  type UnresolvedNode,
  type UnresolvedQuery,
} from '../src/query/unresolved-ast.ts';
import { shippedModel } from './support/fixtures.ts';
import { findEntity } from '../src/registry/model.ts';
import { FILTER_OPERATORS, type FilterOperator } from '../src/registry/types.ts';

const model = shippedModel();
const episode = findEntity(model, 'episode')!;
const items = (queryString: string) => parseQuery(queryString).items;
const conditionOf = (queryString: string) => {
  const [item] = items(queryString);
  if (item?.kind !== 'where') throw new Error(`no condition in ${queryString}`);
  return item.condition;
};
/** The problems resolving a query string on episodes reports, as `field: message`. */
function problems(queryString: string): string[] {
  try {
    parseListQuery(episode, queryString, model.entities);
  } catch (error) {
    if (error instanceof QueryError) return error.problems.map((p) => `${p.field}: ${p.message}`);
    throw error;
  }
  return [];
}

/** One case per node kind: a query string and the node parse makes of it. */
const KIND_CASES: Record<
  UnresolvedKind,
  { query: string; node: (parsed: UnresolvedQuery) => UnresolvedNode; expected: unknown }
> = {
  query: {
    query: '_limit=10&_offset=20&_count=exact&_cursor=abc',
    node: (parsed) => parsed,
    expected: { kind: 'query', items: [], limit: 10, offset: 20, count: 'exact', cursor: 'abc', offsetGiven: true },
  },
  where: {
    query: 'season=2',
    node: (parsed) => parsed.items[0]!,
    expected: {
      kind: 'where',
      counted: true,
      condition: { kind: 'bare', name: 'season', text: '2', at: 'season', param: 'season' },
    },
  },
  sort: {
    query: '_sort=-release_date, title,+season,',
    node: (parsed) => parsed.items[0]!,
    expected: {
      kind: 'sort',
      keys: [
        { kind: 'sort-key', path: 'release_date', direction: 'desc' },
        { kind: 'sort-key', path: 'title', direction: 'asc' },
        { kind: 'sort-key', path: 'season', direction: 'asc' },
      ],
    },
  },
  'sort-key': {
    query: '_sort=-wardrobe.shoes.brand',
    node: (parsed) => (parsed.items[0] as unknown as { keys: UnresolvedNode[] }).keys[0]!,
    expected: { kind: 'sort-key', path: 'wardrobe.shoes.brand', direction: 'desc' },
  },
  projection: {
    query: '_fields=title, wardrobe.shoes,,title',
    node: (parsed) => parsed.items[0]!,
    expected: { kind: 'projection', paths: ['title', 'wardrobe.shoes', 'title'] },
  },
  search: {
    query: 'q=%20',
    node: (parsed) => parsed.items[0]!,
    expected: { kind: 'search', text: ' ', problem: 'must not be empty' },
  },
  'include-deleted': {
    query: 'include_deleted=true',
    node: (parsed) => parsed.items[0]!,
    expected: { kind: 'include-deleted', include: true },
  },
  and: {
    query: `filter=${encodeURIComponent('{"season":1,"status":"draft"}')}`,
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: {
      kind: 'and',
      at: 'filter',
      param: 'filter',
      items: [
        {
          kind: 'field',
          path: 'season',
          at: 'filter.season',
          param: 'filter',
          item: {
            kind: 'compare',
            path: 'season',
            op: 'eq',
            operand: { kind: 'json', value: 1 },
            at: 'filter.season',
            param: 'filter',
          },
        },
        {
          kind: 'field',
          path: 'status',
          at: 'filter.status',
          param: 'filter',
          item: {
            kind: 'compare',
            path: 'status',
            op: 'eq',
            operand: { kind: 'json', value: 'draft' },
            at: 'filter.status',
            param: 'filter',
          },
        },
      ],
    },
  },
  or: {
    query: `filter=${encodeURIComponent('{"_or":[{"season":{"_gt":1}},"x"]}')}`,
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: {
      kind: 'or',
      at: 'filter._or',
      param: 'filter',
      items: [
        {
          kind: 'field',
          path: 'season',
          at: 'filter._or[0].season',
          param: 'filter',
          item: {
            kind: 'compare',
            path: 'season',
            op: 'gt',
            operand: { kind: 'json', value: 1 },
            at: 'filter._or[0].season._gt',
            param: 'filter',
          },
        },
        { kind: 'invalid', at: 'filter._or[1]', param: 'filter', message: 'must be an object' },
      ],
    },
  },
  not: {
    query: `filter=${encodeURIComponent('{"_not":{"tags":{"_nnull":true}}}')}`,
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: {
      kind: 'not',
      at: 'filter._not',
      param: 'filter',
      item: {
        kind: 'field',
        path: 'tags',
        at: 'filter._not.tags',
        param: 'filter',
        item: {
          kind: 'compare',
          path: 'tags',
          op: 'null',
          negated: true,
          operand: { kind: 'json', value: true },
          at: 'filter._not.tags._nnull',
          param: 'filter',
        },
      },
    },
  },
  field: {
    query: `filter=${encodeURIComponent('{"wardrobe":{"shoes.brand":{"_neq":"Gucci"}}}')}`,
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: {
      kind: 'field',
      path: 'wardrobe',
      at: 'filter.wardrobe',
      param: 'filter',
      item: {
        kind: 'field',
        path: 'wardrobe.shoes.brand',
        at: 'filter.wardrobe.shoes.brand',
        param: 'filter',
        item: {
          kind: 'compare',
          path: 'wardrobe.shoes.brand',
          op: 'ne',
          operand: { kind: 'json', value: 'Gucci' },
          at: 'filter.wardrobe.shoes.brand._neq',
          param: 'filter',
        },
      },
    },
  },
  compare: {
    query: 'wardrobe.shoes.brand[in]=Gucci,Zara',
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: {
      kind: 'compare',
      path: 'wardrobe.shoes.brand',
      op: 'in',
      operand: { kind: 'text', text: 'Gucci,Zara' },
      at: 'wardrobe.shoes.brand[in]',
      param: 'wardrobe.shoes.brand[in]',
    },
  },
  bare: {
    query: 'unassigned=true',
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: { kind: 'bare', name: 'unassigned', text: 'true', at: 'unassigned', param: 'unassigned' },
  },
  invalid: {
    query: 'title[like]=x',
    node: (parsed) => (parsed.items[0] as { condition: UnresolvedNode }).condition,
    expected: {
      kind: 'invalid',
      at: 'title[like]',
      param: 'title[like]',
      message: `unknown operator "like"; operators: ${FILTER_OPERATORS.join(', ')}`,
    },
  },
};

describe('parse → unresolved AST, without the model', () => {
  it('lists every node kind of the union', () => {
    expect(EVERY_KIND_LISTED).toBe(true);
    for (const kind of UNRESOLVED_KINDS) expect(Object.hasOwn(KIND_CASES, kind), kind).toBe(true);
  });
  for (const kind of UNRESOLVED_KINDS) {
    const { query, node, expected } = KIND_CASES[kind];
    it(`${kind}: ${decodeURIComponent(query)}`, () => {
      const found = node(parseQuery(query));
      expect(found.kind).toBe(kind);
      expect(found).toEqual(expected);
    });
  }

  it('every operator in both spellings: path[op]=text and {"path":{"_op":value}}', () => {
    for (const op of FILTER_OPERATORS) {
      expect(conditionOf(`title[${op}]=x`), op).toEqual({
        kind: 'compare',
        path: 'title',
        op,
        operand: { kind: 'text', text: 'x' },
        at: `title[${op}]`,
        param: `title[${op}]`,
      });
      const json = conditionOf(`filter=${encodeURIComponent(JSON.stringify({ title: { [`_${op}`]: 'x' } }))}`);
      expect(json, op).toMatchObject({
        kind: 'field',
        item: { kind: 'compare', op, operand: { kind: 'json', value: 'x' } },
      });
    }
  });

  it("Directus's spellings name the same operators", () => {
    const spelled: Record<string, FilterOperator> = {
      neq: 'ne',
      starts_with: 'startswith',
      ends_with: 'endswith',
      nnull: 'null',
    };
    for (const [name, op] of Object.entries(spelled)) {
      const json = conditionOf(`filter=${encodeURIComponent(JSON.stringify({ title: { [`_${name}`]: 'x' } }))}`);
      expect(json, name).toMatchObject({ item: { op } });
    }
  });

  it('reports grammar problems in place, as invalid nodes, in the order written', () => {
    expect(items('_limit=0&_limit=5&_bogus=1&a..b=1&filter=%7B')).toEqual([
      { kind: 'invalid', at: '_limit', param: '_limit', message: 'must be an integer from 1 to 1000' },
      { kind: 'invalid', at: '_limit', param: '_limit', message: 'is given more than once' },
      {
        kind: 'invalid',
        at: '_bogus',
        param: '_bogus',
        message:
          'unknown parameter; control parameters: _fields, _sort, _limit, _offset, _cursor, _count, q, filter, include_deleted',
      },
      {
        kind: 'where',
        counted: true,
        condition: {
          kind: 'invalid',
          at: 'a..b',
          param: 'a..b',
          message: 'expected field=value or field[op]=value, with a field name or dot path (e.g. wardrobe.shoes.brand)',
        },
      },
      {
        kind: 'where',
        counted: false,
        condition: {
          kind: 'invalid',
          at: 'filter',
          param: 'filter',
          message: expect.stringMatching(/^is not valid JSON \(.*\); e\.g\. \{"status":\{"_eq":"published"\}\}$/),
        },
      },
    ]);
    expect(
      conditionOf(
        `filter=${encodeURIComponent('{"_and":[{"_or":[{"_not":{"_and":[{"_or":[{"_and":[{"a":1}]}]}]}}]}]}')}`,
      ),
    ).toMatchObject({
      items: [
        {
          items: [
            {
              item: {
                items: [{ items: [{ kind: 'invalid', message: 'nesting is deeper than 5 levels of _and/_or/_not' }] }],
              },
            },
          ],
        },
      ],
    });
  });

  it('refuses an over-long query string before reading it', () => {
    expect(() => parseQuery(`title=${'x'.repeat(9000)}`)).toThrow(/over the 8192-byte limit/);
  });
});

describe('transformers over the unresolved AST', () => {
  const query = parseQuery(
    `release_date[gte]=2025-01-01&unassigned=true&duration_seconds=5&_sort=-release_date&_fields=release_date,title&filter=${encodeURIComponent(
      '{"_or":[{"release_date":{"_null":true}},{"timing":{"intro_seconds":1}}]}',
    )}&q=gala&include_deleted=false&bogus[x]=1`,
  );

  it('the base transformer rebuilds every node unchanged', () => {
    expect(new QueryTransformer().transformQuery(query)).toEqual(query);
  });

  it("ApiVersionRenames renames every field path (not presets, not error locations) through the version's rename", () => {
    const renames = new Map([
      ['release_date', 'premiere_date'],
      ['duration_seconds', 'timing.duration_seconds'],
    ]);
    const seen: string[] = [];
    const rename = (path: string, param: string) => {
      seen.push(`${param} ${path}`);
      return renames.get(path) ?? path;
    };
    const renamed = new ApiVersionRenames(rename, new Set(['unassigned'])).transformQuery(query);
    expect(renamed.items).toEqual([
      {
        kind: 'where',
        counted: true,
        condition: {
          kind: 'compare',
          path: 'premiere_date',
          op: 'gte',
          operand: { kind: 'text', text: '2025-01-01' },
          at: 'release_date[gte]',
          param: 'release_date[gte]',
        },
      },
      {
        kind: 'where',
        counted: true,
        condition: { kind: 'bare', name: 'unassigned', text: 'true', at: 'unassigned', param: 'unassigned' },
      },
      {
        kind: 'where',
        counted: true,
        condition: {
          kind: 'bare',
          name: 'timing.duration_seconds',
          text: '5',
          at: 'duration_seconds',
          param: 'duration_seconds',
        },
      },
      { kind: 'sort', keys: [{ kind: 'sort-key', path: 'premiere_date', direction: 'desc' }] },
      { kind: 'projection', paths: ['premiere_date', 'title'] },
      {
        kind: 'where',
        counted: false,
        condition: expect.objectContaining({
          kind: 'or',
          items: [
            expect.objectContaining({
              kind: 'field',
              path: 'premiere_date',
              at: 'filter._or[0].release_date',
              item: expect.objectContaining({
                kind: 'compare',
                path: 'premiere_date',
                at: 'filter._or[0].release_date._null',
              }),
            }),
            expect.objectContaining({
              kind: 'field',
              path: 'timing',
              item: expect.objectContaining({ kind: 'field', path: 'timing.intro_seconds' }),
            }),
          ],
        }),
      },
      { kind: 'search', text: 'gala' },
      { kind: 'include-deleted', include: false },
      expect.objectContaining({ kind: 'where', condition: expect.objectContaining({ kind: 'invalid' }) }),
    ]);
    // The URL parameter each path came from, for the error when a path has no single place now.
    expect(seen).toEqual([
      'release_date[gte] release_date',
      'duration_seconds duration_seconds',
      '_sort release_date',
      '_fields release_date',
      '_fields title',
      'filter release_date',
      'filter release_date',
      'filter timing',
      'filter timing.intro_seconds',
      'filter timing.intro_seconds',
    ]);
  });

  it("DefaultSort gives a query without _sort the list's own order, and leaves a client's _sort alone", () => {
    const oldestFirst = new DefaultSort([{ path: 'version', direction: 'asc' }]);
    const unsorted = parseQuery('title=x');
    expect(oldestFirst.transformQuery(unsorted).items).toEqual([
      { kind: 'sort', keys: [{ kind: 'sort-key', path: 'version', direction: 'asc' }] },
      ...unsorted.items,
    ]);
    expect(oldestFirst.transformQuery(query)).toEqual(query);
  });
});

describe('resolve against the model', () => {
  it('resolves the unresolved AST into targets, coerced values and positive operators', () => {
    const resolved = resolveQuery(
      episode,
      parseQuery('season[ne]=2&_sort=-release_date&_fields=title'),
      model.entities,
    );
    expect(resolved.where).toMatchObject({
      kind: 'not',
      item: {
        kind: 'compare',
        op: 'eq',
        values: [2],
        target: { path: 'season', column: 'season', isColumn: true, type: 'integer' },
      },
    });
    expect(resolved.sort).toMatchObject([{ target: { path: 'release_date' }, direction: 'desc' }]);
    expect(resolved.fields?.map((f) => f.path)).toEqual(['title']);
    expect(resolved).toMatchObject({ limit: 50, offset: 0, count: 'auto', includeDeleted: false });
  });

  it('a bare name is a preset switch when the entity has that preset, else an equality', () => {
    const clip = findEntity(model, 'clip')!;
    const preset = clip.presets.find((p) => p.name === 'unassigned')!;
    expect(resolveQuery(clip, parseQuery('unassigned=false'), model.entities).where).toEqual({
      kind: 'not',
      item: presetCondition(clip, preset),
    });
    expect(problems('unassigned=true')[0]).toMatch(/^unassigned: unknown field "unassigned"; fields: id, /);
  });

  it('reports the problems of grammar and names together, in the order of the request, naming what the client wrote', () => {
    expect(
      problems(
        'title[like]=x&season=soon&_sort=nope&filter=%7B%22wardrobe%22%3A%7B%22bogus%22%3A%7B%22_zz%22%3A1%7D%7D%7D&q=',
      ),
    ).toEqual([
      `title[like]: unknown operator "like"; operators: ${FILTER_OPERATORS.join(', ')}`,
      'season: season: "soon" is not an integer',
      expect.stringMatching(/^_sort: unknown field "nope"; fields: id, schema_version, title, /),
      'filter.wardrobe.bogus: unknown field "wardrobe.bogus"; wardrobe has: main_outfit, accessories, shoes, purse',
      'q: must not be empty',
    ]);
  });

  it('checks each operator against its field type (registry/types.ts)', () => {
    expect(problems('title[gt]=a')).toEqual([]);
    expect(problems('status[gt]=a')).toEqual([
      'status[gt]: operator "gt" does not apply to "status" (enum); operators here: eq, ne, in, nin, contains, icontains, startswith, endswith, exists, null',
    ]);
    expect(problems('season[contains]=1')).toEqual([
      'season[contains]: operator "contains" does not apply to "season" (integer); operators here: eq, ne, gt, gte, lt, lte, in, nin, between, exists, null',
    ]);
    expect(problems('tags[gt]=a')).toEqual([
      'tags[gt]: operator "gt" does not apply to "tags" (a list of string values); operators here: eq, ne, in, nin, contains, exists, null',
    ]);
  });
});
