// The generic REST surface of one entity in one API version, as route table entries: list,
// search, export, create, batch, read, replace, patch, delete, restore, its views, the lists
// under a parent it belongs to and next-number routes, with the audit and part routes of its
// records. The same handlers serve every entity in the registry.
import type { Context } from 'hono';
import {
  childRelations,
  findEntity,
  findField,
  resolvePath,
  sequenceRelations,
  withArticle,
  hasSoftDelete,
  type ApiVersionDef,
  type EntityDef,
  type Model,
  type Operation,
  type ViewDef,
} from '../registry/model.ts';
import { fieldSchema, idPrefixes, schemaTitle, type JsonSchema } from '../codegen/json-schema.ts';
import { pathBackward } from '../evolution/steps.ts';
import { scopedTo, type ListQuery } from '../query/ast.ts';
import { resolveTarget } from '../query/targets.ts';
import { coerceValue } from '../query/operators.ts';
import { parseListQuery } from '../query/parse.ts';
import { countFieldReaches } from '../query/reach.ts';
import type { RecordStore } from '../db/records.ts';
import { MAX_BATCH_OPERATIONS, readOperations, runBatch } from './batch.ts';
import { readJsonBody } from './body.ts';
import { warningsMetadata } from './duplicates.ts';
import type { EntityActions } from './entity-actions.ts';
import { parseExportQuery, streamExport } from './export.ts';
import { ApiError, notFound } from './errors.ts';
import { pageMetadata, sendData, sendErrors, type SendOptions } from './envelope.ts';
import { isPlainObject } from './record-input.ts';
import { booleanParam, queryParams } from './params.ts';
import { ApiShape } from './api-shape.ts';
import { partRoutes } from './part-routes.ts';
import type { VersionedRecords } from './versions.ts';
import { recordAuditRoutes, writeMeta } from './audit-routes.ts';
import { etagOf } from './preconditions.ts';
import { authorize, authorizeQuery, unreadableCounts, withoutFields } from './authorization.ts';
import { actorOf } from './authentication.ts';
import { ownValue } from '../registry/own.ts';
import { childPath, collectionPath, recordPath, sequencePath } from './paths.ts';
import type { Parameter, Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, idParam, json, recordSchemaName, ref } from './openapi/components.ts';
import { filterSchema, listParameters, PAGING_PARAMETERS } from './openapi/list-parameters.ts';

const valueAt = (record: Record<string, unknown>, path: readonly string[]): unknown =>
  path.reduce<unknown>(
    (value, key) =>
      typeof value === 'object' && value !== null ? ownValue(value as Record<string, unknown>, key) : undefined,
    record,
  ) ?? null;

/** A view of a record: one field's value, or an object of several. */
function viewValue(view: ViewDef, record: Record<string, unknown>): unknown {
  if (view.field) return valueAt(record, view.field);
  return Object.fromEntries(Object.entries(view.fields!).map(([key, path]) => [key, valueAt(record, path)]));
}

/** A view's PUT body → the values to write at each path (a key left out is cleared). */
function viewParts(view: ViewDef, body: unknown): { path: readonly string[]; value: unknown }[] {
  if (view.field) return [{ path: view.field, value: body }];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ApiError.single(
      400,
      'INVALID_BODY',
      `the request body must be a JSON object with: ${Object.keys(view.fields!).join(', ')}`,
    );
  }
  const unknown = Object.keys(body).filter((key) => !Object.hasOwn(view.fields!, key));
  if (unknown.length > 0)
    throw ApiError.single(
      422,
      'VALIDATION_ERROR',
      `${unknown[0]} is not part of ${view.name}; it has: ${Object.keys(view.fields!).join(', ')}`,
      unknown[0]!,
    );
  return Object.entries(view.fields!).map(([key, path]) => ({
    path,
    value: ownValue(body as Record<string, unknown>, key) ?? null,
  }));
}

