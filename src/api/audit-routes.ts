// The audit trail over HTTP, as route table entries: GET /audit (every entry, with the list query
// language), GET /{plural}/{id}/history (one record's entries) and POST /{plural}/{id}/revert.
import type { Context } from 'hono';
import { withArticle, type ApiVersionDef, type EntityDef, type Model } from '../registry/model.ts';
import { parseListQuery } from '../query/list-query.ts';
import { AUDIT_ENTITY } from '../audit/audit-entity.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import type { ApiShape } from './api-shape.ts';
import { readJsonBody } from './body.ts';
import { pageMetadata, sendData } from './envelope.ts';
import { ApiError } from '../records/errors.ts';
import { etagOf } from '../records/preconditions.ts';
import { authorizeQuery, forbidden, writePermit } from './authorization.ts';
import { actorOf } from './authentication.ts';
import { recordPath } from './paths.ts';
import type { Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, idParam, json, ref } from './openapi/components.ts';
import { listParameters } from './openapi/list-parameters.ts';

/**
 * Who is acting (the token's subject, or X-Actor with authentication off; at most the audit
 * column's 200 characters), the request id, and the caller's permission check for every other
 * entity the write touches.
 */
export function writeMeta(c: Context, ifMatch = true): WriteMeta {
  return {
    actor: actorOf(c, 200),
    requestId: c.get('requestId') ?? null,
    permit: writePermit(c),
    ...(ifMatch ? { ifMatch: c.req.header('if-match') ?? null } : {}),
  };
}

/**
 * The short names for the audit list: `id` is the audited record's id (`record_id`),
 * `since` and `until` bound `at` (`since` inclusive, `until` exclusive). Newest first by default.
 */
function auditSearch(search: string, scope: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(scope)) params.append(key, value);
  const given = new URLSearchParams(search);
  for (const [key, value] of given) {
    const name = key === 'id' ? 'record_id' : key === 'since' ? 'at[gte]' : key === 'until' ? 'at[lt]' : key;
    params.append(name, value);
  }
  if (!given.has('_sort') && !given.has('q')) params.set('_sort', '-at');
  return params.toString();
}

interface AuditPageOptions {
  readonly model: Model;
  readonly audit: AuditLog;
  /** How an entry's `before` is shown: the audited entity's shape in this API version. */
  readonly shapeOf: (entity: string) => ApiShape | undefined;
}

async function sendAuditPage(c: Context, search: string, { model, audit, shapeOf }: AuditPageOptions) {
  const query = parseListQuery(AUDIT_ENTITY, search, [AUDIT_ENTITY]);
  authorizeQuery(c, AUDIT_ENTITY, query, [AUDIT_ENTITY]);
  const page = await audit.store.list(query);
  const entries = page.records.map((entry) => {
    const shape = typeof entry.entity === 'string' ? shapeOf(entry.entity) : undefined;
    return shape && entry.before ? { ...entry, before: shape.recordOut(entry.before) } : entry;
  });
  return sendData(c, model, entries, { extra: pageMetadata(query, page) });
}

