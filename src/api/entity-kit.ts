// What an entity's handlers share within one app and API version: its store and write actions,
// answers in the version's shape with what the caller may not see left out, the record's ETag,
// and a list page after the caller's read checks. Made once per app, entity and version.
import type { Context } from 'hono';
import type { RecordStore } from '../db/records.ts';
import type { FieldTarget, ListQuery } from '../query/ast.ts';
import { project } from '../query/projection.ts';
import { countFieldReaches } from '../query/reach.ts';
import type { EntityDef } from '../registry/model.ts';
import type { ApiShape } from './api-shape.ts';
import { authorizeQuery, unreadableCounts, withoutFields } from './authorization.ts';
import type { EntityActions } from '../records/entity-actions.ts';
import { pageMetadata, sendData, sendJsonData, type SendOptions } from './envelope.ts';
import { etagOf } from '../records/preconditions.ts';
import { notFound } from '../records/errors.ts';
import type { RouteServices } from './route-services.ts';

/** How a single GET reads its record: deleted ones too, and only some fields (`_fields`). */
export interface RecordOptions {
  readonly includeDeleted: boolean;
  readonly fields?: readonly FieldTarget[];
}

const kits = new WeakMap<RouteServices, Map<ApiShape['version'], Map<string, EntityKit>>>();

/** What an entity's handlers share within one app: its store and actions, and answers in the version's shape. */
export interface EntityKit {
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
  /** One record by id (404 when there is none), with its ETag. */
  readonly sendRecord: (c: Context, id: string, options: RecordOptions) => Promise<Response>;
}

/** The entity's kit in this shape (its API version), made once per app and shared by its routes. */
export function entityKit(entity: EntityDef, shape: ApiShape): (services: RouteServices) => EntityKit {
  return (services) => {
    const made = kits.get(services) ?? new Map<ApiShape['version'], Map<string, EntityKit>>();
    kits.set(services, made);
    const ofVersion = made.get(shape.version) ?? new Map<string, EntityKit>();
    made.set(shape.version, ofVersion);
    let kit = ofVersion.get(entity.name);
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
    // Records leave as PostgreSQL built them when nothing about them changes on the way out:
    // the current shape, and nothing the caller may not see (db/record-json.ts).
    const asBuilt = (c: Context) => shape.isCurrent && hiddenFor(c).length === 0;
    const sendJson = (c: Context, dataJson: string, options: Omit<SendOptions, 'entity' | 'schemaVersion'> = {}) =>
      sendJsonData(c, model, dataJson, { ...options, entity, schemaVersion: shape.schemaVersion });
    const tag = <T extends { id: string }>(c: Context, record: T): T => {
      const version = store.versionOf(record);
      if (version) c.header('ETag', etagOf(version));
      return record;
    };
    kit = {
      services,
      store,
      actions,
      send,
      outFor,
      hiddenFor,
      idOf: (c) => actions.checkId(c.req.param('id') ?? ''),
      tag,
      sendPage: async (c, query) => {
        authorizeQuery(c, entity, query, model.entities);
        const built = asBuilt(c) ? await store.listJson(query) : null;
        if (built) return sendJson(c, `[${built.json.join(',')}]`, { extra: pageMetadata(query, built) });
        const page = await store.list(query);
        return send(c, page.records.map(outFor(c)), { extra: pageMetadata(query, page) });
      },
      sendRecord: async (c, id, options) => {
        if (options.fields) {
          const record = await store.get(id, options);
          if (!record) throw notFound(entity.name, id);
          tag(c, record);
          return send(c, outFor(c)(project(record, options.fields)));
        }
        if (asBuilt(c)) {
          const found = await store.getJson(id, options);
          if (!found) throw notFound(entity.name, id);
          if ('json' in found) {
            c.header('ETag', etagOf(found.version));
            return sendJson(c, found.json);
          }
          return send(c, outFor(c)(tag(c, found.record)));
        }
        const record = await store.get(id, options);
        if (!record) throw notFound(entity.name, id);
        return send(c, outFor(c)(tag(c, record)));
      },
    };
    ofVersion.set(entity.name, kit);
    return kit;
  };
}
