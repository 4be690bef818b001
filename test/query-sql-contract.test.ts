// Contract tests for the last step of the query compiler, without a database: the resolved AST
// → SQL text and bound values, compared exactly (as Kysely's testSql does), for every filter
// operator and every kind of node and target. A change to the SQL the service sends shows here
// first; test/query.test.ts checks what that SQL answers against a real PostgreSQL.
import { sql, type FragmentSqlToken } from 'slonik';
import { describe, expect, it } from 'vitest';
import { boundedCountSql, EXACT_COUNT_LIMIT } from '../src/db/counting.ts';
import { CONDITION_KINDS, scopedTo, type Condition } from '../src/query/ast.ts';
import { compileFilter, computedColumn, conditionSql, orderBySql } from '../src/query/compile-sql.ts';
import { encodeCursor } from '../src/query/cursor.ts';
import { parseListQuery } from '../src/query/list-query.ts';
import { project, projectedColumns } from '../src/query/projection.ts';
import { countRelation, resolveTarget } from '../src/query/targets.ts';
import { shippedModel } from './support/fixtures.ts';
import { findEntity } from '../src/registry/model.ts';
import { FILTER_OPERATORS, type FilterOperator } from '../src/registry/types.ts';

const model = shippedModel();
const entity = (name: string) => findEntity(model, name)!;
const query = (name: string, queryString: string) => parseListQuery(entity(name), queryString, model.entities);

