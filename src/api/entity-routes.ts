// The generic REST surface: the same six handlers serve every entity in the registry.
import { Hono, type Context } from 'hono';
import type { Ajv2020 } from '../registry/ajv.ts';
import {
  childRoutes,
  findField,
  sequenceRoutes,
  type EntityDef,
  type Model,
  type Operation,
  type ViewDef,
} from '../registry/model.ts';
import { scopedTo, type ListQuery } from '../query/ast.ts';
import { resolveTarget } from '../query/targets.ts';
import { coerceValue } from '../query/operators.ts';
import type { DatabasePool } from '../db/pool.ts';
import { RecordStore } from '../db/records.ts';
import { parseListQuery } from '../query/list-query.ts';
import { readOperations, runBatch } from './batch.ts';
import { readJsonBody } from './body.ts';
import type { Referrer, ReferrersOf } from './cascade.ts';
import { warningsMetadata } from './duplicates.ts';
import { EntityActions } from './entity-actions.ts';
import { parseExportQuery, streamExport } from './export.ts';
import type { ErrorClassifier } from './failures.ts';
import { ApiError, notFound } from './errors.ts';
import { methodNotAllowed as notAllowed, pageMetadata, sendData, sendErrors, type SendOptions } from './envelope.ts';
import { isPlainObject, RecordInput } from './record-input.ts';
import { booleanParam, queryParams } from './params.ts';
import { ApiShape, deprecationHeaders } from './api-shape.ts';
import { mountPart } from './part-routes.ts';
import { VersionedRecords } from './versions.ts';
import { libraryMirror } from './write-rules.ts';
import { DEFAULT_DOMAIN_SETTINGS, domainRules, type DomainSettings } from '../domain/index.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { mountAuditList, mountRecordAudit, writeMeta } from './audit-routes.ts';
import { etagOf } from './preconditions.ts';
import { allow, allowEach, authorize, authorizeQuery, unreadableCounts, withoutFields } from './authorization.ts';
import { countFieldReaches } from '../query/reach.ts';
import { actorOf } from './authentication.ts';
import { ownValue } from '../registry/own.ts';
import type { MediaServices } from '../media/services.ts';
import { MediaWriteCheck } from '../media/verify-writes.ts';
import type { MediaRouteContext } from './media-context.ts';
import { mountUploads } from './upload-routes.ts';
import { mountRegister } from './register-routes.ts';
import { mountMediaAccess } from './media-access-routes.ts';
import { mountJobs, mountThumbnails } from './thumbnail-routes.ts';

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