/** GET /api/{version}/audit?entity=&id=&actor=&since=&until= plus the whole list query language. */
export function auditListRoute(version: string): Route {
  return {
    method: 'get',
    path: `/api/${version}/${AUDIT_ENTITY.route}`,
    operationId: `${version}_list_audit`,
    summary: 'Audit entries, newest first',
    description:
      'Every create, update, delete, restore, hard delete and revert, written in the same transaction as the change. `id` filters the audited record (record_id), `since` is at[gte] and `until` at[lt]; the whole list query language applies.',
    tags: ['audit'],
    parameters: [
      { name: 'entity', in: 'query', schema: { type: 'string' } },
      { name: 'id', in: 'query', description: "The audited record's id.", schema: { type: 'string' } },
      { name: 'actor', in: 'query', schema: { type: 'string' } },
      { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
      { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
      ...listParameters(AUDIT_ENTITY),
    ],
    responses: {
      200: { description: 'A page of audit entries', content: json(envelope(ref('AuditEntry'), true)) },
      400: errorResponse('Unknown field, operator or bad value'),
    },
    permission: [[AUDIT_ENTITY, 'read']],
    handler: (services) => {
      const options = pageOptions(services, version);
      return (c) => {
        // Entries of entities the caller may not read are left out (their `before` holds whole records).
        const hidden = services.model.entities
          .filter((entity) => forbidden(c, entity, 'read'))
          .map((entity) => entity.name);
        return sendAuditPage(
          c,
          auditSearch(new URL(c.req.url).search.slice(1), hidden.length > 0 ? { 'entity[nin]': hidden.join(',') } : {}),
          options,
        );
      };
    },
  };
}

const pageOptions = (services: RouteServices, version: string): AuditPageOptions => ({
  model: services.model,
  audit: services.audit,
  shapeOf: (entity) =>
    services.model.entities.some((e) => e.name === entity) ? services.shapeOf(version, entity) : undefined,
});

/** GET {item}/history and POST {item}/revert for one entity in one API version. */
export function recordAuditRoutes(
  entity: EntityDef,
  apiVersion: ApiVersionDef,
  shape: ApiShape,
  middleware: Route['middleware'],
): Route[] {
  const version = apiVersion.name;
  const item = recordPath(version, entity);
  const one = withArticle(entity.name);
  const tags = [entity.plural];
  const actionsOf = (services: RouteServices) => services.actionsOf.get(entity.name)!;
  return [
    {
      method: 'get',
      path: `${item}/history`,
      operationId: `${version}_history_${entity.name}`,
      summary: `The audit entries of ${one}, newest first`,
      description: 'The list query language over its audit entries (operation, actor, at, changes.path …).',
      tags,
      parameters: [idParam, ...listParameters(AUDIT_ENTITY)],
      responses: {
        200: { description: 'A page of audit entries', content: json(envelope(ref('AuditEntry'), true)) },
        400: errorResponse('Unknown field, operator or bad value'),
        404: errorResponse('Not an id of this entity'),
      },
      permission: [
        [entity, 'read'],
        [AUDIT_ENTITY, 'read'],
      ],
      middleware,
      handler: (services) => {
        const actions = actionsOf(services);
        const options = pageOptions(services, version);
        return (c) => {
          const id = actions.checkId(c.req.param('id') ?? '');
          return sendAuditPage(
            c,
            auditSearch(new URL(c.req.url).search.slice(1), { entity: entity.name, record_id: id }),
            options,
          );
        };
      },
    },
    {
      method: 'post',
      path: `${item}/revert`,
      operationId: `${version}_revert_${entity.name}`,
      summary: `Undo one audited change of ${one}`,
      description:
        'Body `{"audit_id": "aud_…"}`, an entry of this record. An update (or revert) is undone by writing back the fields as they were before it (validated like a PUT); a delete by a restore; a create or restore by a soft delete. The revert is audited itself (operation `revert`, `reverts` naming the entry).',
      tags,
      parameters: [idParam],
      requestBody: {
        required: true,
        content: json({ type: 'object', required: ['audit_id'], properties: { audit_id: { type: 'string' } } }),
      },
      responses: {
        200: {
          description: 'The record as reverted (or the delete result, for a create undone)',
          headers: { ETag: { description: "The record's version, for If-Match", schema: { type: 'string' } } },
          content: json(envelope({})),
        },
        400: errorResponse('No audit_id'),
        404: errorResponse('No such record, or the entry is not one of its changes'),
        409: errorResponse('The change cannot be undone (a hard delete) or conflicts with the record now'),
        422: errorResponse('The state before the change no longer validates'),
      },
      // Undoing a change is a change: it needs the update role, whatever the entry did, and what the
      // undo does needs its own (a restore of what a delete took, a delete of what a create made).
      permission: [[entity, 'update']],
      middleware,
      handler: (services) => {
        const actions = actionsOf(services);
        const { model } = services;
        return async (c) => {
          const id = actions.checkId(c.req.param('id') ?? '');
          const body = await readJsonBody(c);
          const auditId =
            typeof body === 'object' && body !== null && !Array.isArray(body)
              ? (body as Record<string, unknown>).audit_id
              : undefined;
          if (typeof auditId !== 'string' || auditId === '') {
            throw ApiError.single(
              400,
              'INVALID_BODY',
              'send {"audit_id": "aud_…"}, the audit entry to revert (see GET …/history)',
              'audit_id',
            );
          }
          const result = await actions.revert(id, auditId, writeMeta(c));
          const extra = { reverted: auditId };
          if ('deleted' in result)
            return sendData(c, model, result.deleted, { entity, schemaVersion: shape.schemaVersion, extra });
          const version = actions.versionOf(result.record);
          if (version) c.header('ETag', etagOf(version));
          return sendData(c, model, shape.recordOut(result.record), {
            entity,
            schemaVersion: shape.schemaVersion,
            extra,
          });
        };
      },
    },
  ];
}
