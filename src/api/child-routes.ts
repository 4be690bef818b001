// A child collection under its parent (seed 7.4.1): POST /episodes/{id}/clips creates a clip of
// that episode, GET|PUT|PATCH|DELETE /episodes/{id}/clips/{clip_id} work on one that belongs to
// it. Made for every ref field that makes its target a parent (registry/model.ts childRelations);
// the list under the parent is related-routes.ts's. The parent comes from the path: a body naming
// another parent is refused, and a child of another parent is not found here.
import type { Context } from 'hono';
import {
  findField,
  hasSoftDelete,
  withArticle,
  type ApiVersionDef,
  type ChildRelation,
  type EntityDef,
} from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import { warningsMetadata } from '../records/duplicates.ts';
import { notFound } from '../records/errors.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import { isPlainObject } from '../records/record-input.ts';
import { ApiShape } from './api-shape.ts';
import { writeMeta } from './audit-routes.ts';
import { actorOf } from './authentication.ts';
import { authorize } from './authorization.ts';
import { readJsonBody } from './body.ts';
import { entityKit, type EntityKit } from './entity-kit.ts';
import { booleanParam, queryParams } from './params.ts';
import { childPath } from './paths.ts';
import type { Parameter, Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, idParam, json, recordSchemaName, ref } from './openapi/components.ts';

/** The relations whose child names its parent in one ref column: those a child can be written under. */
export const writableUnder = (entity: EntityDef, relation: ChildRelation): boolean =>
  findField(entity, relation.via)?.type === 'ref';

/** The child routes' `:{entity}_id` parameter: `clip_id`. */
const childParamName = (entity: EntityDef) => `${entity.name}_id`;