interface Expected {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** The fragment's SQL text and bound values, exactly. */
function testSql(fragment: { readonly sql: string; readonly values: readonly unknown[] }, expected: Expected): void {
  expect({ sql: fragment.sql, values: fragment.values }).toEqual(expected);
}

/** The WHERE condition of a list request on `name`. */
const whereOf = (name: string, queryString: string): FragmentSqlToken => conditionSql(query(name, queryString).where!);

interface Case extends Expected {
  readonly entity: string;
  readonly query: string;
}

/** One case per operator (typed as a Record, so a new operator without one does not compile). */
const OPERATOR_CASES: Record<FilterOperator, Case> = {
  eq: { entity: 'episode', query: 'season=2', sql: '"season" = $slonik_1::"int8"', values: [2] },
  ne: {
    entity: 'episode',
    query: 'status[ne]=draft',
    sql: '("status" = $slonik_1::"text") IS NOT TRUE',
    values: ['draft'],
  },
  gt: {
    entity: 'episode',
    query: 'duration_seconds[gt]=60',
    sql: '"duration_seconds" > $slonik_1::"int8"',
    values: [60],
  },
  gte: {
    entity: 'episode',
    query: 'release_date[gte]=2025-01-01',
    sql: '"release_date" >= $slonik_1::"date"',
    values: ['2025-01-01'],
  },
  lt: {
    entity: 'episode',
    query: 'released_at[lt]=2025-01-01T10:00:00Z',
    sql: '"released_at" < $slonik_1::"timestamptz"',
    values: ['2025-01-01T10:00:00.000Z'],
  },
  lte: {
    entity: 'clip',
    query: 'duration_seconds[lte]=2.5',
    sql: '"duration_seconds" <= $slonik_1::"float8"',
    values: [2.5],
  },
  in: {
    entity: 'episode',
    query: 'status[in]=draft,published',
    sql: '"status" = ANY($slonik_1::"text"[])',
    values: [['draft', 'published']],
  },
  nin: {
    entity: 'episode',
    query: 'season[nin]=1,2',
    sql: '("season" = ANY($slonik_1::"int8"[])) IS NOT TRUE',
    values: [[1, 2]],
  },
  between: {
    entity: 'episode',
    query: 'season[between]=1,3',
    sql: '"season" BETWEEN $slonik_1::"int8" AND $slonik_2::"int8"',
    values: [1, 3],
  },
  contains: {
    entity: 'episode',
    query: 'title[contains]=Gala',
    sql: 'strpos("title", $slonik_1::text) > 0',
    values: ['Gala'],
  },
  icontains: {
    entity: 'episode',
    query: 'title[icontains]=gala',
    sql: 'strpos(lower("title"), lower($slonik_1::text)) > 0',
    values: ['gala'],
  },
  startswith: {
    entity: 'episode',
    query: 'title[startswith]=New',
    sql: 'starts_with("title", $slonik_1::text)',
    values: ['New'],
  },
  endswith: {
    entity: 'episode',
    query: 'title[endswith]=Night',
    sql: 'right("title", char_length($slonik_1::text)) = $slonik_2::text',
    values: ['Night', 'Night'],
  },
  exists: { entity: 'episode', query: 'thumbnail_url[exists]=true', sql: '"thumbnail_url" IS NOT NULL', values: [] },
  null: {
    entity: 'episode',
    query: 'thumbnail_url[null]=true',
    sql: '("thumbnail_url" IS NOT NULL) IS NOT TRUE',
    values: [],
  },
};

describe('AST → SQL for every operator', () => {
  it('has a case for each operator of the field-type table', () => {
    for (const op of FILTER_OPERATORS) expect(Object.hasOwn(OPERATOR_CASES, op), op).toBe(true);
  });
  for (const op of FILTER_OPERATORS) {
    const { entity: name, query: queryString, ...expected } = OPERATOR_CASES[op];
    it(`${op}: ${queryString}`, () => testSql(whereOf(name, queryString), expected));
  }
});

const RELATED_OUTFITS =
  'SELECT 1 FROM "outfits" AS "r1" WHERE "r1"."id" IN (SELECT "target_id" FROM "episodes_outfits" WHERE "owner_id" = "episodes"."id") AND "r1"."deleted_at" IS NULL';

/** One case per kind of target a comparison can have: where the value lives decides the SQL. */
const TARGET_CASES: Record<string, Case> = {
  'a JSONB path (text)': {
    entity: 'episode',
    query: 'wardrobe.shoes.brand=Gucci',
    sql: `("wardrobe" #>> '{shoes,brand}') = $slonik_1::"text"`,
    values: ['Gucci'],
  },
  'a JSONB path, cast to its type': {
    entity: 'clip',
    query: 'thumbnail_status.try[gt]=1',
    sql: `("thumbnail_status" #>> '{try}')::"int8" > $slonik_1::"int8"`,
    values: [1],
  },
  'a boolean column': {
    entity: 'guest',
    query: 'consent_given=true',
    sql: '"consent_given" = $slonik_1::"bool"',
    values: [true],
  },
  'through an array of objects': {
    entity: 'episode',
    query: 'backgrounds.additional.location=Paris',
    sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(("backgrounds" #> '{additional}')) = 'array' THEN ("backgrounds" #> '{additional}') END) AS "e0"(v) WHERE ("e0"."v" #>> '{location}') = $slonik_1::"text")`,
    values: ['Paris'],
  },
  'a list: contains all': {
    entity: 'episode',
    query: 'tags[contains]=a,b',
    sql: '"tags" @> $slonik_1::jsonb',
    values: ['["a","b"]'],
  },
  'a list: in any': {
    entity: 'episode',
    query: 'tags[in]=a,b',
    sql: '("tags" @> $slonik_1::jsonb OR "tags" @> $slonik_2::jsonb)',
    values: ['["a"]', '["b"]'],
  },
  'a group: presence': {
    entity: 'episode',
    query: 'wardrobe[exists]=false',
    sql: `(jsonb_typeof("wardrobe") <> 'null') IS NOT TRUE`,
    values: [],
  },
  'through a ref': {
    entity: 'episode',
    query: 'show_id.title=Lala',
    sql: 'EXISTS (SELECT 1 FROM "shows" AS "r1" WHERE "r1"."id" = "episodes"."show_id" AND "r1"."deleted_at" IS NULL AND "title" = $slonik_1::"text")',
    values: ['Lala'],
  },
  'a refs field: links the id': {
    entity: 'episode',
    query: 'outfits=out_x',
    sql: `EXISTS (${RELATED_OUTFITS} AND "id" = $slonik_1::"text")`,
    values: ['out_x'],
  },
  'through two relations': {
    entity: 'episode',
    query: 'outfits.items.brand=Zara',
    sql: `EXISTS (${RELATED_OUTFITS} AND EXISTS (SELECT 1 FROM "wardrobe_items" AS "r2" WHERE "r2"."id" IN (SELECT "target_id" FROM "outfits_items" WHERE "owner_id" = "r1"."id") AND "r2"."deleted_at" IS NULL AND "brand" = $slonik_1::"text"))`,
    values: ['Zara'],
  },
  'a count field': {
    entity: 'outfit',
    query: 'times_worn[gte]=2',
    sql: '(SELECT count(*) FROM "episodes" AS "c" WHERE "c"."deleted_at" IS NULL AND EXISTS (SELECT 1 FROM "outfits" AS "r1" WHERE "r1"."id" IN (SELECT "target_id" FROM "episodes_outfits" WHERE "owner_id" = "c"."id") AND "r1"."deleted_at" IS NULL AND "r1"."id" = "outfits"."id")) >= $slonik_1::"int8"',
    values: [2],
  },
  'a link roles field': {
    entity: 'outfit',
    query: 'worn_by=Lala',
    sql: `(SELECT coalesce(jsonb_agg(DISTINCT "j"."role" ORDER BY "j"."role") FILTER (WHERE "j"."role" IS NOT NULL), '[]'::jsonb) FROM "episodes_outfits" AS "j" JOIN "episodes" AS "c" ON "c"."id" = "j"."owner_id" WHERE "j"."target_id" = "outfits"."id" AND "c"."deleted_at" IS NULL) @> $slonik_1::jsonb`,
    values: ['["Lala"]'],
  },
  'a preset (registry-declared filter)': {
    entity: 'clip',
    query: 'unassigned=true',
    sql: '("episode_id" IS NOT NULL) IS NOT TRUE',
    values: [],
  },
};

describe('AST → SQL for every kind of target', () => {
  for (const [label, { entity: name, query: queryString, ...expected }] of Object.entries(TARGET_CASES))
    it(`${label}: ${queryString}`, () => testSql(whereOf(name, queryString), expected));
});

const season = (n: number): Condition => {
  const resolved = resolveTarget(entity('episode'), 'season');
  if ('error' in resolved) throw new Error(resolved.error);
  return { kind: 'compare', target: resolved.target, op: 'eq', values: [n] };
};

/** One case per Condition kind, built as AST nodes directly. */
const CONDITION_CASES: Record<(typeof CONDITION_KINDS)[number], { condition: Condition } & Expected> = {
  compare: { condition: season(1), sql: '"season" = $slonik_1::"int8"', values: [1] },
  and: {
    condition: { kind: 'and', items: [season(1), season(2)] },
    sql: '("season" = $slonik_1::"int8" AND "season" = $slonik_2::"int8")',
    values: [1, 2],
  },
  or: {
    condition: { kind: 'or', items: [season(1), season(2)] },
    sql: '("season" = $slonik_1::"int8" OR "season" = $slonik_2::"int8")',
    values: [1, 2],
  },
  not: { condition: { kind: 'not', item: season(1) }, sql: '("season" = $slonik_1::"int8") IS NOT TRUE', values: [1] },
};

describe('AST → SQL for every condition kind', () => {
  it('has a case for each kind the AST module lists', () => {
    for (const kind of CONDITION_KINDS) expect(Object.hasOwn(CONDITION_CASES, kind), kind).toBe(true);
  });
  for (const kind of CONDITION_KINDS) {
    const { condition, ...expected } = CONDITION_CASES[kind];
    it(kind, () => testSql(conditionSql(condition), expected));
  }

  const sqlOf = ({ sql, values }: Expected): Expected => ({ sql, values });
  it('filter= groups compile to the same nodes as hand-built ones', () => {
    testSql(whereOf('episode', 'filter={"_or":[{"season":1},{"season":2}]}'), sqlOf(CONDITION_CASES.or));
    testSql(whereOf('episode', 'filter={"_and":[{"season":1},{"season":2}]}'), sqlOf(CONDITION_CASES.and));
    testSql(whereOf('episode', 'filter={"_not":{"season":1}}'), sqlOf(CONDITION_CASES.not));
    testSql(whereOf('episode', 'season=1&season[ne]=2'), {
      sql: '("season" = $slonik_1::"int8" AND ("season" = $slonik_2::"int8") IS NOT TRUE)',
      values: [1, 2],
    });
  });

  it("a route's scope joins the query's condition with AND", () => {
    const resolved = resolveTarget(entity('episode'), 'show_id');
    if ('error' in resolved) throw new Error(resolved.error);
    testSql(conditionSql(scopedTo(query('episode', 'season=1'), resolved.target, 'sh_1').where!), {
      sql: '("show_id" = $slonik_1::"text" AND "season" = $slonik_2::"int8")',
      values: ['sh_1', 1],
    });
  });
});

describe('AST → SQL for the rest of a list query', () => {
  it('the WHERE clause adds full text and live rows; include_deleted leaves the latter out', () => {
    testSql(compileFilter(query('episode', 'q=gala'), true).where, {
      sql: `WHERE "search_vector" @@ websearch_to_tsquery('english', $slonik_1::text) AND "deleted_at" IS NULL`,
      values: ['gala'],
    });
    testSql(compileFilter(query('episode', 'include_deleted=true&season=1'), true).where, {
      sql: 'WHERE "season" = $slonik_1::"int8"',
      values: [1],
    });
    testSql(compileFilter(query('episode', ''), false).where, { sql: '', values: [] });
  });

  it('sorts by the keys asked for, then id; by rank when searching without a sort', () => {
    testSql(orderBySql(compileFilter(query('episode', '_sort=-release_date,title'), true).sortKeys), {
      sql: 'ORDER BY "release_date" DESC NULLS FIRST, "title" ASC NULLS LAST, "id" ASC NULLS LAST',
      values: [],
    });
    testSql(orderBySql(compileFilter(query('episode', 'q=gala'), true).sortKeys), {
      sql: `ORDER BY ts_rank_cd("search_vector", websearch_to_tsquery('english', $slonik_1::text)) DESC NULLS FIRST, "id" ASC NULLS LAST`,
      values: ['gala'],
    });
    testSql(orderBySql(compileFilter(query('episode', '_sort=wardrobe.shoes.brand'), true).sortKeys), {
      sql: `ORDER BY ("wardrobe" #>> '{shoes,brand}') ASC NULLS LAST, "id" ASC NULLS LAST`,
      values: [],
    });
  });

  it('a cursor continues after its position under the same keys', () => {
    const sorted = query('episode', '_sort=-release_date');
    const cursor = encodeCursor(sorted.sort, { values: ['2025-01-01'], id: 'ep_1' });
    const compiled = compileFilter(query('episode', `_sort=-release_date&_cursor=${cursor}`), true);
    const keyset =
      '("release_date" < $slonik_1::"date" OR ("release_date" = $slonik_2::"date" AND "id" > $slonik_3::"text"))';
    testSql(compiled.keysetWhere, { sql: `WHERE ${keyset}`, values: ['2025-01-01', '2025-01-01', 'ep_1'] });
    testSql(compiled.pageWhere, {
      sql: `WHERE "deleted_at" IS NULL AND ${keyset}`,
      values: ['2025-01-01', '2025-01-01', 'ep_1'],
    });
    const nullFirst = encodeCursor(sorted.sort, { values: [null], id: 'ep_2' });
    testSql(compileFilter(query('episode', `_sort=-release_date&_cursor=${nullFirst}`), true).keysetWhere, {
      sql: 'WHERE ("release_date" IS NOT NULL OR ("release_date" IS NULL AND "id" > $slonik_1::"text"))',
      values: ['ep_2'],
    });
    // Ascending, a missing value sorts last: beyond any value. The id is never missing, so its part
    // is a plain range (an index range scan, not a scan from the first row).
    const ascending = encodeCursor(query('episode', '_sort=release_date').sort, { values: ['2025-01-01'], id: 'ep_3' });
    testSql(compileFilter(query('episode', `_sort=release_date&_cursor=${ascending}`), true).keysetWhere, {
      sql: 'WHERE (("release_date" > $slonik_1::"date" OR "release_date" IS NULL) OR ("release_date" = $slonik_2::"date" AND "id" > $slonik_3::"text"))',
      values: ['2025-01-01', '2025-01-01', 'ep_3'],
    });
    const byId = encodeCursor(query('episode', '').sort, { values: [], id: 'ep_4' });
    testSql(compileFilter(query('episode', `_cursor=${byId}`), true).keysetWhere, {
      sql: 'WHERE "id" > $slonik_1::"text"',
      values: ['ep_4'],
    });
  });

  it('counts a list with a bounded count over the same WHERE', () => {
    const { where } = compileFilter(query('episode', 'season=1'), true);
    testSql(boundedCountSql(sql.fragment`${sql.identifier(['episodes'])}`, where), {
      sql: 'SELECT count(*) FROM (SELECT 1 FROM "episodes" WHERE "season" = $slonik_1::"int8" AND "deleted_at" IS NULL LIMIT $slonik_2) AS matches',
      values: [1, EXACT_COUNT_LIMIT + 1],
    });
  });

  it("a count field's select-list expression", () => {
    const field = entity('outfit').fields.find((f) => f.name === 'times_worn')!;
    testSql(computedColumn(countRelation(field, model.entities)!, 'outfits'), {
      sql: '(SELECT count(*) FROM "episodes" AS "c" WHERE "c"."deleted_at" IS NULL AND EXISTS (SELECT 1 FROM "outfits" AS "r1" WHERE "r1"."id" IN (SELECT "target_id" FROM "episodes_outfits" WHERE "owner_id" = "c"."id") AND "r1"."deleted_at" IS NULL AND "r1"."id" = "outfits"."id"))',
      values: [],
    });
  });

  it('a projection reads the columns its paths need and keeps only those paths', () => {
    const { fields } = query('episode', '_fields=title,wardrobe.shoes.brand,backgrounds.additional.name');
    expect(projectedColumns(fields!)).toEqual(['title', 'wardrobe', 'backgrounds']);
    const record = {
      id: 'ep_1',
      title: 'T',
      season: 1,
      wardrobe: { shoes: { brand: 'Gucci', color: 'black' } },
      backgrounds: { main_closet: 's3://b/k', additional: [{ name: 'Cafe', file: 's3://b/c' }] },
    };
    expect(project(record, fields!)).toEqual({
      id: 'ep_1',
      title: 'T',
      wardrobe: { shoes: { brand: 'Gucci' } },
      backgrounds: { additional: [{ name: 'Cafe' }] },
    });
  });
});