/** Every entity's routes under every API version; the stores and write rules are shared by all versions. */
export function entityRoutes(
  model: Model,
  pool: DatabasePool,
  ajv: Ajv2020,
  classify: ErrorClassifier,
  domain: DomainSettings = DEFAULT_DOMAIN_SETTINGS,
  media?: MediaServices,
): Hono {
  const app = new Hono();
  const stores = new Map(model.entities.map((entity) => [entity.name, new RecordStore(pool, entity, model.entities)]));
  // Every entity's referrers, so a delete can follow cascades through other entities.
  const referrers = new Map<string, Referrer[]>(
    model.entities.map((entity) => [
      entity.name,
      model.entities.flatMap((other) =>
        other.fields
          .filter((f) => ((f.type === 'ref' && f.storage === 'column') || f.type === 'refs') && f.to === entity.name)
          .map((field) => ({ entity: other, store: stores.get(other.name)!, field })),
      ),
    ]),
  );
  const referrersOf: ReferrersOf = (entity) => referrers.get(entity.name) ?? [];
  const audit = new AuditLog(pool);
  const actionsOf = new Map(
    model.entities.map((entity) => [
      entity.name,
      new EntityActions(
        entity,
        stores.get(entity.name)!,
        new RecordInput(entity, model, ajv),
        pool,
        referrersOf,
        audit,
      ),
    ]),
  );
  const rules = domainRules(domain);
  const lookup = (name: string) => actionsOf.get(name)!;
  const mediaCheck = media ? new MediaWriteCheck(media.storage) : undefined;
  for (const actions of actionsOf.values()) actions.useMediaCheck(mediaCheck);
  for (const entity of model.entities) {
    const mirrors = entity.fields.filter((f) => f.library).map((field) => libraryMirror(entity, field, model));
    actionsOf.get(entity.name)!.useRules([...mirrors, ...(rules[entity.name] ?? [])], lookup);
  }
  const versioned = new Map(
    model.entities
      .filter((e) => e.versions)
      .map((owner) => {
        const child = model.entities.find((e) => e.name === owner.versions!.entity)!;
        const pair = (e: EntityDef) => ({ entity: e, actions: actionsOf.get(e.name)!, store: stores.get(e.name)! });
        return [owner.name, new VersionedRecords(pair(owner), pair(child), pool)] as const;
      }),
  );
  const shapesByVersion = new Map(
    model.apiVersions.map((version) => [
      version.name,
      new Map(model.entities.map((entity) => [entity.name, new ApiShape(entity, version)])),
    ]),
  );
  const mediaContext: MediaRouteContext = {
    model,
    pool,
    media,
    stores,
    actionsOf,
    classify,
    shapeOf: (version, entity) => shapesByVersion.get(version)!.get(entity)!,
  };
  for (const version of model.apiVersions) {
    app.use(`/api/${version.name}/*`, deprecationHeaders(version, model.apiVersions.at(-1)!));
    // Searching an entity with versions searches their text (before the generic list's /search).
    for (const records of versioned.values())
      mountVersionSearch(app, model, `/api/${version.name}/${records.owner.route}/search`, records);
    const shapes = shapesByVersion.get(version.name)!;
    const shapeOf = (name: string) => shapes.get(name);
    mountAuditList(app, version.name, { model, audit, shapeOf });
    mountUploads(app, mediaContext, version.name);
    mountJobs(app, mediaContext, version.name);
    for (const entity of model.entities) {
      const shape = shapes.get(entity.name)!;
      // Before the entity's own routes: /{plural}/register would otherwise meet /{plural}/:id's 405.
      mountRegister(app, mediaContext, entity, version.name);
      mountMediaAccess(app, mediaContext, entity, version.name);
      mountThumbnails(app, mediaContext, entity, version.name);
      mountEntity(
        app,
        {
          model,
          entity,
          shape,
          store: stores.get(entity.name)!,
          actions: actionsOf.get(entity.name)!,
          actionsOf,
          pool,
          classify,
        },
        version.name,
      );
      for (const part of entity.parts) {
        const records = versioned.get(part.entity);
        if (!records) continue;
        mountPart(app, {
          base: `/api/${version.name}/${entity.route}`,
          parent: entity,
          part,
          parentActions: actionsOf.get(entity.name)!,
          partStore: stores.get(part.entity)!,
          versioned: records,
          versionStore: stores.get(records.version.name)!,
          entities: model.entities,
          send: (c, data, options = {}) => sendData(c, model, data, options),
          notAllowed: (allowed) => notAllowed(model, allowed),
        });
      }
      mountRecordAudit(app, {
        model,
        audit,
        shapeOf,
        item: `/api/${version.name}/${entity.route}/:id`,
        actions: actionsOf.get(entity.name)!,
        shape,
      });
    }
  }
  return app;
}

interface EntityContext {
  readonly model: Model;
  readonly entity: EntityDef;
  /** How this API version sees the entity's records. */
  readonly shape: ApiShape;
  readonly store: RecordStore;
  readonly actions: EntityActions;
  /** Every entity's actions by name, for routes under a parent. */
  readonly actionsOf: ReadonlyMap<string, EntityActions>;
  readonly pool: DatabasePool;
  readonly classify: ErrorClassifier;
}

