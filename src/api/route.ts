// One route of the HTTP API, described once (in the manner of @hono/zod-openapi's createRoute):
// its method and hono path, what the OpenAPI document says of it (parameters, body, responses),
// the permission checks that run before it, and its handler. mountRoutes registers a table of
// them on hono; buildOpenApi (openapi/document.ts) documents the very same table.
import type { Handler, Hono, MiddlewareHandler } from 'hono';
import type { JsonSchema } from '../registry/json-schema.ts';
import type { EntityDef, Model, Operation } from '../registry/model.ts';
import { allowEach } from './authorization.ts';
import { methodNotAllowed } from './envelope.ts';
import type { RouteServices } from './route-services.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required?: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

export interface ResponseDoc {
  readonly description: string;
  readonly headers?: Readonly<Record<string, JsonSchema>>;
  /** Content type → `{ schema }`. */
  readonly content?: Readonly<Record<string, { readonly schema: JsonSchema }>>;
}

export interface RequestBodyDoc {
  readonly required: boolean;
  readonly content: Readonly<Record<string, { readonly schema: JsonSchema }>>;
}

/** A role check the route needs before its handler runs: the operation on the entity. */
export type Permission = readonly [EntityDef, Operation];

export interface Route {
  readonly method: Method;
  /** The hono template, e.g. `/api/v1/episodes/:id`; the document writes it `/api/v1/episodes/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** Path parameters (one per `:name` of the path), then query and header parameters. */
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: RequestBodyDoc;
  /** Status → response; every /api route also answers 401, 403 and 429 (added by the document). */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Checked, in order, before the handler; checks that depend on the request are the handler's. */
  readonly permission?: readonly Permission[];
  /** Run before the permission checks (an older API version's error renames). */
  readonly middleware?: readonly MiddlewareHandler[];
  /** Made once, when the table is mounted, from the app's services. */
  readonly handler: (services: RouteServices) => Handler;
}

/** Not a documented route: every method of `path` answers here (a clearer 404 than a later route's). */
export interface RouteFallback {
  readonly fallback: (services: RouteServices) => Handler;
  readonly path: string;
}

export type RouteEntry = Route | RouteFallback;

export const isRoute = (entry: RouteEntry): entry is Route => !('fallback' in entry);

/** The methods in the order an `Allow` header lists them. */
const METHOD_ORDER: readonly Method[] = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * Registers the table in its order (hono tries routes in the order they were added: literal
 * segments such as `/search` come before `/:id` in the table). Each /api path answers 405 with an
 * `Allow` header for its other methods, registered right after its last route.
 */
export function mountRoutes(app: Hono, model: Model, entries: readonly RouteEntry[], services: RouteServices): void {
  const routes = entries.filter(isRoute);
  const lastOf = new Map(routes.map((route) => [route.path, route]));
  const methodsOf = (path: string) =>
    METHOD_ORDER.filter((method) => routes.some((r) => r.path === path && r.method === method));
  for (const entry of entries) {
    if (!isRoute(entry)) {
      app.all(entry.path, entry.fallback(services));
      continue;
    }
    const checks: MiddlewareHandler[] = entry.permission?.length ? [allowEach(...entry.permission)] : [];
    const handlers: [...MiddlewareHandler[], Handler] = [
      ...(entry.middleware ?? []),
      ...checks,
      entry.handler(services),
    ];
    app.on(entry.method.toUpperCase(), [entry.path], ...handlers);
    if (lastOf.get(entry.path) === entry && entry.path.startsWith('/api/')) {
      const allowed = methodsOf(entry.path)
        .map((method) => method.toUpperCase())
        .join(', ');
      app.all(entry.path, methodNotAllowed(model, allowed));
    }
  }
}
