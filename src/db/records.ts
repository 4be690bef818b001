// Generic storage for any registry entity: one table per entity, one column per top-level field
// (objects and arrays as JSONB), `storage: document` fields inside the `doc` JSONB column.
import type { ExpiryDef, ScheduleDef } from '../registry/model.ts';
import { randomInt } from 'node:crypto';
import {
  sql,
  type CommonQueryMethods,
  type DatabaseConnection,
  type QuerySqlToken,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type FragmentSqlToken,
  type ListSqlToken,
  type ValueExpression,
} from 'slonik';
import { hasSoftDelete, hasTimestamps, type EntityDef, type FieldDef } from '../registry/model.ts';
import type { Condition, ListQuery } from '../query/ast.ts';
import {
  compileFilter,
  computedColumn,
  conditionSql,
  orderBySql,
  rolesColumn,
  type CompiledFilter,
} from '../query/compile-sql.ts';
import { countRelation, rolesRelation } from '../query/targets.ts';
import { project, projectedColumns } from '../query/projection.ts';
import { boundedCountSql, countMatches, type Total } from './counting.ts';
import { LEGACY, upgradeRow } from './legacy-rows.ts';
import { PREPARED } from './prepared.ts';
import { jsonObjectSql, recordMembers, type JsonMember } from './record-json.ts';
import { lockKeys, withinTransaction } from './work.ts';

export type StoredRecord = Record<string, unknown> & { id: string };

/** What an import keeps of a record: its id, and its timestamps when given. */
export interface Identity {
  readonly id: string;
  readonly created_at?: string;
  readonly updated_at?: string;
}

/** The timestamps an import gives, as column assignments. */
function identityStamps(identity: Identity): { column: string; value: ValueExpression }[] {
  return (['created_at', 'updated_at'] as const)
    .filter((name) => identity[name] !== undefined)
    .map((name) => ({ column: name, value: sql.fragment`${identity[name]!}::timestamptz` }));
}

/** A record whose ref a delete cleared (on_delete: set_null), and the parent it named. */
export interface ClearedRef {
  readonly id: string;
  readonly parent: string;
}

export interface ListPage {
  readonly records: Record<string, unknown>[];
  readonly total?: Total;
  /** The last row's sort-key values and id, when there is a next page. */
  readonly next?: { values: (string | number | boolean | null)[]; id: string };
}
/** A list page with each record as its API JSON text. */
export interface JsonPage extends Omit<ListPage, 'records'> {
  readonly json: string[];
}

/** A record found by id: its API JSON text and row version, or (stored in an older version) the upgraded record. */
export type FoundJson = { readonly json: string; readonly version: string } | { readonly record: StoredRecord };
type Row = Record<string, unknown>;

/** How many matches of a full-text search are ranked at most. */
export const RANK_WINDOW = 1000;

/** The alias of the row version in single-record queries. */
const VERSION = '_row_version';
/** The alias of a record's API JSON text (record-json.ts). */
const JSON_TEXT = '_json';
/** The alias of "this row is stored in an older schema_version". */
const OUTDATED = '_outdated';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Ids in the seed's style, `ep_20251231_k3x9q2m7za`: prefix, UTC day, 10 random characters. */
export function generateId(prefix: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  let random = '';
  for (let i = 0; i < 10; i += 1) random += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return `${prefix}_${day}_${random}`;
}

/** The links of a refs field as JSON, in their order: ids, or { id, role } when links have roles. */
function linksSql(entity: EntityDef, field: FieldDef): FragmentSqlToken {
  const link = field.role
    ? sql.fragment`jsonb_build_object('id', l.target_id, 'role', l.role)`
    : sql.fragment`to_jsonb(l.target_id)`;
  return sql.fragment`(SELECT coalesce(jsonb_agg(${link} ORDER BY l.position), '[]'::jsonb) FROM ${sql.identifier([field.junction!])} AS l WHERE l.owner_id = ${sql.identifier([entity.table, 'id'])})`;
}

/** A sequence with a `max` already holds that many numbers in this scope (a script's 100 versions). */
export class SequenceFull extends Error {
  override readonly name = 'SequenceFull';
  readonly field: string;
  constructor(entity: EntityDef, field: FieldDef, scope: Row) {
    const within = field.sequence!.within.map((name) => `${name} ${String(scope[name])}`).join(', ');
    super(
      `${within} already has ${field.sequence!.max} ${entity.plural}, the most it can have (${field.name} 1–${field.sequence!.max})`,
    );
    this.field = field.name;
  }
}

/**
 * How many matches a list query has, when its page query's `read` rows (one more than the limit
 * at most) show it: a page with room to spare holds the last match, and every match before it is
 * counted by the offset. Not after a cursor (the total counts the matches before it too, which
 * the page does not show), nor past a ranked search's window (the page sees only the window).
 */
function totalShownBy(query: ListQuery, read: number): number | undefined {
  if (query.after || read > query.limit || (read === 0 && query.offset > 0)) return undefined;
  const total = query.offset + read;
  const ranked = query.sort.some((k) => k.target === 'rank');
  return ranked && total >= RANK_WINDOW ? undefined : total;
}

/**
 * A JSON value bound as `$n::jsonb`, written by JSON.stringify: what slonik's sql.jsonb binds, without
 * its safe-stable-stringify, which sorts every object's keys (jsonb does not keep them anyway) and
 * costs several times as much on a whole record.
 */
