// The route table: every route the service serves, in the order hono tries them. Each resource's
// module describes its routes once; mountRoutes (route.ts) registers this list and buildOpenApi
// (openapi/document.ts) documents it, so the two cannot drift apart.
import type { Model } from '../registry/model.ts';
import { auditListRoute } from './audit-routes.ts';
import { docsRoute } from './docs.ts';
import { entityRoutes } from './entity-routes.ts';
import { mediaAccessRoutes } from './media-access-routes.ts';
import { opsRoutes } from './ops-routes.ts';
import { registerRoutes } from './register-routes.ts';
import type { RouteEntry } from './route.ts';
import { jobRoutes, thumbnailRoutes } from './thumbnail-routes.ts';
import { uploadRoutes } from './upload-routes.ts';

export function routeTable(model: Model): RouteEntry[] {
  return [
    ...opsRoutes(),
    docsRoute,
    ...model.apiVersions.flatMap((apiVersion) => {
      const version = apiVersion.name;
      return [
        // /{plural}/register before /{plural}/:id, which would answer it otherwise.
        ...model.entities.flatMap((entity) => [
          ...registerRoutes(entity, version),
          ...entityRoutes(model, entity, apiVersion),
        ]),
        ...model.entities.flatMap((entity) => thumbnailRoutes(entity, version)),
        ...jobRoutes(version),
        auditListRoute(version),
        ...uploadRoutes(model, version),
        ...model.entities.flatMap((entity) => mediaAccessRoutes(entity, version)),
      ];
    }),
  ];
}
