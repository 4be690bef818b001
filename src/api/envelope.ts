// The success and error envelope of seed 7.4.2: `{ data, metadata, errors }`.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { EntityDef, Model } from '../registry/model.ts';
import type { ApiProblem } from './errors.ts';

export interface Metadata {
  readonly schema_version?: number;
  readonly registry_version: string;
  readonly timestamp: string;
  readonly [extra: string]: unknown;
}

export function metadata(model: Model, entity?: EntityDef, extra: Record<string, unknown> = {}): Metadata {
  return {
    ...(entity ? { schema_version: entity.schemaVersion } : {}),
    registry_version: model.registryVersion,
    timestamp: new Date().toISOString(),
    ...extra,
  };
}

export function sendData(c: Context, model: Model, data: unknown, options: { status?: ContentfulStatusCode; entity?: EntityDef; extra?: Record<string, unknown> } = {}) {
  return c.json({ data, metadata: metadata(model, options.entity, options.extra), errors: [] }, options.status ?? 200);
}

export function sendErrors(c: Context, model: Model, status: ContentfulStatusCode, problems: readonly ApiProblem[]) {
  return c.json({ data: null, metadata: metadata(model), errors: problems }, status);
}