const jsonbValue = (value: unknown): ValueExpression => sql.fragment`${JSON.stringify(value)}::jsonb`;
/** An `expiry.erase` column, null once the record's `expiry.at` has passed. */
function lapsedValue(entity: EntityDef, expiry: ExpiryDef, name: string): FragmentSqlToken {
  const column = (n: string) => sql.identifier([entity.table, n]);
  return sql.fragment`CASE WHEN ${column(expiry.at)} <= now() THEN NULL ELSE ${column(name)} END`;
}

export class RecordStore {
  readonly entity: EntityDef;
  private readonly pool: DatabasePool;
  private readonly table: FragmentSqlToken;
  private readonly columns: ListSqlToken;
  private readonly softDelete: boolean;
  /** `, updated_at = now()` for entities with timestamps: appended to every UPDATE's SET. */
  private readonly touch: FragmentSqlToken;
  /** `AND deleted_at IS NULL` for soft-deleted entities: appended where only live rows count. */
  private readonly andLive: FragmentSqlToken;
  private readonly getAny: QuerySqlToken;
  private readonly getLive: QuerySqlToken;
  private readonly isLiveQuery: QuerySqlToken;
  /** The whole record's JSON expression (record-json.ts), composed once: a list page embeds it as is. */
  private readonly wholeJson: FragmentSqlToken;
  private readonly getJsonAny: QuerySqlToken;
  private readonly getJsonLive: QuerySqlToken;
  /** `, schema_version < <current> AS _outdated` when older rows may exist: they are upgraded in Node. */
  private readonly outdated: FragmentSqlToken;
  /** The value of each member of the record's API JSON, in order (record-json.ts). */
  private readonly members: ReadonlyMap<string, FragmentSqlToken>;
  /** The select list plus the row version (`xmin`), for single-record reads and writes. */
  private readonly versioned: FragmentSqlToken;
  /** Each record read through `versioned` → its row version (see versionOf). */
  private readonly versions = new WeakMap<object, string>();

  /** Every select-list item by name: columns, and the expressions of links and counts. */
  private readonly selectable: ReadonlyMap<string, FragmentSqlToken>;
  private readonly linkFields: readonly FieldDef[];

  /** `entities` (the whole model) lets count fields find the records that refer to this one. */
  constructor(pool: DatabasePool, entity: EntityDef, entities: readonly EntityDef[] = [entity]) {
    this.pool = pool;
    this.entity = entity;
    this.table = sql.fragment`${sql.identifier([entity.table])}`;
    this.linkFields = entity.fields.filter((f) => f.storage === 'links');
    const selectable = new Map<string, FragmentSqlToken>();
    // Links and counts: computed per row from other tables.
    const computed = new Map<string, FragmentSqlToken>();
    for (const name of ['id', 'schema_version']) selectable.set(name, sql.fragment`${sql.identifier([name])}`);
    // Lapsed personal data (`expiry:`) reads as null from the moment it lapses, in lists and
    // exports too, not only once the sweep or a single read has erased it.
    if (entity.expiry)
      for (const name of entity.expiry.erase) computed.set(name, lapsedValue(entity, entity.expiry, name));
    for (const field of entity.fields) {
      if (field.storage === 'column') selectable.set(field.name, sql.fragment`${sql.identifier([field.name])}`);
      if (field.storage === 'links') computed.set(field.name, linksSql(entity, field));
      const count = field.count && countRelation(field, entities);
      if (count) computed.set(field.name, sql.fragment`${computedColumn(count, entity.table)}::int4`);
      const roles = field.linkRoles && rolesRelation(field, entities);
      if (roles) computed.set(field.name, rolesColumn(roles, entity.table));
      const value = computed.get(field.name);
      if (value) selectable.set(field.name, sql.fragment`${value} AS ${sql.identifier([field.name])}`);
    }
    this.members = recordMembers(entity, computed);
    selectable.set('doc', sql.fragment`${sql.identifier(['doc'])}`);
    // A row stored in an older schema_version may hold values in columns the current model no
    // longer has (a renamed field's old column): it comes back whole, for the upgrade steps.
    if (entity.upgrades.length > 0) {
      selectable.set(
        LEGACY,
        // A literal, not a bound value: `get` reuses this select list with the id as its only value.
        sql.fragment`CASE WHEN schema_version < ${sql.literalValue(String(entity.schemaVersion))}::int4 THEN to_jsonb(${sql.identifier([entity.table])}.*) END AS ${sql.identifier([LEGACY])}`,
      );
    }
    this.selectable = selectable;
    this.columns = sql.join([...selectable.values()], sql.fragment`, `);
    this.softDelete = hasSoftDelete(entity);
    this.andLive = this.softDelete ? sql.fragment`AND ${sql.identifier(['deleted_at'])} IS NULL` : sql.fragment``;
    this.touch = hasTimestamps(entity) ? sql.fragment`, updated_at = now()` : sql.fragment``;
    this.versioned = sql.fragment`${this.columns}, ${sql.identifier([entity.table, 'xmin'])}::text AS ${sql.identifier([VERSION])}`;
    this.getAny = sql.unsafe`${PREPARED}SELECT ${this.versioned} FROM ${this.table} WHERE id = ${''}`;
    this.getLive = this.softDelete
      ? sql.unsafe`${this.getAny} AND ${sql.identifier(['deleted_at'])} IS NULL`
      : this.getAny;
    this.isLiveQuery = sql.unsafe`${PREPARED}SELECT true FROM ${this.table} WHERE id = ${''} ${this.andLive}`;
    this.outdated =
      entity.upgrades.length > 0
        ? sql.fragment`, schema_version < ${sql.literalValue(String(entity.schemaVersion))}::int4 AS ${sql.identifier([OUTDATED])}`
        : sql.fragment``;
    this.wholeJson = jsonObjectSql([...this.members].map(([name, value]) => ({ name, value })));
    this.getJsonAny = sql.unsafe`${PREPARED}SELECT ${this.wholeJson} AS ${sql.identifier([JSON_TEXT])}, ${sql.identifier([entity.table, 'xmin'])}::text AS ${sql.identifier([VERSION])}${this.outdated} FROM ${this.table} WHERE id = ${''}`;
    this.getJsonLive = this.softDelete
      ? sql.unsafe`${this.getJsonAny} AND ${sql.identifier(['deleted_at'])} IS NULL`
      : this.getJsonAny;
  }