/** What an entity's handlers share within one app: its store and actions, and answers in the version's shape. */
interface EntityKit {
  readonly services: RouteServices;
  readonly store: RecordStore;
  readonly actions: EntityActions;
  /** The envelope, with metadata naming the shape this version answers in. */
  readonly send: (c: Context, data: unknown, options?: Omit<SendOptions, 'entity' | 'schemaVersion'>) => Response;
  /** The caller's view of records in this version's shape; what they may not see is worked out once a request. */
  readonly outFor: (c: Context) => <T>(record: T) => T;
  /** Count fields computed from records the caller may not read: left out of what they see. */
  readonly hiddenFor: (c: Context) => string[];
  /** The `:id` parameter; an id this entity could never have is simply not found. */
  readonly idOf: (c: Context) => string;
  /** Sets the record's ETag header (its row version), when known. */
  readonly tag: <T extends { id: string }>(c: Context, record: T) => T;
  /** A page of a list query, after the caller's read checks. */
  readonly sendPage: (c: Context, query: ListQuery) => Promise<Response>;
}

function entityKit(entity: EntityDef, shape: ApiShape): (services: RouteServices) => EntityKit {
  const made = new WeakMap<RouteServices, EntityKit>();
  return (services) => {
    let kit = made.get(services);
    if (kit) return kit;
    const { model } = services;
    const store = services.stores.get(entity.name)!;
    const actions = services.actionsOf.get(entity.name)!;
    const send = (c: Context, data: unknown, options: Omit<SendOptions, 'entity' | 'schemaVersion'> = {}) =>
      sendData(c, model, data, { ...options, entity, schemaVersion: shape.schemaVersion });
    const counts = countFieldReaches(entity, model.entities);
    const hiddenFor = (c: Context) => unreadableCounts(c, counts, model.entities);
    const outFor = (c: Context) => {
      const hidden = hiddenFor(c);
      return <T>(record: T): T => withoutFields(shape.recordOut(record), hidden);
    };
    kit = {
      services,
      store,
      actions,
      send,
      outFor,
      hiddenFor,
      idOf: (c) => actions.checkId(c.req.param('id') ?? ''),
      tag: (c, record) => {
        const version = store.versionOf(record);
        if (version) c.header('ETag', etagOf(version));
        return record;
      },
      sendPage: async (c, query) => {
        authorizeQuery(c, entity, query, model.entities);
        const page = await store.list(query);
        return send(c, page.records.map(outFor(c)), { extra: pageMetadata(query, page) });
      },
    };
    made.set(services, kit);
    return kit;
  };
}

