// Reading media: GET /api/v1/{plural}/{id}/media/{field} and /thumbnails/{size} → 302 to a
// short-lived presigned GET, after the caller's read permission. (Being built: see issue 14.)
import type { Hono } from 'hono';
import type { EntityDef } from '../registry/model.ts';
import type { MediaRouteContext } from './media-context.ts';

export function mountMediaAccess(_app: Hono, _ctx: MediaRouteContext, _entity: EntityDef, _version: string): void {}