  /**
   * The row version of a record this store read or wrote on its own (not through a list): the
   * transaction id that last wrote the row (PostgreSQL's `xmin`), which every UPDATE changes.
   * It is the record's ETag (src/records/preconditions.ts).
   */
  versionOf(record: StoredRecord): string | undefined {
    return this.versions.get(record);
  }

  /** Row → API record: id, every declared field (null when unset), schema_version. */
  private toRecord(row: Row): StoredRecord {
    const record = this.recordOf(row);
    if (typeof row[VERSION] === 'string') this.versions.set(record, row[VERSION]);
    return record;
  }

  private recordOf(row: Row): StoredRecord {
    if (row[LEGACY]) return upgradeRow(this.entity, row);
    const doc = (row.doc ?? {}) as Row;
    const record: Row = { id: row.id };
    for (const field of this.entity.fields) {
      record[field.name] = (field.storage === 'document' ? doc[field.name] : row[field.name]) ?? null;
    }
    record.schema_version = row.schema_version;
    return record as StoredRecord;
  }

  /** Column assignments for the writable fields; absent fields are written as NULL. */
  private assignments(values: Row): { column: string; value: ValueExpression }[] {
    const doc: Row = {};
    const out: { column: string; value: ValueExpression }[] = [];
    // Server-owned fields are written only when the server's own rules put them in `values`.
    const assigned = this.entity.fields.filter(
      (f) => (f.storage === 'column' || f.storage === 'document') && (!f.readOnly || f.name in values),
    );
    for (const field of assigned) {
      const value = values[field.name] ?? null;
      if (field.storage === 'document') {
        if (value !== null) doc[field.name] = value;
      } else if (value !== null && (field.type === 'object' || field.type === 'array')) {
        out.push({ column: field.name, value: jsonbValue(value) });
      } else {
        out.push({ column: field.name, value: value as ValueExpression });
      }
    }
    out.push({ column: 'doc', value: jsonbValue(doc) });
    return out;
  }

  /** The next number of a sequence field among live records with these scope values. */
  private nextNumberSql(field: FieldDef, scope: Row): FragmentSqlToken {
    const conditions = field.sequence!.within.map(
      (name) => sql.fragment`${sql.identifier([name])} = ${scope[name] as ValueExpression}`,
    );
    if (this.softDelete) conditions.push(sql.fragment`${sql.identifier(['deleted_at'])} IS NULL`);
    return sql.fragment`(SELECT coalesce(max(${sql.identifier([field.name])}), 0) + 1 FROM ${this.table} WHERE ${sql.join(conditions, sql.fragment` AND `)})`;
  }

  /** Sets a record's timestamps as an import gives them (records/import.ts); unchanged where not given. */
  async setTimestamps(id: string, identity: Identity, db: CommonQueryMethods): Promise<void> {
    if (!hasTimestamps(this.entity)) return;
    const sets = identityStamps(identity).map((a) => sql.fragment`${sql.identifier([a.column])} = ${a.value}`);
    if (sets.length === 0) return;
    await db.query(sql.unsafe`UPDATE ${this.table} SET ${sql.join(sets, sql.fragment`, `)} WHERE id = ${id}`);
  }

  /** Live records whose `expiry.at` has passed and that are not stamped yet, in id order, at most `limit`. */
  async dueForExpiry(expiry: ExpiryDef, limit: number, id?: string): Promise<string[]> {
    const only = id === undefined ? sql.fragment`` : sql.fragment`AND id = ${id}`;
    return (await this.pool.anyFirst(sql.unsafe`
      SELECT id FROM ${this.table}
      WHERE ${sql.identifier([expiry.at])} <= now() AND ${sql.identifier([expiry.stamp])} IS NULL ${this.andLive} ${only}
      ORDER BY id LIMIT ${limit}`)) as string[];
  }

