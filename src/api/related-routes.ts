// The routes of an entity that stand beside its own: its records listed under a parent they
// refer to (/shows/{id}/episodes), the next number of a sequence counted under its parent
// (/shows/{id}/next-episode-number) and, for an entity with versions, /search over their text.
import {
  findEntity,
  withArticle,
  type ApiVersionDef,
  type ChildRelation,
  type EntityDef,
  type Model,
  type SequenceRelation,
} from '../registry/model.ts';
import { schemaTitle } from '../registry/json-schema.ts';
import { pathBackward } from '../evolution/steps.ts';
import { scopedTo } from '../query/ast.ts';
import { coerceValue } from '../query/operators.ts';
import { parseListQuery } from '../query/list-query.ts';
import { resolveTarget } from '../query/targets.ts';
import { ApiShape } from './api-shape.ts';
import { authorizeQuery } from './authorization.ts';
import { entityKit } from './entity-kit.ts';
import { sendData } from './envelope.ts';
import { ApiError } from '../records/errors.ts';
import { queryParams } from './params.ts';
import { childPath, collectionPath, sequencePath } from './paths.ts';
import type { Route } from './route.ts';
import type { VersionedRecords } from '../records/versions.ts';
import { envelope, errorResponse, idParam, json, recordSchemaName, ref } from './openapi/components.ts';
import { filterSchema, listParameters } from './openapi/list-parameters.ts';

/**
 * Sub-resources: GET /shows/{id}/episodes is the episode list, with the same query language, of
 * the episodes whose show_id is that show.
 */
export function childListRoute(
  model: Model,
  entity: EntityDef,
  apiVersion: ApiVersionDef,
  relation: ChildRelation,
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
    middleware: shape.isCurrent ? [] : [shape.namesErrors],
    handler: (services) => {
      const { sendPage } = kit(services);
      const parent = services.actionsOf.get(relation.parent.name)!;
      return async (c) => {
        const query = parseListQuery(entity, new URL(c.req.url).search.slice(1), model.entities, shape.queryIn);
        // Refused before the parent is looked up, so a refusal says nothing about which ids exist.
        authorizeQuery(c, entity, scopedTo(query, target.target, ''), model.entities);
        const id = await parent.requireLiveId(c.req.param('id') ?? '');
        return sendPage(c, scopedTo(query, target.target, id));
      };
    },
  };
}

/**
 * A sequence scoped by a ref (episode_number within show_id and season) suggests its next number
 * under the parent: GET /shows/{id}/next-episode-number?season=2.
 */
export function nextNumberRoute(entity: EntityDef, version: string, relation: SequenceRelation): Route {
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
        const id = await parentActions.requireLiveId(c.req.param('id') ?? '');
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

/** GET /{plural}/search?q=… of an entity with versions: full-text search over the versions' text, with highlighted snippets. */
export function versionSearchRoute(
  model: Model,
  entity: EntityDef,
  version: string,
  middleware: Route['middleware'],
): Route {
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
