// Registering existing keys (seed 8.2, bulk import): POST /api/v1/{plural}/register.
// (Being built: see issue 14.)
import type { Hono } from 'hono';
import type { EntityDef } from '../registry/model.ts';
import type { MediaRouteContext } from './media-context.ts';

export function mountRegister(_app: Hono, _ctx: MediaRouteContext, _entity: EntityDef, _version: string): void {}