/** POST under the parent, and the record routes of one child under it. */
export function childRecordRoutes(entity: EntityDef, apiVersion: ApiVersionDef, relation: ChildRelation): Route[] {
  const version = apiVersion.name;
  const shape = new ApiShape(entity, apiVersion);
  const kit = entityKit(entity, shape);
  const { parent, via } = relation;
  const collection = childPath(version, entity, relation);
  const childParam = childParamName(entity);
  const item = `${collection}/:${childParam}`;
  const name = recordSchemaName(entity, apiVersion);
  const middleware = shape.isCurrent ? [] : [shape.namesErrors];
  const tags = [entity.plural];
  const one = withArticle(entity.name);
  const ofParent = `of ${withArticle(parent.name)}`;
  const childIdParam: Parameter = { name: childParam, in: 'path', required: true, schema: { type: 'string' } };
  const ifMatch: Parameter = {
    name: 'If-Match',
    in: 'header',
    description: 'Write only if the record still has this ETag, else 412.',
    schema: { type: 'string' },
  };
  const record200 = { description: 'The record', content: json(envelope(ref(name))) };
  const writeBody = { required: true, content: json(ref(name)) };
  const missing = errorResponse(`No such ${parent.name}, or no such ${entity.name} of it`);
  const invalid = {
    400: errorResponse('Malformed JSON'),
    413: errorResponse('Body over 1 MiB'),
    415: errorResponse('Body is not JSON'),
    422: errorResponse(`Validation failed, or the body names another ${parent.name} in ${via}`),
  };
  const parentRead: Route['permission'] = [[parent, 'read']];

  /** The body in the current shape; with `fill`, the parent from the path where the body leaves it out. */
  const bodyUnder = async (c: Context, parentId: string, fill: boolean): Promise<unknown> => {
    const body = shape.bodyIn(await readJsonBody(c));
    return fill && isPlainObject(body) && ownValue(body, via) === undefined ? { ...body, [via]: parentId } : body;
  };

  /** The parent's live id (404 otherwise) and what the write must meet under the child's row lock. */
  const parentOf = async (c: Context, services: RouteServices, ifMatch = true): Promise<[string, WriteMeta]> => {
    const parentId = await services.actionsOf.get(parent.name)!.requireLiveId(c.req.param('id') ?? '');
    return [parentId, { ...writeMeta(c, ifMatch), within: { field: via, id: parentId } }];
  };
  const childIdOf = (c: Context, k: EntityKit) => k.actions.checkId(c.req.param(childParam) ?? '');

  const update =
    (mode: 'replace' | 'patch') =>
    (services: RouteServices) =>
    async (c: Context): Promise<Response> => {
      const k = kit(services);
      const [parentId, meta] = await parentOf(c, services);
      const childId = childIdOf(c, k);
      queryParams(c, []);
      const body = await bodyUnder(c, parentId, mode === 'replace');
      const { record, warnings } = await k.actions.update(childId, body, mode, undefined, meta);
      return k.send(c, k.outFor(c)(k.tag(c, record)), { extra: warningsMetadata(warnings) });
    };

  /** What PUT and PATCH under the parent share: answers, permissions, middleware. */
  const updateDoc = {
    responses: {
      200: record200,
      404: missing,
      ...invalid,
      409: errorResponse('Conflict'),
      412: errorResponse('Stale If-Match'),
    },
    permission: [...parentRead, [entity, 'update']] as Route['permission'],
    middleware,
  };

  const routes: Route[] = [
    {
      method: 'post',
      path: collection,
      operationId: `${version}_create_${entity.name}_of_${parent.name}`,
      summary: `Create ${one} ${ofParent}`,
      description: `${via} is set from the path; server-owned fields are ignored if sent.`,
      tags,
      parameters: [idParam],
      requestBody: writeBody,
      responses: {
        201: { description: 'Created', content: json(envelope(ref(name))) },
        404: errorResponse(`No such ${parent.name}`),
        ...invalid,
        409: errorResponse('Conflict'),
      },
      permission: [...parentRead, [entity, 'create']],
      middleware,
      handler: (services) => {
        const k = kit(services);
        return async (c) => {
          queryParams(c, []);
          const [parentId, meta] = await parentOf(c, services, false);
          const body = await bodyUnder(c, parentId, true);
          const { record, warnings } = await k.actions.create(body, undefined, meta);
          c.header('Location', `${collection.replace(':id', parentId)}/${record.id}`);
          k.tag(c, record);
          return k.send(c, k.outFor(c)(record), { status: 201, extra: warningsMetadata(warnings) });
        };
      },
    },
    {
      method: 'get',
      path: item,
      operationId: `${version}_get_${entity.name}_of_${parent.name}`,
      summary: `Get ${one} ${ofParent}`,
      tags,
      parameters: [idParam, childIdParam],
      responses: { 200: record200, 404: missing },
      permission: [...parentRead, [entity, 'read']],
      middleware,
      handler: (services) => {
        const k = kit(services);
        return async (c) => {
          const [parentId] = await parentOf(c, services);
          const childId = childIdOf(c, k);
          queryParams(c, []);
          const record = await k.store.get(childId);
          if (!record || ownValue(record, via) !== parentId) throw notFound(entity.name, childId);
          return k.send(c, k.outFor(c)(k.tag(c, record)));
        };
      },
    },
    {
      method: 'put',
      path: item,
      operationId: `${version}_replace_${entity.name}_of_${parent.name}`,
      summary: `Replace ${one} ${ofParent}`,
      description: `Full replace; ${via} stays the parent from the path.`,
      tags,
      parameters: [idParam, childIdParam, ifMatch],
      requestBody: writeBody,
      ...updateDoc,
      handler: update('replace'),
    },
    {
      method: 'patch',
      path: item,
      operationId: `${version}_patch_${entity.name}_of_${parent.name}`,
      summary: `Patch ${one} ${ofParent} (JSON merge patch)`,
      tags,
      parameters: [idParam, childIdParam, ifMatch],
      requestBody: {
        required: true,
        content: {
          'application/merge-patch+json': { schema: { type: 'object' } },
          'application/json': { schema: { type: 'object' } },
        },
      },
      ...updateDoc,
      handler: update('patch'),
    },
    {
      method: 'delete',
      path: item,
      operationId: `${version}_delete_${entity.name}_of_${parent.name}`,
      summary: `Delete ${one} ${ofParent}`,
      description: 'As DELETE on the record itself: soft by default where the entity has soft delete.',
      tags,
      parameters: [
        idParam,
        childIdParam,
        ...(hasSoftDelete(entity)
          ? ([
              { name: 'hard', in: 'query', schema: { type: 'boolean', default: false } },
              { name: 'reason', in: 'query', schema: { type: 'string' } },
            ] as const)
          : []),
        ifMatch,
      ],
      responses: {
        200: { description: 'Deleted', content: json(envelope(ref('DeleteResult'))) },
        404: missing,
        409: errorResponse('Still referenced by other records'),
        412: errorResponse('Stale If-Match'),
      },
      permission: [...parentRead, [entity, 'delete']],
      middleware,
      handler: (services) => {
        const k = kit(services);
        return async (c) => {
          const params = queryParams(c, k.store.supportsSoftDelete ? ['hard', 'reason'] : []);
          const hard = booleanParam(params, 'hard');
          // Refused before the parent is looked up, so a refusal says nothing about which ids exist.
          if (hard) authorize(c, entity, 'hard_delete');
          const [, meta] = await parentOf(c, services);
          const childId = childIdOf(c, k);
          const result = await k.actions.remove(
            childId,
            { hard, reason: params.get('reason'), actor: actorOf(c) },
            undefined,
            meta,
          );
          return k.send(c, result);
        };
      },
    },
  ];
  return routes;
}