  /**
   * The calendar of live records between two days (inclusive): one row per event whose date
   * field falls in the range, by day, then the events' declared order, then id. At most `limit`.
   */
  async scheduleEvents(
    schedule: ScheduleDef,
    from: string,
    to: string,
    limit: number,
  ): Promise<{ id: string; event: string; date: string; title: string; updated_at: string | null }[]> {
    const title = sql.identifier([schedule.title]);
    const updated = hasTimestamps(this.entity) ? sql.fragment`updated_at` : sql.fragment`NULL::timestamptz`;
    const parts = schedule.events.map((event, index) => {
      const column = sql.identifier([event.field]);
      return sql.fragment`
        SELECT id, ${event.name}::text AS event, ${index}::int AS position, ${column} AS day, ${title}::text AS title, ${updated} AS updated_at
        FROM ${this.table} WHERE ${column} BETWEEN ${from}::date AND ${to}::date ${this.andLive}`;
    });
    const rows = await this.pool.any(sql.unsafe`
      SELECT id, event, to_char(day, 'YYYY-MM-DD') AS date, title, updated_at
      FROM (${sql.join(parts, sql.fragment` UNION ALL `)}) AS events
      ORDER BY day, position, id LIMIT ${limit}`);
    return rows.map((row) => ({
      id: row.id as string,
      event: row.event as string,
      date: row.date as string,
      title: row.title as string,
      updated_at: row.updated_at === null ? null : new Date(row.updated_at as number).toISOString(),
    }));
  }

  /**
   * The values of a list field across live records, each with how many records hold it, most
   * used first (then alphabetically): autocomplete for tags. `prefix` keeps those starting with it.
   */
  async valueCounts(field: FieldDef, prefix: string, limit: number): Promise<{ value: string; count: number }[]> {
    const list =
      field.storage === 'document' ? sql.fragment`doc -> ${field.name}` : sql.fragment`${sql.identifier([field.name])}`;
    const rows = await this.pool.any(sql.unsafe`
      SELECT value, count(*)::int AS count
      FROM ${this.table} CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(${list}) = 'array' THEN ${list} ELSE '[]'::jsonb END) AS value
      WHERE starts_with(value, ${prefix}) ${this.andLive}
      GROUP BY value ORDER BY count DESC, value LIMIT ${limit}`);
    return rows.map((row) => ({ value: row.value as string, count: row.count as number }));
  }

  async nextNumber(field: FieldDef, scope: Row): Promise<number> {
    return (await this.pool.oneFirst(sql.unsafe`SELECT ${this.nextNumberSql(field, scope)}`)) as number;
  }

  /**
   * Inserts a record. A sequence field left empty, with its scope given, takes the next number;
   * a transaction-scoped advisory lock per scope makes concurrent creates take turns.
   */
  async create(values: Row, db: DatabaseConnection = this.pool, identity?: Identity): Promise<StoredRecord> {
    const numbered = this.entity.fields.filter(
      (f) =>
        f.sequence &&
        (values[f.name] ?? null) === null &&
        f.sequence.within.every((name) => (values[name] ?? null) !== null),
    );
    const insert = this.insertSql(values, numbered, this.versioned, identity);
    const links = this.linkFields.filter(
      (f) => Array.isArray(values[f.name]) && (values[f.name] as unknown[]).length > 0,
    );
    if (numbered.length === 0 && links.length === 0) return this.toRecord(await db.one(insert));
    return db.transaction(async (tx) => {
      for (const field of numbered) {
        await lockKeys(tx, `${this.entity.table}.${field.name}`, [
          JSON.stringify(field.sequence!.within.map((name) => values[name])),
        ]);
        const max = field.sequence!.max;
        if (max !== undefined && (await tx.oneFirst(sql.unsafe`SELECT ${this.nextNumberSql(field, values)}`)) > max)
          throw new SequenceFull(this.entity, field, values);
      }
      const record = this.toRecord(await tx.one(insert));
      if (links.length === 0) return record;
      for (const field of links) await this.writeLinks(field, record.id, values[field.name] as unknown[], tx);
      return (await this.get(record.id, { includeDeleted: true }, tx))!;
    });
  }

  /**
   * Inserts a row nothing reads back (an audit entry): one statement, and no row to parse. For
   * entities without sequence numbers or links, which need create's extra steps.
   */
  async append(values: Row, db: DatabaseConnection): Promise<void> {
    if (this.linkFields.length > 0 || this.entity.fields.some((f) => f.sequence))
      throw new Error(`${this.entity.name}: append() is for entities without links or sequences; use create()`);
    await db.query(this.insertSql(values, [], sql.fragment`id`));
  }

  private insertSql(
    values: Row,
    numbered: readonly FieldDef[],
    returning: FragmentSqlToken,
    identity?: Identity,
  ): QuerySqlToken {
    // An import keeps the record's id and timestamps (records/import.ts).
    const stamps = identity && hasTimestamps(this.entity) ? identityStamps(identity) : [];
    const assigned = [
      { column: 'id', value: (identity?.id ?? generateId(this.entity.idPrefix)) as ValueExpression },
      ...stamps,
      { column: 'schema_version', value: this.entity.schemaVersion as ValueExpression },
      ...this.assignments(values).map((a) => {
        const field = numbered.find((f) => f.name === a.column);
        return field ? { column: a.column, value: this.nextNumberSql(field, values) as ValueExpression } : a;
      }),
    ];
    return sql.unsafe`${PREPARED}
      INSERT INTO ${this.table} (${sql.join(
        assigned.map((a) => sql.identifier([a.column])),
        sql.fragment`, `,
      )})
      VALUES (${sql.join(
        assigned.map((a) => a.value),
        sql.fragment`, `,
      )})
      RETURNING ${returning}`;
  }

