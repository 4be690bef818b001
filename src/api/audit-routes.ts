// The audit trail over HTTP: GET /audit (every entry, with the list query language),
// GET /{plural}/{id}/history (one record's entries) and POST /{plural}/{id}/revert.
import type { Context, Hono } from 'hono';
import type { Model } from '../registry/model.ts';
import { parseListQuery } from '../query/list-query.ts';
import { AUDIT_ENTITY } from '../audit/audit-entity.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import type { ApiShape } from './api-shape.ts';
import { readJsonBody } from './body.ts';
import type { EntityActions } from './entity-actions.ts';
import { pageMetadata, sendData, sendErrors } from './envelope.ts';
import { ApiError } from './errors.ts';
import { etagOf } from './preconditions.ts';
import { allow, allowEach, authorizeQuery, forbidden, writePermit } from './authorization.ts';
import { actorOf } from './authentication.ts';

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

/** 405 with an Allow header: the audit trail is written by the service only. */
const methodNotAllowed = (model: Model, allowed: string) => (c: Context) => {
  c.header('Allow', allowed);
  return sendErrors(c, model, 405, [
    { code: 'METHOD_NOT_ALLOWED', message: `${c.req.method} is not allowed here; use ${allowed}`, field: null },
  ]);
};

/** GET /api/{version}/audit?entity=&id=&actor=&since=&until= plus the whole list query language. */
export function mountAuditList(app: Hono, version: string, options: AuditPageOptions): void {
  const path = `/api/${version}/${AUDIT_ENTITY.route}`;
  app.get(path, allow(AUDIT_ENTITY, 'read'), (c) => {
    // Entries of entities the caller may not read are left out (their `before` holds whole records).
    const hidden = options.model.entities.filter((entity) => forbidden(c, entity, 'read')).map((entity) => entity.name);
    return sendAuditPage(
      c,
      auditSearch(new URL(c.req.url).search.slice(1), hidden.length > 0 ? { 'entity[nin]': hidden.join(',') } : {}),
      options,
    );
  });
  app.all(path, methodNotAllowed(options.model, 'GET'));
}

interface RecordAuditOptions extends AuditPageOptions {
  readonly item: string;
  readonly actions: EntityActions;
  readonly shape: ApiShape;
}

/** GET {item}/history and POST {item}/revert for one entity in one API version. */
export function mountRecordAudit(app: Hono, options: RecordAuditOptions): void {
  const { item, actions, shape, model } = options;
  const entity = actions.entity;
  app.get(`${item}/history`, allowEach([entity, 'read'], [AUDIT_ENTITY, 'read']), async (c) => {
    const id = actions.checkId(c.req.param('id') ?? '');
    return sendAuditPage(
      c,
      auditSearch(new URL(c.req.url).search.slice(1), { entity: entity.name, record_id: id }),
      options,
    );
  });
  // Undoing a change is a change: it needs the update role, whatever the entry did, and what the
  // undo does needs its own (a restore of what a delete took, a delete of what a create made).
  app.post(`${item}/revert`, allow(entity, 'update'), async (c) => {
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
    return sendData(c, model, shape.recordOut(result.record), { entity, schemaVersion: shape.schemaVersion, extra });
  });
  app.all(`${item}/history`, methodNotAllowed(model, 'GET'));
  app.all(`${item}/revert`, methodNotAllowed(model, 'POST'));
}