/** Every route of the entity in this API version, in the order hono must try them. */
export function entityRoutes(model: Model, entity: EntityDef, apiVersion: ApiVersionDef): Route[] {
  const version = apiVersion.name;
  const base = collectionPath(version, entity);
  const item = recordPath(version, entity);
  const shape = new ApiShape(entity, apiVersion);
  const kit = entityKit(entity, shape);
  // An older version's errors name fields as it does.
  const middleware = shape.isCurrent ? [] : [shape.errorPaths];
  const name = recordSchemaName(entity, apiVersion);
  const nameOf = (field: string) =>
    pathBackward([field], entity.upgrades, entity.schemaVersion, shape.schemaVersion).join('.');
  const search = (c: Context) => shape.searchIn(new URL(c.req.url).search.slice(1));
  const body = async (c: Context) => shape.bodyIn(await readJsonBody(c));
  const one = withArticle(entity.name);
  const tags = [entity.plural];
  const softDelete = hasSoftDelete(entity);
  const read: Route['permission'] = [[entity, 'read']];
  const update: Route['permission'] = [[entity, 'update']];
  const list = (k: EntityKit) => (c: Context) =>
    k.sendPage(c, parseListQuery(entity, search(c), k.services.model.entities));

  const item200 = { description: 'The record', content: json(envelope(ref(name))) };
  const writeBody = { required: true, content: json(ref(name)) };
  const common = {
    400: errorResponse('Malformed JSON, or a bad query parameter'),
    413: errorResponse('Body over 1 MiB'),
    415: errorResponse('Body is not JSON'),
    422: errorResponse('Validation failed: one error per problem, with dotted field paths'),
  };
  const ifMatch: Parameter = {
    name: 'If-Match',
    in: 'header',
    description:
      'Write only if the record still has this ETag (as GET answered it); `*` matches any existing record. Otherwise 412 PRECONDITION_FAILED.',
    schema: { type: 'string' },
  };
  const etagHeader = { ETag: { description: "The record's version, for If-Match", schema: { type: 'string' } } };
  const tagged = { ...item200, headers: etagHeader };
  const stale = { 412: errorResponse('If-Match does not match the current ETag: read the record again') };
  const badQuery = errorResponse('Unknown field, operator or bad value');
  const missing = errorResponse('No such record');

  const routes: Route[] = [
    {
      method: 'get',
      path: base,
      operationId: `${version}_list_${entity.plural}`,
      summary: `List ${entity.plural}`,
      tags,
      parameters: listParameters(entity, nameOf),
      responses: {
        200: {
          description: 'A page of records; metadata.total counts all matches',
          content: json(envelope(ref(name), true)),
        },
        400: badQuery,
      },
      permission: read,
      middleware,
      // Lists and `/search` are one handler: the query language is the same (seed 7.4.1, Appendix D).
      handler: (services) => list(kit(services)),
    },
    {
      method: 'post',
      path: base,
      operationId: `${version}_create_${entity.name}`,
      summary: `Create ${one}`,
      description: 'Server-owned fields (id, timestamps, schema_version, soft-delete fields) are ignored if sent.',
      tags,
      requestBody: writeBody,
      responses: {
        201: { description: 'Created', content: json(envelope(ref(name))) },
        ...common,
        409: errorResponse('Conflict'),
      },
      permission: [[entity, 'create']],
      middleware,
      handler: (services) => {
        const { actions, tag, send, outFor } = kit(services);
        return async (c) => {
          queryParams(c, []);
          const { record, warnings } = await actions.create(await body(c), undefined, writeMeta(c, false));
          c.header('Location', `${base}/${record.id}`);
          tag(c, record);
          return send(c, outFor(c)(record), { status: 201, extra: warningsMetadata(warnings) });
        };
      },
    },
    {
      method: 'post',
      path: `${base}/batch`,
      operationId: `${version}_batch_${entity.plural}`,
      summary: `Create, update, replace and delete up to ${MAX_BATCH_OPERATIONS} ${entity.plural} in one request`,
      description:
        'Body: `{"operations": [{"op": "create", "data": {...}}, {"op": "update", "id": "...", "data": {...}}, {"op": "replace", "id": "...", "data": {...}}, {"op": "delete", "id": "...", "hard": false, "reason": "..."}]}`. ' +
        '`update` is a JSON merge patch. Each operation gets its own status and errors; with `atomic=true` the first failure rolls back all of them and the answer is that failure.',
      tags,
      parameters: [
        { name: 'atomic', in: 'query', description: 'All or nothing.', schema: { type: 'boolean', default: false } },
      ],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['operations'],
          properties: {
            operations: { type: 'array', minItems: 1, maxItems: MAX_BATCH_OPERATIONS, items: { type: 'object' } },
          },
        }),
      },
      responses: {
        200: {
          description:
            'One result per operation: index, op, status, id, data or errors, and warnings (possible duplicates) when there are some',
          content: json(envelope({ type: 'object' }, true)),
        },
        400: errorResponse('Not a batch, or more than the maximum of operations'),
        409: errorResponse('atomic=true: an operation conflicted and nothing was applied'),
        422: errorResponse('atomic=true: an operation did not validate and nothing was applied'),
      },
      // Each operation is checked against its own permission.
      middleware,
      handler: (services) => {
        const { actions, send, outFor } = kit(services);
        return async (c) => {
          const atomic = booleanParam(queryParams(c, ['atomic']), 'atomic');
          const operations = readOperations(await readJsonBody(c)).map((op) =>
            isPlainObject(op) && op.op !== 'delete' && op.data !== undefined
              ? { ...op, data: shape.bodyIn(op.data) }
              : op,
          );
          const permit = (operation: Operation) => authorize(c, entity, operation);
          const outcome = await runBatch(operations, {
            atomic,
            actions,
            permit,
            actor: actorOf(c),
            meta: writeMeta(c, false),
            pool: services.pool,
            classify: services.classify,
          });
          if (!outcome.applied) return sendErrors(c, services.model, outcome.failure.status, outcome.failure.problems);
          const failed = outcome.results.filter((r) => r.status >= 400).length;
          const out = outFor(c);
          const results = outcome.results.map((r) =>
            r.data !== undefined && r.op !== 'delete' ? { ...r, data: out(r.data) } : r,
          );
          return send(c, results, { extra: { atomic, succeeded: outcome.results.length - failed, failed } });
        };
      },
    },
    {
      method: 'get',
      path: `${base}/export`,
      operationId: `${version}_export_${entity.plural}`,
      summary: `Export every matching ${entity.name}, streamed`,
      description:
        'The list query language without paging (_limit, _offset, _cursor, _count); rows in id order unless _sort is given. CSV cells hold objects and lists as JSON.',
      tags,
      parameters: [
        { name: 'format', in: 'query', schema: { enum: ['ndjson', 'csv'], default: 'ndjson' } },
        ...listParameters(entity, nameOf).filter((p) => !PAGING_PARAMETERS.includes(p.name)),
      ],
      responses: {
        200: {
          description: 'One record per line (NDJSON), or a CSV with a header row',
          content: {
            'application/x-ndjson': { schema: { type: 'string' } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        400: errorResponse('Unknown field, operator, bad value or format'),
      },
      permission: read,
      middleware,
      handler: (services) => {
        const { store, hiddenFor } = kit(services);
        return (c) => {
          const { format, query } = parseExportQuery(entity, search(c), services.model.entities);
          authorizeQuery(c, entity, query, services.model.entities);
          return streamExport(c, entity, store, format, query, shape, hiddenFor(c));
        };
      },
    },
    // Searching an entity with versions searches their text instead of the list language.
    entity.versions
      ? versionSearchRoute(model, entity, version, middleware)
      : {
          method: 'get',
          path: `${base}/search`,
          operationId: `${version}_search_${entity.plural}`,
          summary: `Search ${entity.plural} (the list query language)`,
          tags,
          parameters: listParameters(entity, nameOf),
          responses: {
            200: { description: 'A page of matching records', content: json(envelope(ref(name), true)) },
            400: badQuery,
          },
          permission: read,
          middleware,
          handler: (services) => list(kit(services)),
        },
    {
      method: 'get',
      path: item,
      operationId: `${version}_get_${entity.name}`,
      summary: `Get ${one}`,
      tags,
      parameters: [
        idParam,
        ...(softDelete
          ? [{ name: 'include_deleted', in: 'query', schema: { type: 'boolean', default: false } } as const]
          : []),
      ],
      responses: { 200: tagged, 404: missing },
      permission: read,
      middleware,
      handler: (services) => {
        const { store, idOf, send, outFor, tag } = kit(services);
        const deletedParam = store.supportsSoftDelete ? ['include_deleted'] : [];
        return async (c) => {
          const id = idOf(c);
          const includeDeleted = booleanParam(queryParams(c, deletedParam), 'include_deleted');
          if (includeDeleted) authorize(c, entity, 'include_deleted');
          const record = await store.get(id, { includeDeleted });
          if (!record) throw notFound(entity.name, id);
          return send(c, outFor(c)(tag(c, record)));
        };
      },
    },
    {
      method: 'put',
      path: item,
      operationId: `${version}_replace_${entity.name}`,
      summary: `Replace ${one}`,
      description: 'Full replace: fields left out are cleared (or reset to their default).',
      tags,
      parameters: [idParam, ifMatch],
      requestBody: writeBody,
      responses: {
        200: tagged,
        404: missing,
        ...common,
        409: errorResponse('Conflict, or a transition the field does not allow'),
        ...stale,
      },
      permission: update,
      middleware,
      handler: (services) => updateHandler(kit(services), 'replace', body),
    },
    {
      method: 'patch',
      path: item,
      operationId: `${version}_patch_${entity.name}`,
      summary: `Patch ${one} (JSON merge patch, RFC 7396)`,
      description: 'Objects merge deeply; null removes a field; arrays are replaced whole.',
      tags,
      parameters: [idParam, ifMatch],
      requestBody: {
        required: true,
        content: {
          'application/merge-patch+json': { schema: { type: 'object' } },
          'application/json': { schema: { type: 'object' } },
        },
      },
      responses: { 200: tagged, 404: missing, ...common, 409: errorResponse('Conflict'), ...stale },
      permission: update,
      middleware,
      handler: (services) => updateHandler(kit(services), 'patch', body),
    },
    {
      method: 'delete',
      path: item,
      operationId: `${version}_delete_${entity.name}`,
      summary: softDelete ? `Delete ${one} (soft by default)` : `Delete ${one}`,
      tags,
      parameters: softDelete
        ? [
            idParam,
            {
              name: 'hard',
              in: 'query',
              description: 'Remove the row instead of marking it deleted.',
              schema: { type: 'boolean', default: false },
            },
            { name: 'reason', in: 'query', description: 'Stored as deleted_reason.', schema: { type: 'string' } },
            ifMatch,
          ]
        : [idParam, ifMatch],
      responses: {
        200: { description: 'Deleted', content: json(envelope(ref('DeleteResult'))) },
        404: missing,
        409: errorResponse('Still referenced by other records'),
        ...stale,
      },
      permission: [[entity, 'delete']],
      middleware,
      handler: (services) => {
        const { store, actions, idOf, send } = kit(services);
        return async (c) => {
          const id = idOf(c);
          const params = queryParams(c, store.supportsSoftDelete ? ['hard', 'reason'] : []);
          const hard = booleanParam(params, 'hard');
          if (hard) authorize(c, entity, 'hard_delete');
          const result = await actions.remove(
            id,
            { hard, reason: params.get('reason'), actor: actorOf(c) },
            undefined,
            writeMeta(c),
          );
          return send(c, result);
        };
      },
    },
    ...recordAuditRoutes(entity, apiVersion, shape, middleware),
    ...childRelations(model, entity).map((relation) => childListRoute(model, entity, apiVersion, relation)),
    ...sequenceRelations(model, entity).map((relation) => nextNumberRoute(entity, version, relation)),
    ...entity.views.flatMap((view) => viewRoutes(model, entity, version, view, kit, middleware)),
    ...entity.parts.flatMap((part) => partRoutes(model, entity, part, version, middleware)),
  ];
  if (softDelete) {
    routes.push({
      method: 'post',
      path: `${item}/restore`,
      operationId: `${version}_restore_${entity.name}`,
      summary: `Restore a soft-deleted ${entity.name}`,
      description:
        'Clears the deletion fields and records restored_at and restored_by (the caller). The records the delete cascaded to (their deleted_reason is "deleted with" this record) are restored with it, at any depth, in one transaction; metadata.restored counts them by plural.',
      tags,
      parameters: [idParam, ifMatch],
      responses: {
        200: item200,
        404: missing,
        409: errorResponse(
          'The record is not deleted, or a live record now holds its unique values (or those of a record it would bring back)',
        ),
        ...stale,
      },
      permission: [[entity, 'restore']],
      middleware,
      handler: (services) => {
        const { actions, idOf, send, outFor, tag } = kit(services);
        const restoredByMax = findField(entity, 'restored_by')?.maxLength;
        return async (c) => {
          const id = idOf(c);
          queryParams(c, []);
          const { record, restored } = await actions.restore(id, actorOf(c, restoredByMax), undefined, writeMeta(c));
          return send(c, outFor(c)(tag(c, record)), {
            extra: Object.keys(restored).length > 0 ? { restored } : {},
          });
        };
      },
    });
  }
  return routes;
}

/** PUT and PATCH of a record. */
function updateHandler(kit: EntityKit, mode: 'replace' | 'patch', body: (c: Context) => Promise<unknown>) {
  const { actions, idOf, send, outFor, tag } = kit;
  return async (c: Context) => {
    const id = idOf(c);
    queryParams(c, []);
    const { record, warnings } = await actions.update(id, await body(c), mode, undefined, writeMeta(c));
    return send(c, outFor(c)(tag(c, record)), { extra: warningsMetadata(warnings) });
  };
}

/**
 * Sub-resources: GET /shows/{id}/episodes is the episode list, with the same query language, of
 * the episodes whose show_id is that show.
 */
function childListRoute(
  model: Model,
  entity: EntityDef,
  apiVersion: ApiVersionDef,
  relation: ReturnType<typeof childRelations>[number],
): Route {
  const version = apiVersion.name;
  const shape = new ApiShape(entity, apiVersion);
  const kit = entityKit(entity, shape);
  const target = resolveTarget(entity, relation.via, { entities: model.entities });
  if ('error' in target) throw new Error(target.error);
  const nameOf = (field: string) =>
    pathBackward([field], entity.upgrades, entity.schemaVersion, shape.schemaVersion).join('.');
  return {
    method: 'get',
    path: childPath(version, entity, relation),
    operationId: `${version}_list_${entity.plural}_of_${relation.parent.name}`,
    summary: `List the ${entity.plural} of ${withArticle(relation.parent.name)} (${relation.via})`,
    description: 'The list query language, limited to the records that refer to this one.',
    tags: [entity.plural],
    parameters: [idParam, ...listParameters(entity, nameOf)],
    responses: {
      200: {
        description: 'A page of records',
        content: json(envelope(ref(recordSchemaName(entity, apiVersion)), true)),
      },
      400: errorResponse('Unknown field, operator or bad value'),
      404: errorResponse(`No such ${relation.parent.name}`),
    },
    permission: [
      [relation.parent, 'read'],
      [entity, 'read'],
    ],
    middleware: shape.isCurrent ? [] : [shape.errorPaths],
    handler: (services) => {
      const { sendPage } = kit(services);
      const parent = services.actionsOf.get(relation.parent.name)!;
      return async (c) => {
        const query = parseListQuery(entity, shape.searchIn(new URL(c.req.url).search.slice(1)), model.entities);
        // Refused before the parent is looked up, so a refusal says nothing about which ids exist.
        authorizeQuery(c, entity, scopedTo(query, target.target, ''), model.entities);
        const { id } = await parent.requireLive(c.req.param('id') ?? '');
        return sendPage(c, scopedTo(query, target.target, id));
      };
    },
  };
}

/**
 * A sequence scoped by a ref (episode_number within show_id and season) suggests its next number
 * under the parent: GET /shows/{id}/next-episode-number?season=2.
 */
function nextNumberRoute(
  entity: EntityDef,
  version: string,
  relation: ReturnType<typeof sequenceRelations>[number],
): Route {
  const { field, parent, scope } = relation;
  return {
    method: 'get',
    path: sequencePath(version, relation),
    operationId: `${version}_next_${field.name}_of_${parent.name}`,
    summary: `The next ${field.name} of ${withArticle(parent.name)}`,
    description: `${field.name} counts within ${field.sequence!.within.join(', ')} among live ${entity.plural}; the answer is one more than the highest.`,
    tags: [entity.plural],
    parameters: [
      idParam,
      ...scope.map((def) => ({ name: def.name, in: 'query' as const, required: true, schema: filterSchema(def) })),
    ],
    responses: {
      200: { description: 'The scope and the suggested number', content: json(envelope({ type: 'object' })) },
      400: errorResponse('A scope parameter is missing or not valid'),
      404: errorResponse(`No such ${parent.name}`),
    },
    permission: [
      [parent, 'read'],
      [entity, 'read'],
    ],
    handler: (services) => {
      const parentActions = services.actionsOf.get(parent.name)!;
      const store = services.stores.get(entity.name)!;
      const schemaVersion = services.shapeOf(version, entity.name).schemaVersion;
      return async (c) => {
        const { id } = await parentActions.requireLive(c.req.param('id') ?? '');
        const params = queryParams(
          c,
          scope.map((f) => f.name),
        );
        const values: Record<string, unknown> = { [relation.parentField]: id };
        for (const def of scope) {
          const raw = params.get(def.name);
          if (raw === null)
            throw ApiError.single(
              400,
              'INVALID_QUERY',
              `${def.name} is required: ${field.name} counts within ${field.sequence!.within.join(', ')}`,
              def.name,
            );
          const value = coerceValue(def.type, raw, def);
          if (typeof value === 'object')
            throw ApiError.single(400, 'INVALID_QUERY', `${def.name}: ${value.error}`, def.name);
          values[def.name] = value;
        }
        return sendData(
          c,
          services.model,
          { ...values, [`next_${field.name}`]: await store.nextNumber(field, values) },
          { entity, schemaVersion },
        );
      };
    },
  };
}

/** Views: part of a record as its own resource (GET/PUT /episodes/{id}/script, /wardrobe, …). */
function viewRoutes(
  model: Model,
  entity: EntityDef,
  version: string,
  view: ViewDef,
  kit: (services: RouteServices) => EntityKit,
  middleware: Route['middleware'],
): Route[] {
  const path = `${recordPath(version, entity)}/${view.name}`;
  const schema = viewSchema(entity, view, model);
  const answer = { description: `The ${view.name} of the ${entity.name}`, content: json(envelope(schema)) };
  const tags = [entity.plural];
  return [
    {
      method: 'get',
      path,
      operationId: `${version}_get_${entity.name}_${view.name}`,
      summary: view.description ?? `The ${view.name} of ${withArticle(entity.name)}`,
      tags,
      parameters: [idParam],
      responses: { 200: answer, 404: errorResponse('No such record') },
      permission: [[entity, 'read']],
      middleware,
      handler: (services) => {
        const { actions, idOf, send } = kit(services);
        return async (c) => {
          queryParams(c, []);
          return send(c, viewValue(view, await actions.requireLive(idOf(c))));
        };
      },
    },
    {
      method: 'put',
      path,
      operationId: `${version}_put_${entity.name}_${view.name}`,
      summary: `Replace the ${view.name} of ${withArticle(entity.name)}`,
      description:
        'Validated and stored like a PUT of the whole record; metadata.warnings says what server rules reused or found twice.',
      tags,
      parameters: [idParam],
      requestBody: { required: true, content: json(schema) },
      responses: {
        200: answer,
        400: errorResponse('Not a JSON object'),
        404: errorResponse('No such record'),
        409: errorResponse('Conflict'),
        422: errorResponse('Validation failed'),
      },
      permission: [[entity, 'update']],
      middleware,
      handler: (services) => {
        const { actions, idOf, send, tag } = kit(services);
        return async (c) => {
          const id = idOf(c);
          queryParams(c, []);
          const { record, warnings } = await actions.replaceParts(
            id,
            viewParts(view, await readJsonBody(c)),
            undefined,
            writeMeta(c),
          );
          tag(c, record);
          return send(c, viewValue(view, record), { extra: warningsMetadata(warnings) });
        };
      },
    },
  ];
}

/** A view's value: one field's schema, or an object of several. */
function viewSchema(entity: EntityDef, view: ViewDef, model: Model): JsonSchema {
  const prefixes = idPrefixes(model);
  const of = (path: readonly string[]) => fieldSchema(resolvePath(entity, path)!, prefixes, true);
  if (view.field) return of(view.field);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(view.fields!).map(([key, path]) => [key, of(path)])),
  };
}