  /** Replaces the links of a refs field, in the order given. */
  private async writeLinks(
    field: FieldDef,
    id: string,
    links: readonly unknown[],
    db: CommonQueryMethods,
  ): Promise<void> {
    const junction = sql.identifier([field.junction!]);
    await db.query(sql.unsafe`DELETE FROM ${junction} WHERE owner_id = ${id}`);
    if (links.length === 0) return;
    const targets = links.map((link) => (typeof link === 'string' ? link : (link as { id: string }).id));
    const positions = links.map((_, index) => index);
    if (!field.role) {
      await db.query(sql.unsafe`
        INSERT INTO ${junction} (owner_id, target_id, position)
        SELECT ${id}, t.target_id, t.position FROM unnest(${sql.array(targets, 'text')}, ${sql.array(positions, 'int4')}) AS t(target_id, position)`);
      return;
    }
    const roles = links.map((link) => (link as { role?: string | null }).role ?? null);
    await db.query(sql.unsafe`
      INSERT INTO ${junction} (owner_id, target_id, role, position)
      SELECT ${id}, t.target_id, t.role, t.position
      FROM unnest(${sql.array(targets, 'text')}, ${sql.array(roles as string[], 'text')}, ${sql.array(positions, 'int4')}) AS t(target_id, role, position)`);
  }

  async get(
    id: string,
    options: { includeDeleted?: boolean } = {},
    connection: CommonQueryMethods = this.pool,
  ): Promise<StoredRecord | null> {
    // The hottest query: its text is composed once per store, only the id is bound per call.
    const template = this.softDelete && !options.includeDeleted ? this.getLive : this.getAny;
    const row = await connection.maybeOne({ ...template, values: [id] });
    return row ? this.toRecord(row) : null;
  }

  /** Whether a live (not soft-deleted) record has this id: what a sub-resource route asks of its parent. */
  async isLive(id: string): Promise<boolean> {
    return (await this.pool.maybeOne({ ...this.isLiveQuery, values: [id] })) !== null;
  }

  /**
   * The record as its API JSON text (record-json.ts) and its row version. A row stored in an
   * older schema_version is read again as a record: its upgrade steps run in Node.
   */
  async getJson(id: string, options: { includeDeleted?: boolean } = {}): Promise<FoundJson | null> {
    const template = this.softDelete && !options.includeDeleted ? this.getJsonLive : this.getJsonAny;
    const row = await this.pool.maybeOne({ ...template, values: [id] });
    if (!row) return null;
    if (row[OUTDATED] === true) {
      const record = await this.get(id, options);
      return record ? { record } : null;
    }
    return { json: row[JSON_TEXT] as string, version: row[VERSION] as string };
  }

  /**
   * The page query of a list request; exposed so tests can EXPLAIN exactly what runs. With
   * `json` (pageJson), each row is the record's API JSON text (record-json.ts) instead of its columns.
   */
  pageSql(query: ListQuery, compiled: CompiledFilter = compileFilter(query, this.softDelete), json?: FragmentSqlToken) {
    const { where, pageWhere, keysetWhere, sortKeys } = compiled;
    const columns = json
      ? sql.fragment`${json} AS ${sql.identifier([JSON_TEXT])}, id${this.outdated}`
      : query.fields
        ? sql.join(
            [
              'id',
              'schema_version',
              ...projectedColumns(query.fields),
              ...(this.selectable.has(LEGACY) ? [LEGACY] : []),
            ].map((n) => this.selectable.get(n)!),
            sql.fragment`, `,
          )
        : this.columns;
    const keyColumns = sortKeys.map((key, index) => sql.fragment`${key.sql} AS ${sql.identifier([`_key${index}`])}`);
    // Ranking reads every match's tsvector; for a broad search over millions of rows that is
    // seconds, so only the first RANK_WINDOW matches are ranked (see docs/query-language.md, `q`).
    const ranked = query.sort.some((k) => k.target === 'rank');
    const [source, filter] = ranked
      ? [sql.fragment`(SELECT * FROM ${this.table} ${where} LIMIT ${RANK_WINDOW}) AS ${this.table}`, keysetWhere]
      : [this.table, pageWhere];
    // One row more than asked for tells whether there is a next page.
    return sql.unsafe`
      SELECT ${columns}, ${sql.join(keyColumns, sql.fragment`, `)} FROM ${source} ${filter} ${orderBySql(sortKeys)}
      LIMIT ${query.limit + 1} OFFSET ${query.offset}`;
  }

  /** The bounded count of a list request's matches (see counting.ts), for EXPLAIN in tests. */
  countSql(query: ListQuery) {
    return boundedCountSql(this.table, compileFilter(query, this.softDelete).where);
  }

  /** A page's rows (at most `limit`), the total when asked for, and the next page's start. */
  private async page(query: ListQuery, json?: FragmentSqlToken) {
    const compiled = compileFilter(query, this.softDelete);
    const reading = this.pool.any(this.pageSql(query, compiled, json));
    const [rows, total] = await Promise.all([
      reading,
      countMatches(
        this.pool,
        this.table,
        compiled.where,
        query.count,
        reading.then(
          (read) => totalShownBy(query, read.length),
          () => undefined,
        ),
      ),
    ]);
    const page = rows.slice(0, query.limit);
    const last = rows.length > query.limit ? page[page.length - 1] : undefined;
    const next = last && {
      values: query.sort.map((_, index) => (last[`_key${index}`] ?? null) as string | number | boolean | null),
      id: last.id as string,
    };
    // An estimate is never smaller than what this request has already seen.
    const seen = query.offset + page.length + (last ? 1 : 0);
    const adjusted = total?.isEstimate ? { total: Math.max(total.total, seen), isEstimate: true } : total;
    return { rows: page, ...(adjusted ? { total: adjusted } : {}), ...(next ? { next } : {}) };
  }

