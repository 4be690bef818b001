// What the media routes share with the entity routes: the model, the stores and write actions of
// every entity, and the media services (absent: the routes answer 503 MEDIA_UNAVAILABLE).
import type { Context } from 'hono';
import type { DatabasePool } from '../db/pool.ts';
import type { RecordStore } from '../db/records.ts';
import type { MediaServices } from '../media/services.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import type { ApiShape } from './api-shape.ts';
import type { EntityActions } from '../records/entity-actions.ts';
import { sendData, type SendOptions } from './envelope.ts';
import { ApiError } from '../records/errors.ts';
import type { ErrorClassifier } from '../records/failures.ts';

export interface MediaRouteContext {
  readonly model: Model;
  readonly pool: DatabasePool;
  readonly media?: MediaServices;
  readonly stores: ReadonlyMap<string, RecordStore>;
  readonly actionsOf: ReadonlyMap<string, EntityActions>;
  readonly classify: ErrorClassifier;
  /** How each API version sees each entity's records. */
  readonly shapeOf: (version: string, entity: string) => ApiShape;
}

/** The media services, or 503 when this service runs without an object store. */
export function requireMedia(ctx: MediaRouteContext): MediaServices {
  if (!ctx.media) throw ApiError.single(503, 'MEDIA_UNAVAILABLE', 'this service runs without an object store (S3)');
  return ctx.media;
}

/** The envelope for an entity's data, in the shape of the given API version. */
export function sendRecord(
  ctx: MediaRouteContext,
  c: Context,
  version: string,
  entity: EntityDef,
  data: unknown,
  options: Omit<SendOptions, 'entity' | 'schemaVersion'> = {},
): Response {
  return sendData(c, ctx.model, data, {
    ...options,
    entity,
    schemaVersion: ctx.shapeOf(version, entity.name).schemaVersion,
  });
}
