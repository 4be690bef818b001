// Parts of a record served under it (`parts:` in the registry): /episodes/{id}/script is the
// episode's script, a record of its own with versions. The part is found by its ref to the parent
// and its `where` values, and created with its first version. Route table entries, each documented.
import type { Context } from 'hono';
import type { DatabaseConnection } from 'slonik';
import type { StoredRecord } from '../db/records.ts';
import { parseListQuery } from '../query/list-query.ts';
import { DefaultSort } from '../query/transform.ts';
import { resolveTarget } from '../query/targets.ts';
import { scopedTo } from '../query/ast.ts';
import { findEntity, type EntityDef, type Model, type PartDef } from '../registry/model.ts';
import { schemaTitle } from '../registry/json-schema.ts';
import { ApiError } from '../records/errors.ts';
import { readJsonBody } from './body.ts';
import { queryParams } from './params.ts';
import { writeMeta } from './audit-routes.ts';
import { pageMetadata, sendData, type SendOptions } from './envelope.ts';
import { warningsMetadata } from '../records/duplicates.ts';
import { versionNumber } from '../records/versions.ts';
import { authorizeQuery } from './authorization.ts';
import { recordPath } from './paths.ts';
import type { Parameter, Permission, Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, idParam, json, ref } from './openapi/components.ts';
import { listParameters } from './openapi/list-parameters.ts';

/**
 * The routes of a part with versions (`parts:` + `versions:`): /episodes/{id}/script and its
 * versions, one version, the active one and a diff. A part without versions has none.
 */