  async list(query: ListQuery): Promise<ListPage> {
    const { rows, ...rest } = await this.page(query);
    const records = rows.map((row) => (query.fields ? project(this.toRecord(row), query.fields) : this.toRecord(row)));
    return { records, ...rest };
  }

  /**
   * A list page with each record as its API JSON text (record-json.ts); null when it has to be
   * built in Node (`list`): a `_fields` path inside a field, or a row in an older schema_version.
   */
  async listJson(query: ListQuery): Promise<JsonPage | null> {
    const json = this.pageJson(query);
    if (!json) return null;
    const { rows, ...rest } = await this.page(query, json);
    if (rows.some((row) => row[OUTDATED] === true)) return null;
    return { json: rows.map((row) => row[JSON_TEXT] as string), ...rest };
  }

  /** The JSON of a page's records: the whole record, or a `_fields` projection of whole fields. */
  private pageJson(query: ListQuery): FragmentSqlToken | null {
    if (!query.fields) return this.wholeJson;
    const names = ['id', ...query.fields.map((f) => f.path)];
    const members: JsonMember[] = [];
    for (const name of new Set(names)) {
      const value = this.members.get(name);
      if (!value) return null;
      members.push({ name, value });
    }
    return jsonObjectSql(members);
  }

  /**
   * Replaces the writable fields of a live record with what `next` computes from the current one,
   * under a row lock so concurrent PATCHes cannot lose each other's changes. In the caller's
   * transaction when given one (a failure then rolls all of it back), else in its own.
   */
  async update(
    id: string,
    next: (current: StoredRecord, tx: DatabaseConnection) => Row | Promise<Row>,
    db: DatabasePool | DatabaseTransactionConnection = this.pool,
  ): Promise<StoredRecord | null> {
    return withinTransaction(db, async (tx) => {
      const row = await tx.maybeOne(
        sql.unsafe`${PREPARED}SELECT ${this.versioned} FROM ${this.table} WHERE id = ${id} ${this.andLive} FOR UPDATE`,
      );
      if (!row) return null;
      const current = this.toRecord(row);
      const values = await next(current, tx);
      for (const field of this.linkFields) {
        const links = (values[field.name] ?? []) as unknown[];
        const unchanged = JSON.stringify(links) === JSON.stringify(current[field.name] ?? []);
        if ((field.name in values || !field.readOnly) && !unchanged) await this.writeLinks(field, id, links, tx);
      }
      const assigned = this.assignments(values);
      const sets = assigned.map((a) => sql.fragment`${sql.identifier([a.column])} = ${a.value}`);
      sets.push(sql.fragment`schema_version = ${this.entity.schemaVersion}`);
      if (hasTimestamps(this.entity)) sets.push(sql.fragment`updated_at = now()`);
      const updated = await tx.one(sql.unsafe`${PREPARED}
        UPDATE ${this.table} SET ${sql.join(sets, sql.fragment`, `)} WHERE id = ${id} RETURNING ${this.versioned}`);
      return this.toRecord(updated);
    });
  }

  /**
   * Rewrites up to `limit` rows stored in an older schema_version, after `afterId` in id order, in
   * the current shape (deleted rows too; updated_at is left alone: the record did not change).
   * Rows a request holds locked are skipped; that request's own write stores the current version.
   */
  async upgradeBatch(afterId: string, limit: number): Promise<{ upgraded: number; lastId: string | null }> {
    return this.pool.transaction(async (tx) => {
      const rows = await tx.any(sql.unsafe`
        SELECT ${this.columns} FROM ${this.table}
        WHERE schema_version < ${this.entity.schemaVersion} AND id > ${afterId}
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`);
      for (const row of rows) {
        const sets = this.assignments(this.toRecord(row)).map(
          (a) => sql.fragment`${sql.identifier([a.column])} = ${a.value}`,
        );
        sets.push(sql.fragment`schema_version = ${this.entity.schemaVersion}`);
        await tx.query(
          sql.unsafe`UPDATE ${this.table} SET ${sql.join(sets, sql.fragment`, `)} WHERE id = ${row.id as string}`,
        );
      }
      return { upgraded: rows.length, lastId: rows.length > 0 ? (rows[rows.length - 1]!.id as string) : null };
    });
  }

  /** How many rows are stored in an older schema_version than the current one. */
  async countOutdated(): Promise<number> {
    return (await this.pool.oneFirst(
      sql.unsafe`SELECT count(*)::int4 FROM ${this.table} WHERE schema_version < ${this.entity.schemaVersion}`,
    )) as number;
  }