function mountEntity(
  app: Hono,
  { model, entity, shape, store, actions, actionsOf, pool, classify }: EntityContext,
  version: string,
): void {
  const base = `/api/${version}/${entity.route}`;
  const item = `${base}/:id`;
  if (!shape.isCurrent) for (const path of [base, `${base}/*`]) app.use(path, shape.errorPaths);
  /** The envelope, with metadata naming the shape this version answers in. */
  const send = (c: Context, data: unknown, options: Omit<SendOptions, 'entity' | 'schemaVersion'> = {}) =>
    sendData(c, model, data, { ...options, entity, schemaVersion: shape.schemaVersion });
  // Count fields computed from records the caller may not read are left out of what they see.
  const counts = countFieldReaches(entity, model.entities);
  const hiddenFor = (c: Context) => unreadableCounts(c, counts, model.entities);
  /** The caller's view of records in this version's shape; what they may not see is worked out once a request. */
  const outFor = (c: Context) => {
    const hidden = hiddenFor(c);
    return <T>(record: T): T => withoutFields(shape.recordOut(record), hidden);
  };
  const body = async (c: Context) => shape.bodyIn(await readJsonBody(c));
  /** The request's query string; parsed once, then taken to the current model on its AST (shape.queryIn). */
  const search = (c: Context) => new URL(c.req.url).search.slice(1);
  const listQuery = (c: Context) => parseListQuery(entity, search(c), model.entities, shape.queryIn);
  const label = entity.name;
  const deletedParam = store.supportsSoftDelete ? ['include_deleted'] : [];
  const methodNotAllowed = (allowed: string) => notAllowed(model, allowed);
  /** The `:id` parameter; an id this entity could never have is simply not found. */
  const idOf = (c: Context): string => actions.checkId(c.req.param('id') ?? '');
  /** The record's ETag header (its row version), when known. */
  const tag = <T extends { id: string }>(c: Context, record: T): T => {
    const version = store.versionOf(record);
    if (version) c.header('ETag', etagOf(version));
    return record;
  };

  const sendPage = async (c: Context, query: ListQuery) => {
    authorizeQuery(c, entity, query, model.entities);
    const page = await store.list(query);
    return send(c, page.records.map(outFor(c)), { extra: pageMetadata(query, page) });
  };
  // Lists and `/search` are one handler: the query language is the same (seed 7.4.1, Appendix D).
  const list = (c: Context) => sendPage(c, listQuery(c));
  const read = allow(entity, 'read');
  app.get(base, read, list);
  app.get(`${base}/search`, read, list);
  app.get(`${base}/export`, read, (c) => {
    const { format, query } = parseExportQuery(entity, search(c), model.entities, shape.queryIn);
    authorizeQuery(c, entity, query, model.entities);
    return streamExport(c, entity, store, format, query, shape, hiddenFor(c));
  });
  app.all(`${base}/export`, methodNotAllowed('GET'));

  // Sub-resources: GET /shows/{id}/episodes is the episode list, with the same query language,
  // of the episodes whose show_id is that show.
  for (const route of childRoutes(model, entity, version)) {
    const parent = actionsOf.get(route.parent.name)!;
    const target = resolveTarget(entity, route.via, { entities: model.entities });
    if ('error' in target) throw new Error(target.error);
    app.get(route.path, allowEach([route.parent, 'read'], [entity, 'read']), async (c) => {
      const query = listQuery(c);
      // Refused before the parent is looked up, so a refusal says nothing about which ids exist.
      authorizeQuery(c, entity, scopedTo(query, target.target, ''), model.entities);
      const { id } = await parent.requireLive(c.req.param('id') ?? '');
      return sendPage(c, scopedTo(query, target.target, id));
    });
  }

  // A sequence scoped by a ref (episode_number within show_id and season) suggests its next number
  // under the parent: GET /shows/{id}/next-episode-number?season=2.
  for (const route of sequenceRoutes(model, entity, version)) {
    const parent = actionsOf.get(route.parent.name)!;
    app.get(route.path, allowEach([route.parent, 'read'], [entity, 'read']), async (c) => {
      const { id } = await parent.requireLive(c.req.param('id') ?? '');
      const params = queryParams(
        c,
        route.scope.map((f) => f.name),
      );
      const scope: Record<string, unknown> = { [route.parentField]: id };
      for (const def of route.scope) {
        const raw = params.get(def.name);
        if (raw === null)
          throw ApiError.single(
            400,
            'INVALID_QUERY',
            `${def.name} is required: ${route.field.name} counts within ${route.field.sequence!.within.join(', ')}`,
            def.name,
          );
        const value = coerceValue(def.type, raw, def);
        if (typeof value === 'object')
          throw ApiError.single(400, 'INVALID_QUERY', `${def.name}: ${value.error}`, def.name);
        scope[def.name] = value;
      }
      return send(c, { ...scope, [`next_${route.field.name}`]: await store.nextNumber(route.field, scope) });
    });
  }

  app.post(base, allow(entity, 'create'), async (c) => {
    queryParams(c, []);
    const { record, warnings } = await actions.create(await body(c), undefined, writeMeta(c, false));
    c.header('Location', `${base}/${record.id}`);
    tag(c, record);
    return send(c, outFor(c)(record), { status: 201, extra: warningsMetadata(warnings) });
  });

  app.post(`${base}/batch`, async (c) => {
    const atomic = booleanParam(queryParams(c, ['atomic']), 'atomic');
    const operations = readOperations(await readJsonBody(c)).map((op) =>
      isPlainObject(op) && op.op !== 'delete' && op.data !== undefined ? { ...op, data: shape.bodyIn(op.data) } : op,
    );
    const permit = (operation: Operation) => authorize(c, entity, operation);
    const outcome = await runBatch(operations, {
      atomic,
      actions,
      permit,
      actor: actorOf(c),
      meta: writeMeta(c, false),
      pool,
      classify,
    });
    if (!outcome.applied) return sendErrors(c, model, outcome.failure.status, outcome.failure.problems);
    const failed = outcome.results.filter((r) => r.status >= 400).length;
    const out = outFor(c);
    const results = outcome.results.map((r) =>
      r.data !== undefined && r.op !== 'delete' ? { ...r, data: out(r.data) } : r,
    );
    return send(c, results, { extra: { atomic, succeeded: outcome.results.length - failed, failed } });
  });
  app.all(`${base}/batch`, methodNotAllowed('POST'));

  app.get(item, read, async (c) => {
    const id = idOf(c);
    const includeDeleted = booleanParam(queryParams(c, deletedParam), 'include_deleted');
    if (includeDeleted) authorize(c, entity, 'include_deleted');
    const record = await store.get(id, { includeDeleted });
    if (!record) throw notFound(label, id);
    return send(c, outFor(c)(tag(c, record)));
  });

  const update = (mode: 'replace' | 'patch') => async (c: Context) => {
    const id = idOf(c);
    queryParams(c, []);
    const { record, warnings } = await actions.update(id, await body(c), mode, undefined, writeMeta(c));
    return send(c, outFor(c)(tag(c, record)), { extra: warningsMetadata(warnings) });
  };
  app.put(item, allow(entity, 'update'), update('replace'));
  app.patch(item, allow(entity, 'update'), update('patch'));

  app.delete(item, allow(entity, 'delete'), async (c) => {
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
  });

  if (store.supportsSoftDelete) {
    const restoredByMax = findField(entity, 'restored_by')?.maxLength;
    app.post(`${item}/restore`, allow(entity, 'restore'), async (c) => {
      const id = idOf(c);
      queryParams(c, []);
      const { record, restored } = await actions.restore(id, actorOf(c, restoredByMax), undefined, writeMeta(c));
      return send(c, outFor(c)(tag(c, record)), { extra: Object.keys(restored).length > 0 ? { restored } : {} });
    });
  }

  // Views: part of a record as its own resource (GET/PUT /episodes/{id}/script, /wardrobe, …).
  for (const view of entity.views) {
    const path = `${item}/${view.name}`;
    app.get(path, read, async (c) => {
      queryParams(c, []);
      return send(c, viewValue(view, await actions.requireLive(idOf(c))));
    });
    app.put(path, allow(entity, 'update'), async (c) => {
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
    });
    app.all(path, methodNotAllowed('GET, PUT'));
  }

  app.all(base, methodNotAllowed('GET, POST'));
  app.all(`${base}/search`, methodNotAllowed('GET'));
  if (store.supportsSoftDelete) app.all(`${item}/restore`, methodNotAllowed('POST'));
  app.all(item, methodNotAllowed('GET, PUT, PATCH, DELETE'));
}

/** GET /{plural}/search?q=…: full-text search over the versions' text, with highlighted snippets. */
function mountVersionSearch(app: Hono, model: Model, path: string, records: VersionedRecords): void {
  app.get(path, allowEach([records.owner, 'read'], [records.version, 'read']), async (c) => {
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
      model,
      hits.map((hit) => ({
        [records.owner.name]: hit.owner,
        version: hit.version,
        active: hit.active,
        snippet: hit.snippet,
      })),
      { entity: records.owner, extra: { limit } },
    );
  });
}
