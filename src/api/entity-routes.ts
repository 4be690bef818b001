// The generic REST surface of one entity in one API version, as route table entries: list,
// search, export, create, batch, read, replace, patch, delete and restore, then its audit routes,
// the lists and next numbers under its parents (related-routes.ts), its views (view-routes.ts) and
// parts (part-routes.ts). The same handlers serve every entity in the registry.
import type { Context } from 'hono';
import {
  childRelations,
  findField,
  sequenceRelations,
  withArticle,
  hasSoftDelete,
  type ApiVersionDef,
  type EntityDef,
  type Model,
  type Operation,
} from '../registry/model.ts';
import { pathBackward } from '../evolution/steps.ts';
import { parseListQuery } from '../query/list-query.ts';
import { MAX_BATCH_OPERATIONS, readOperations, runBatch } from '../records/batch.ts';
import { readJsonBody } from './body.ts';
import { warningsMetadata } from '../records/duplicates.ts';
import { parseExportQuery, streamExport } from './export.ts';
import { sendErrors } from './envelope.ts';
import { isPlainObject } from '../records/record-input.ts';
import { booleanParam, queryParams } from './params.ts';
import { ApiShape } from './api-shape.ts';
import { partRoutes } from './part-routes.ts';
import { entityKit, type EntityKit } from './entity-kit.ts';
import { childListRoute, nextNumberRoute, versionSearchRoute } from './related-routes.ts';
import { viewRoutes } from './view-routes.ts';
import { valueCountRoutes } from './value-routes.ts';
import { scheduleRoutes } from './schedule-routes.ts';
import { importRoute } from './import-routes.ts';
import { childRecordRoutes, writableUnder } from './child-routes.ts';
import { recordAuditRoutes, writeMeta } from './audit-routes.ts';
import { conversionRoutes } from './conversion-routes.ts';
import { authorize, authorizeQuery } from './authorization.ts';
import { actorOf } from './authentication.ts';
import { collectionPath, recordPath } from './paths.ts';
import type { Parameter, Route } from './route.ts';
import { envelope, errorResponse, idParam, json, recordSchemaName, ref } from './openapi/components.ts';
import { FIELDS_PARAMETER, listParameters, PAGING_PARAMETERS } from './openapi/list-parameters.ts';

/** Every route of the entity in this API version, in the order hono must try them. */
export function entityRoutes(model: Model, entity: EntityDef, apiVersion: ApiVersionDef): Route[] {
  const version = apiVersion.name;
  const base = collectionPath(version, entity);
  const item = recordPath(version, entity);
  const shape = new ApiShape(entity, apiVersion);
  const kit = entityKit(entity, shape);
  // An older version's errors name fields as it does.
  const middleware = shape.isCurrent ? [] : [shape.namesErrors];
  const name = recordSchemaName(entity, apiVersion);
  const nameOf = (field: string) =>
    pathBackward([field], entity.upgrades, entity.schemaVersion, shape.schemaVersion).join('.');
  /** The request's query string; parsed once, then taken to the current model on its AST (shape.queryIn). */
  const search = (c: Context) => new URL(c.req.url).search.slice(1);
  const body = async (c: Context) => shape.bodyIn(await readJsonBody(c));
  const one = withArticle(entity.name);
  const tags = [entity.plural];
  const softDelete = hasSoftDelete(entity);
  const read: Route['permission'] = [[entity, 'read']];
  const update: Route['permission'] = [[entity, 'update']];
  /** `_fields` of a single GET: resolved as a list's are, with the same read checks on what they reach. */
  const fieldsOf = (c: Context, given: string | null) => {
    if (given === null) return undefined;
    const query = parseListQuery(
      entity,
      new URLSearchParams({ _fields: given }).toString(),
      model.entities,
      shape.queryIn,
    );
    authorizeQuery(c, entity, query, model.entities);
    return query.fields;
  };
  const list = (k: EntityKit) => (c: Context) =>
    k.sendPage(c, parseListQuery(entity, search(c), k.services.model.entities, shape.queryIn));

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
      // Each operation is checked against its own permission. No namesErrors: runBatch names each
      // item's record fields (shape.problemOut) before it adds the item's `operations[i]` prefix.
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
            problemOut: shape.problemOut,
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
          const { format, query } = parseExportQuery(entity, search(c), services.model.entities, shape.queryIn);
          authorizeQuery(c, entity, query, services.model.entities);
          return streamExport(c, entity, store, format, query, shape, hiddenFor(c));
        };
      },
    },
    // /{plural}/tags and the like: literal segments, before /{plural}/{id}.
    ...valueCountRoutes(entity, version),
    importRoute(entity, version),
    ...scheduleRoutes(entity, version),
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
        FIELDS_PARAMETER,
      ],
      responses: { 200: tagged, 400: badQuery, 404: missing },
      permission: read,
      middleware,
      handler: (services) => {
        const { store, idOf, sendRecord } = kit(services);
        const deletedParam = store.supportsSoftDelete ? ['include_deleted'] : [];
        return async (c) => {
          const id = idOf(c);
          const params = queryParams(c, [...deletedParam, '_fields']);
          const includeDeleted = booleanParam(params, 'include_deleted');
          if (includeDeleted) authorize(c, entity, 'include_deleted');
          const fields = fieldsOf(c, params.get('_fields'));
          // Lapsed personal data is erased before it is served (expiry:, seed 8.9).
          if (entity.expiry && services.expiry) await services.expiry.beforeRead(entity.name, id);
          return sendRecord(c, id, { includeDeleted, ...(fields ? { fields } : {}) });
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
    ...conversionRoutes(model, entity, version, kit, middleware),
    ...childRelations(model, entity).flatMap((relation) => [
      childListRoute(model, entity, apiVersion, relation),
      ...(writableUnder(entity, relation) ? childRecordRoutes(entity, apiVersion, relation) : []),
    ]),
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
        'Clears the deletion fields and records restored_at and restored_by (the caller). The records the delete cascaded to (their deleted_reason is "deleted with" this record) are restored with it, at any depth, in one transaction; metadata.restored counts them by plural. The records it detached (on_delete: set_null) get their ref back where they are live and still have none; metadata.reattached counts them.',
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
          const { record, restored, reattached } = await actions.restore(
            id,
            actorOf(c, restoredByMax),
            undefined,
            writeMeta(c),
          );
          return send(c, outFor(c)(tag(c, record)), {
            extra: {
              ...(Object.keys(restored).length > 0 ? { restored } : {}),
              ...(Object.keys(reattached).length > 0 ? { reattached } : {}),
            },
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