  /**
   * Live records other than `exceptId` whose columns hold exactly these values: the first `limit`
   * ids in id order, and how many there are. Column names come from the registry, values are bound.
   */
  async liveMatches(
    values: Readonly<Record<string, ValueExpression>>,
    exceptId: string,
    limit: number,
    db: CommonQueryMethods = this.pool,
  ): Promise<{ ids: string[]; total: number }> {
    // A null compares as "is null", so that a lookup by several fields can leave some of them empty.
    const conditions = Object.entries(values).map(([column, value]) =>
      value === null
        ? sql.fragment`${sql.identifier([column])} IS NULL`
        : sql.fragment`${sql.identifier([column])} = ${value}`,
    );
    conditions.push(sql.fragment`id <> ${exceptId}`);
    if (this.softDelete) conditions.push(sql.fragment`${sql.identifier(['deleted_at'])} IS NULL`);
    const rows = await db.any(sql.unsafe`
      SELECT id, count(*) OVER ()::int AS total FROM ${this.table}
      WHERE ${sql.join(conditions, sql.fragment` AND `)} ORDER BY id LIMIT ${limit}`);
    return { ids: rows.map((r) => r.id as string), total: (rows[0]?.total as number | undefined) ?? 0 };
  }

  /** Marks the live records matching `condition` deleted; the rows as they are now. */
  private softDeleteWhere(
    condition: FragmentSqlToken,
    by: string | null,
    reason: ValueExpression,
    db: CommonQueryMethods,
  ) {
    return db.any(sql.unsafe`
      UPDATE ${this.table} SET deleted_at = now(), deleted_by = ${by}, deleted_reason = ${reason} ${this.touch}
      WHERE ${condition} AND deleted_at IS NULL RETURNING ${this.versioned}`);
  }

  async softDeleteRecord(
    id: string,
    by: string | null,
    reason: string | null,
    db: CommonQueryMethods = this.pool,
  ): Promise<StoredRecord | null> {
    const [row] = await this.softDeleteWhere(sql.fragment`id = ${id}`, by, reason, db);
    return row ? this.toRecord(row) : null;
  }

  /** Ids of the live records matching a resolved condition, in id order, at most `limit`. */
  async matchingIds(condition: Condition, limit: number, db: CommonQueryMethods = this.pool): Promise<string[]> {
    const rows = await db.any(
      sql.unsafe`SELECT id FROM ${this.table} WHERE ${conditionSql(condition)} ${this.andLive} ORDER BY id LIMIT ${limit}`,
    );
    return rows.map((r) => r.id as string);
  }

  /** Ids of the live records that point at `id` through `field`, in id order. */
  async referringIds(field: FieldDef, id: string, db: CommonQueryMethods = this.pool): Promise<string[]> {
    const rows = await db.any(
      sql.unsafe`SELECT id FROM ${this.table} WHERE ${this.referring(field, [id])} ${this.andLive} ORDER BY id`,
    );
    return rows.map((r) => r.id as string);
  }

  /** Ids of every record (deleted ones too) that points at one of `parents` through `field`. */
  async anyReferringIds(
    field: FieldDef,
    parents: readonly string[],
    db: CommonQueryMethods = this.pool,
  ): Promise<string[]> {
    const rows = await db.any(
      sql.unsafe`SELECT id FROM ${this.table} WHERE ${this.referring(field, parents)} ORDER BY id`,
    );
    return rows.map((r) => r.id as string);
  }

  /** The records that point at one of `parents` through `field`: a ref column, or refs links. */
  private referring(field: FieldDef, parents: readonly string[]): FragmentSqlToken {
    return field.type === 'refs'
      ? sql.fragment`id IN (SELECT owner_id FROM ${sql.identifier([field.junction!])} WHERE ${this.referringTo('target_id', parents)})`
      : this.referringTo(field.name, parents);
  }

  /** `field = ANY(parents)`: the records whose ref `field` names one of `parents`. */
  private referringTo(field: string, parents: readonly string[]): FragmentSqlToken {
    return sql.fragment`${sql.identifier([field])} = ANY(${sql.array([...parents], 'text')})`;
  }

  /**
   * The first of `parents` that live records still point at through `field`, and how many do;
   * null when none does.
   */
  async firstLiveReferring(
    field: FieldDef,
    parents: readonly string[],
    db: CommonQueryMethods = this.pool,
  ): Promise<{ parent: string; count: number } | null> {
    const live = this.softDelete ? sql.fragment`AND t.${sql.identifier(['deleted_at'])} IS NULL` : sql.fragment``;
    const any = sql.fragment`ANY(${sql.array([...parents], 'text')})`;
    const row =
      field.type === 'refs'
        ? await db.maybeOne(sql.unsafe`
            SELECT l.target_id AS parent, count(DISTINCT l.owner_id)::int AS count
            FROM ${sql.identifier([field.junction!])} AS l JOIN ${this.table} AS t ON t.id = l.owner_id
            WHERE l.target_id = ${any} ${live} GROUP BY 1 ORDER BY 1 LIMIT 1`)
        : await db.maybeOne(sql.unsafe`
            SELECT t.${sql.identifier([field.name])} AS parent, count(*)::int AS count FROM ${this.table} AS t
            WHERE t.${sql.identifier([field.name])} = ${any} ${live} GROUP BY 1 ORDER BY 1 LIMIT 1`);
    return row ? { parent: row.parent as string, count: row.count as number } : null;
  }

