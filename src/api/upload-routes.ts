// Presigned uploads (seed 8.2): POST /api/v1/uploads, /uploads/{id}/complete, multipart parts and
// abort, and the upload list. (Being built: see issue 14.)
import type { Hono } from 'hono';
import type { MediaRouteContext } from './media-context.ts';

export function mountUploads(_app: Hono, _ctx: MediaRouteContext, _version: string): void {}
