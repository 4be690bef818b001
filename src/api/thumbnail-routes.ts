// Thumbnail jobs: POST /api/v1/{plural}/{id}/thumbnails (regenerate) and GET /api/v1/jobs/{id}.
// (Being built: see issue 14.)
import type { Hono } from 'hono';
import type { EntityDef } from '../registry/model.ts';
import type { MediaRouteContext } from './media-context.ts';

export function mountThumbnails(_app: Hono, _ctx: MediaRouteContext, _entity: EntityDef, _version: string): void {}
export function mountJobs(_app: Hono, _ctx: MediaRouteContext, _version: string): void {}