  /**
   * Soft-deletes the live records whose ref `field` names one of `parents`, each with the reason
   * `reasonPrefix` followed by its parent's id (so a restore of that parent can find it again).
   */
  async softDeleteReferring(
    field: string,
    parents: readonly string[],
    by: string | null,
    reasonPrefix: string,
    db: CommonQueryMethods = this.pool,
  ): Promise<{ id: string; parent: string }[]> {
    const reason = sql.fragment`${reasonPrefix} || ${sql.identifier([field])}`;
    const rows = await this.softDeleteWhere(this.referringTo(field, parents), by, reason, db);
    return rows.map((row) => ({ id: row.id as string, parent: row[field] as string }));
  }

  /**
   * Clears ref `field` where it names one of `parents`, or removes the refs links to them (live
   * records or not), except on `keep`; how many records.
   */
  async clearReferring(
    field: FieldDef,
    parents: readonly string[],
    keep: readonly string[],
    db: CommonQueryMethods = this.pool,
  ): Promise<{ count: number; cleared: readonly ClearedRef[] }> {
    const kept = sql.fragment`ANY(${sql.array([...keep], 'text')})`;
    if (field.type === 'refs') {
      const count = (await db.oneFirst(sql.unsafe`
        WITH unlinked AS (
          DELETE FROM ${sql.identifier([field.junction!])}
          WHERE target_id = ANY(${sql.array([...parents], 'text')}) AND NOT (owner_id = ${kept}) RETURNING owner_id)
        SELECT count(DISTINCT owner_id)::int FROM unlinked`)) as number;
      return { count, cleared: [] };
    }
    // Each cleared record with the parent it had, so a restore of the parent can re-attach it.
    const column = sql.identifier([field.name]);
    const rows = await db.any(sql.unsafe`
      WITH old AS (
        SELECT id, ${column} AS parent FROM ${this.table}
        WHERE ${this.referringTo(field.name, parents)} AND NOT (id = ${kept}) FOR UPDATE)
      UPDATE ${this.table} AS t SET ${column} = NULL ${this.touch}
      FROM old WHERE t.id = old.id
      RETURNING t.id, old.parent`);
    const cleared = rows.map((row) => ({ id: row.id as string, parent: row.parent as string }));
    return { count: cleared.length, cleared };
  }

  /**
   * Sets `field` back to `parent` on those of `ids` that are live and still hold no value there
   * (a record reassigned since keeps its new parent). The ids re-attached.
   */
  async reattach(field: FieldDef, parent: string, ids: readonly string[], db: CommonQueryMethods): Promise<string[]> {
    const column = sql.identifier([field.name]);
    const rows = await db.any(sql.unsafe`
      UPDATE ${this.table} SET ${column} = ${parent} ${this.touch}
      WHERE id = ANY(${sql.array([...ids], 'text')}) AND ${column} IS NULL ${this.andLive}
      RETURNING id`);
    return rows.map((row) => row.id as string);
  }

  /** The SET of a restore: the deletion fields cleared, who restored it and when. */
  private restoreSet(by: string | null): FragmentSqlToken {
    return sql.fragment`deleted_at = NULL, deleted_by = NULL, deleted_reason = NULL, restored_at = now(), restored_by = ${by} ${this.touch}`;
  }

  /** Undoes a soft delete; null when there is no soft-deleted record with this id. */
  async restore(id: string, by: string | null, db: CommonQueryMethods = this.pool): Promise<StoredRecord | null> {
    const row = await db.maybeOne(sql.unsafe`
      UPDATE ${this.table} SET ${this.restoreSet(by)}
      WHERE id = ${id} AND deleted_at IS NOT NULL RETURNING ${this.versioned}`);
    return row ? this.toRecord(row) : null;
  }

  /**
   * Restores the records soft-deleted together with one of `parents`: those whose ref `field`
   * names it and whose deleted_reason is `reasonPrefix` followed by that id. Their ids.
   */
  async restoreReferring(
    field: string,
    parents: readonly string[],
    by: string | null,
    reasonPrefix: string,
    db: CommonQueryMethods = this.pool,
  ): Promise<string[]> {
    const rows = await db.any(sql.unsafe`
      UPDATE ${this.table} SET ${this.restoreSet(by)}
      WHERE ${this.referringTo(field, parents)} AND deleted_at IS NOT NULL
        AND deleted_reason = ${reasonPrefix} || ${sql.identifier([field])}
      RETURNING id`);
    return rows.map((row) => row.id as string);
  }

  /**
   * The record (live only, unless `includeDeleted`) locked FOR UPDATE until `db`'s transaction
   * ends, so a precondition checked on it holds for the write that follows.
   */
  async lock(id: string, options: { includeDeleted?: boolean }, db: DatabaseConnection): Promise<StoredRecord | null> {
    const live = options.includeDeleted ? sql.fragment`` : this.andLive;
    const row = await db.maybeOne(
      sql.unsafe`${PREPARED}SELECT ${this.versioned} FROM ${this.table} WHERE id = ${id} ${live} FOR UPDATE`,
    );
    return row ? this.toRecord(row) : null;
  }

  async hardDelete(id: string, db: CommonQueryMethods = this.pool): Promise<boolean> {
    const result = await db.query(sql.unsafe`${PREPARED}DELETE FROM ${this.table} WHERE id = ${id}`);
    return result.rowCount > 0;
  }

  get supportsSoftDelete(): boolean {
    return this.softDelete;
  }
}