/** GET /{plural}/search?q=… of an entity with versions: full-text search over the versions' text, with highlighted snippets. */
function versionSearchRoute(model: Model, entity: EntityDef, version: string, middleware: Route['middleware']): Route {
  const versions = entity.versions!;
  const versionEntity = findEntity(model, versions.entity)!;
  const hit = {
    type: 'object',
    properties: {
      [entity.name]: ref(schemaTitle(entity)),
      version: { type: 'integer' },
      active: { type: 'boolean' },
      snippet: { type: 'string', description: 'Matching passages, the matched words in <mark>…</mark>' },
    },
  };
  return {
    method: 'get',
    path: `${collectionPath(version, entity)}/search`,
    operationId: `${version}_search_${entity.plural}`,
    summary: `Full-text search over the ${versions.text} of ${versionEntity.plural}, best match first`,
    tags: [entity.plural],
    parameters: [
      {
        name: 'q',
        in: 'query',
        required: true,
        description: 'Websearch syntax: words, "quoted phrases", or, -excluded',
        schema: { type: 'string' },
      },
      { name: '_limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
    ],
    responses: {
      200: { description: 'Matches', content: json(envelope(hit, true)) },
      400: errorResponse('q is missing'),
    },
    permission: [
      [entity, 'read'],
      [versionEntity, 'read'],
    ],
    middleware,
    handler: (services) => {
      const records: VersionedRecords = services.versioned.get(entity.name)!;
      return async (c) => {
        const params = queryParams(c, ['q', '_limit']);
        const q = params.get('q')?.trim();
        if (!q)
          throw ApiError.single(
            400,
            'INVALID_QUERY',
            `q is required: the words to find in ${records.version.plural}' ${records.def.text}`,
            'q',
          );
        const limit = params.has('_limit') ? Number(params.get('_limit')) : 20;
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          throw ApiError.single(400, 'INVALID_QUERY', '_limit must be an integer from 1 to 100', '_limit');
        const hits = await records.search(q, limit);
        return sendData(
          c,
          services.model,
          hits.map((hit) => ({
            [records.owner.name]: hit.owner,
            version: hit.version,
            active: hit.active,
            snippet: hit.snippet,
          })),
          { entity: records.owner, extra: { limit } },
        );
      };
    },
  };
}
