// Parts of a record served under it (`parts:` in the registry): /episodes/{id}/script is the
// episode's script, a record of its own with versions. The part is found by its ref to the parent
// and its `where` values, and created with its first version.
import type { Context, Hono } from 'hono';
import type { DatabaseConnection } from 'slonik';
import type { RecordStore, StoredRecord } from '../db/records.ts';
import { parseListQuery } from '../query/list-query.ts';
import { resolveTarget } from '../query/targets.ts';
import { scopedTo } from '../query/ast.ts';
import type { EntityDef, PartDef } from '../registry/model.ts';
import type { EntityActions } from './entity-actions.ts';
import { ApiError } from './errors.ts';
import { readJsonBody } from './body.ts';
import { queryParams } from './params.ts';
import { writeMeta } from './audit-routes.ts';
import { pageMetadata } from './envelope.ts';
import { warningsMetadata } from './duplicates.ts';
import { versionNumber, type VersionedRecords } from './versions.ts';
import { allowEach, authorizeQuery } from './authorization.ts';

export interface PartContext {
  readonly base: string;
  readonly parent: EntityDef;
  readonly part: PartDef;
  readonly parentActions: EntityActions;
  readonly partStore: RecordStore;
  readonly versioned: VersionedRecords;
  readonly versionStore: RecordStore;
  readonly entities: readonly EntityDef[];
  readonly notAllowed: (allowed: string) => (c: Context) => Response | Promise<Response>;
  readonly send: (
    c: Context,
    data: unknown,
    options?: { status?: 200 | 201; extra?: Record<string, unknown>; entity?: EntityDef },
  ) => Response | Promise<Response>;
}

export function mountPart(app: Hono, ctx: PartContext): void {
  const { part, parent, versioned } = ctx;
  const path = `${ctx.base}/:id/${part.name}`;
  const label = part.name.replace(/-/g, ' ');

  /** The part of a live parent, or null when it has none yet. */
  const find = async (c: Context): Promise<{ parentId: string; record: StoredRecord | null }> => {
    const { id: parentId } = await ctx.parentActions.requireLive(c.req.param('id') ?? '');
    const { ids } = await ctx.partStore.liveMatches({ [part.via]: parentId, ...part.where }, '', 1);
    return { parentId, record: ids[0] === undefined ? null : await ctx.partStore.get(ids[0]) };
  };
  const require = async (c: Context): Promise<StoredRecord> => {
    const { parentId, record } = await find(c);
    if (!record)
      throw ApiError.single(
        404,
        'NOT_FOUND',
        `${parent.name} ${parentId} has no ${label} yet; add a version with POST ${c.req.path.replace(/\/(versions|active|diff).*$/, '')}/versions`,
      );
    return record;
  };
  /** The part, created (with the `where` values) in the version's transaction when a first version arrives. */
  const findOrCreate = async (c: Context): Promise<(tx: DatabaseConnection) => Promise<StoredRecord>> => {
    const { parentId, record } = await find(c);
    return async (tx) =>
      record ??
      (await versioned.ownerActions.create({ [part.via]: parentId, ...part.where }, tx, writeMeta(c, false))).record;
  };
  const version = { entity: versioned.version };
  // Reading a part reads the parent, its part record and the versions; adding a version creates one
  // (and may create the part); choosing the active version changes the part.
  const read = allowEach([parent, 'read'], [versioned.owner, 'read'], [versioned.version, 'read']);
  const add = allowEach(
    [parent, 'read'],
    [versioned.owner, 'create'],
    [versioned.owner, 'update'],
    [versioned.version, 'create'],
  );

  app.get(path, read, async (c) => {
    queryParams(c, []);
    return ctx.send(c, await versioned.active(await require(c)), version);
  });
  // Replacing "the script" adds a version and makes it the active one.
  app.put(path, add, async (c) => {
    const { record, warnings } = await versioned.add(
      await findOrCreate(c),
      await readJsonBody(c),
      true,
      writeMeta(c, false),
    );
    return ctx.send(c, record, { ...version, extra: warningsMetadata(warnings) });
  });
  app.post(`${path}/versions`, add, async (c) => {
    const { record, warnings } = await versioned.add(
      await findOrCreate(c),
      await readJsonBody(c),
      false,
      writeMeta(c, false),
    );
    c.header('Location', `${c.req.path}/${record[versioned.def.number] as number}`);
    return ctx.send(c, record, { ...version, status: 201, extra: warningsMetadata(warnings) });
  });
  const via = resolveTarget(versioned.version, versioned.def.via, { entities: ctx.entities });
  if ('error' in via) throw new Error(via.error);
  app.get(`${path}/versions`, read, async (c) => {
    const search = new URL(c.req.url).search.slice(1);
    // Oldest first unless the client sorts.
    const query = parseListQuery(
      versioned.version,
      new URLSearchParams(search).has('_sort') ? search : `_sort=${versioned.def.number}&${search}`,
      ctx.entities,
    );
    // Refused before the part is looked up, so a refusal says nothing about which ids exist.
    authorizeQuery(c, versioned.version, scopedTo(query, via.target, ''), ctx.entities);
    const owner = await require(c);
    const page = await ctx.versionStore.list(scopedTo(query, via.target, owner.id));
    return ctx.send(c, page.records, {
      ...version,
      extra: { ...pageMetadata(query, page), [versioned.def.active]: owner[versioned.def.active] },
    });
  });
  app.get(`${path}/versions/:n`, read, async (c) =>
    ctx.send(c, await versioned.get(await require(c), versionNumber(c.req.param('n'), 'n')), version),
  );
  app.put(`${path}/active`, allowEach([parent, 'read'], [versioned.owner, 'update']), async (c) =>
    ctx.send(c, await versioned.activate(await require(c), await readJsonBody(c), writeMeta(c)), version),
  );
  app.get(`${path}/diff`, read, async (c) => {
    const params = queryParams(c, ['from', 'to']);
    return ctx.send(c, await versioned.diff(await require(c), params.get('from'), params.get('to')), version);
  });
  for (const [route, allowed] of [
    [path, 'GET, PUT'],
    [`${path}/versions`, 'GET, POST'],
    [`${path}/versions/:n`, 'GET'],
    [`${path}/active`, 'PUT'],
    [`${path}/diff`, 'GET'],
  ] as const) {
    app.all(route, ctx.notAllowed(allowed));
  }
}