export function partRoutes(
  model: Model,
  parent: EntityDef,
  part: PartDef,
  version: string,
  middleware: Route['middleware'],
): Route[] {
  const owner = findEntity(model, part.entity)!;
  if (!owner.versions) return [];
  const versionEntity = findEntity(model, owner.versions.entity)!;
  const path = `${recordPath(version, parent)}/${part.name}`;
  const label = part.name.replace(/-/g, ' ');
  const tags = [parent.plural];
  const op = (what: string) => `${version}_${what}_${parent.name}_${part.name.replace(/-/g, '_')}`;
  const one = {
    description: `A version of the ${part.name}`,
    content: json(envelope(ref(schemaTitle(versionEntity)))),
  };
  const missing = errorResponse(`No such ${parent.name}, no ${part.name} yet, or no such version`);
  const body = { required: true, content: json(ref(schemaTitle(versionEntity))) };
  const full = errorResponse(`The ${part.name} already has the most versions it can have`);
  const { number, active, text } = owner.versions;
  const send =
    (services: RouteServices) =>
    (c: Context, data: unknown, options: Omit<SendOptions, 'entity'> = {}) =>
      sendData(c, services.model, data, { ...options, entity: versionEntity });

  /** The part of a live parent, or null when it has none yet. */
  const finder = (services: RouteServices) => {
    const parentActions = services.actionsOf.get(parent.name)!;
    const partStore = services.stores.get(part.entity)!;
    return async (c: Context): Promise<{ parentId: string; record: StoredRecord | null }> => {
      const parentId = await parentActions.requireLiveId(c.req.param('id') ?? '');
      const { ids } = await partStore.liveMatches({ [part.via]: parentId, ...part.where }, '', 1);
      return { parentId, record: ids[0] === undefined ? null : await partStore.get(ids[0]) };
    };
  };
  const requirer = (services: RouteServices) => {
    const find = finder(services);
    return async (c: Context): Promise<StoredRecord> => {
      const { parentId, record } = await find(c);
      if (!record)
        throw ApiError.single(
          404,
          'NOT_FOUND',
          `${parent.name} ${parentId} has no ${label} yet; add a version with POST ${c.req.path.replace(/\/(versions|active|diff).*$/, '')}/versions`,
        );
      return record;
    };
  };
  /** The part, created (with the `where` values) in the version's transaction when a first version arrives. */
  const adder = (services: RouteServices, makeActive: boolean, status: 200 | 201) => {
    const find = finder(services);
    const versioned = services.versioned.get(part.entity)!;
    const answer = send(services);
    return async (c: Context) => {
      const { parentId, record: existing } = await find(c);
      const partOf = async (tx: DatabaseConnection) =>
        existing ??
        (await versioned.ownerActions.create({ [part.via]: parentId, ...part.where }, tx, writeMeta(c, false))).record;
      const { record, warnings } = await versioned.add(partOf, await readJsonBody(c), makeActive, writeMeta(c, false));
      if (status === 201) c.header('Location', `${c.req.path}/${record[versioned.def.number] as number}`);
      return answer(c, record, { status, extra: warningsMetadata(warnings) });
    };
  };
  // Reading a part reads the parent, its part record and the versions; adding a version creates one
  // (and may create the part); choosing the active version changes the part.
  const read: Permission[] = [
    [parent, 'read'],
    [owner, 'read'],
    [versionEntity, 'read'],
  ];
  const add: Permission[] = [
    [parent, 'read'],
    [owner, 'create'],
    [owner, 'update'],
    [versionEntity, 'create'],
  ];
  const via = resolveTarget(versionEntity, owner.versions.via, { entities: model.entities });
  if ('error' in via) throw new Error(via.error);
  const versionNumberParam: Parameter = {
    name: 'n',
    in: 'path',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  };

  return [
    {
      method: 'get',
      path,
      operationId: op('get'),
      summary: `The active version of the ${part.name}`,
      tags,
      parameters: [idParam],
      responses: { 200: one, 404: missing },
      permission: read,
      middleware,
      handler: (services) => {
        const require = requirer(services);
        const versioned = services.versioned.get(part.entity)!;
        const answer = send(services);
        return async (c) => {
          queryParams(c, []);
          return answer(c, await versioned.active(await require(c)));
        };
      },
    },
    {
      method: 'put',
      path,
      operationId: op('put'),
      summary: `Add a version of the ${part.name} and make it the active one`,
      description: `The ${part.name} record is created with its first version. ${number} is the server's.`,
      tags,
      parameters: [idParam],
      requestBody: body,
      responses: { 200: one, 404: missing, 409: full, 422: errorResponse('Validation failed') },
      permission: add,
      middleware,
      // Replacing "the script" adds a version and makes it the active one.
      handler: (services) => adder(services, true, 200),
    },
    {
      method: 'get',
      path: `${path}/versions`,
      operationId: op('list_versions'),
      summary: `The versions of the ${part.name}, oldest first unless _sort is given; metadata.${active} names the active one`,
      tags,
      parameters: [idParam, ...listParameters(versionEntity)],
      responses: {
        200: { description: 'Versions', content: json(envelope(ref(schemaTitle(versionEntity)), true)) },
        404: missing,
      },
      permission: read,
      middleware,
      handler: (services) => {
        const require = requirer(services);
        const versionStore = services.stores.get(versionEntity.name)!;
        const answer = send(services);
        const entities = services.model.entities;
        // Oldest first unless the client sorts.
        const oldestFirst = new DefaultSort([{ path: number, direction: 'asc' }]);
        return async (c) => {
          const query = parseListQuery(versionEntity, new URL(c.req.url).search.slice(1), entities, oldestFirst);
          // Refused before the part is looked up, so a refusal says nothing about which ids exist.
          authorizeQuery(c, versionEntity, scopedTo(query, via.target, ''), entities);
          const record = await require(c);
          const page = await versionStore.list(scopedTo(query, via.target, record.id));
          return answer(c, page.records, {
            extra: { ...pageMetadata(query, page), [active]: record[active] },
          });
        };
      },
    },
    {
      method: 'post',
      path: `${path}/versions`,
      operationId: op('add_version'),
      summary: `Add a version of the ${part.name} (the first one becomes active; later ones by PUT …/active)`,
      tags,
      parameters: [idParam],
      requestBody: body,
      responses: { 201: one, 404: missing, 409: full, 422: errorResponse('Validation failed') },
      permission: add,
      middleware,
      handler: (services) => adder(services, false, 201),
    },
    {
      method: 'get',
      path: `${path}/versions/:n`,
      operationId: op('get_version'),
      summary: `Version n of the ${part.name}`,
      tags,
      parameters: [idParam, versionNumberParam],
      responses: { 200: one, 400: errorResponse('n is not a version number'), 404: missing },
      permission: read,
      middleware,
      handler: (services) => {
        const require = requirer(services);
        const versioned = services.versioned.get(part.entity)!;
        const answer = send(services);
        return async (c) => answer(c, await versioned.get(await require(c), versionNumber(c.req.param('n'), 'n')));
      },
    },
    {
      method: 'put',
      path: `${path}/active`,
      operationId: op('activate'),
      summary: `Choose the active version of the ${part.name}: {"version": n}`,
      tags,
      parameters: [idParam],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['version'],
          properties: { version: { type: 'integer', minimum: 1 } },
        }),
      },
      responses: { 200: one, 400: errorResponse('version is not a version number'), 404: missing },
      permission: [
        [parent, 'read'],
        [owner, 'update'],
      ],
      middleware,
      handler: (services) => {
        const require = requirer(services);
        const versioned = services.versioned.get(part.entity)!;
        const answer = send(services);
        return async (c) => answer(c, await versioned.activate(await require(c), await readJsonBody(c), writeMeta(c)));
      },
    },
    {
      method: 'get',
      path: `${path}/diff`,
      operationId: op('diff'),
      summary: `A line diff of the ${text} of two versions: unified text and structured hunks`,
      tags,
      parameters: [
        idParam,
        ...['from', 'to'].map((name) => ({
          name,
          in: 'query' as const,
          required: true,
          schema: { type: 'integer', minimum: 1 },
        })),
      ],
      responses: {
        200: {
          description: 'The diff',
          content: json(
            envelope({
              type: 'object',
              properties: {
                from: { type: 'integer' },
                to: { type: 'integer' },
                unified: { type: 'string' },
                hunks: { type: 'array', items: { type: 'object' } },
              },
            }),
          ),
        },
        400: errorResponse('from or to is not a version number'),
        404: missing,
      },
      permission: read,
      middleware,
      handler: (services) => {
        const require = requirer(services);
        const versioned = services.versioned.get(part.entity)!;
        const answer = send(services);
        return async (c) => {
          const params = queryParams(c, ['from', 'to']);
          return answer(c, await versioned.diff(await require(c), params.get('from'), params.get('to')));
        };
      },
    },
  ];
}
