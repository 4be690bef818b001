// Views: part of a record as its own resource (GET/PUT /episodes/{id}/script, /wardrobe, …),
// one field's value or an object of several, read and written through the entity's actions.
import { resolvePath, withArticle, type EntityDef, type Model, type ViewDef } from '../registry/model.ts';
import { fieldSchema, idPrefixes, type JsonSchema } from '../registry/json-schema.ts';
import { ownValue, valueAtPath } from '../registry/own.ts';
import { writeMeta } from './audit-routes.ts';
import { readJsonBody } from './body.ts';
import { warningsMetadata } from '../records/duplicates.ts';
import type { EntityKit } from './entity-kit.ts';
import { ApiError } from '../records/errors.ts';
import { queryParams } from './params.ts';
import { recordPath } from './paths.ts';
import type { Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, idParam, json } from './openapi/components.ts';

const valueAt = (record: Record<string, unknown>, path: readonly string[]): unknown =>
  valueAtPath(record, path) ?? null;

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

/** Views: part of a record as its own resource (GET/PUT /episodes/{id}/script, /wardrobe, …). */
export function viewRoutes(
  model: Model,
  entity: EntityDef,
  version: string,
  view: ViewDef,
  kit: (services: RouteServices) => EntityKit,
  middleware: Route['middleware'],
): Route[] {
  const path = `${recordPath(version, entity)}/${view.name}`;
  const schema = viewSchema(entity, view, model);
  const answer = { description: `The ${view.name} of the ${entity.name}`, content: json(envelope(schema)) };
  const tags = [entity.plural];
  return [
    {
      method: 'get',
      path,
      operationId: `${version}_get_${entity.name}_${view.name}`,
      summary: view.description ?? `The ${view.name} of ${withArticle(entity.name)}`,
      tags,
      parameters: [idParam],
      responses: { 200: answer, 404: errorResponse('No such record') },
      permission: [[entity, 'read']],
      middleware,
      handler: (services) => {
        const { actions, idOf, send } = kit(services);
        return async (c) => {
          queryParams(c, []);
          return send(c, viewValue(view, await actions.requireLive(idOf(c))));
        };
      },
    },
    {
      method: 'put',
      path,
      operationId: `${version}_put_${entity.name}_${view.name}`,
      summary: `Replace the ${view.name} of ${withArticle(entity.name)}`,
      description:
        'Validated and stored like a PUT of the whole record; metadata.warnings says what server rules reused or found twice.',
      tags,
      parameters: [idParam],
      requestBody: { required: true, content: json(schema) },
      responses: {
        200: answer,
        400: errorResponse('Not a JSON object'),
        404: errorResponse('No such record'),
        409: errorResponse('Conflict'),
        422: errorResponse('Validation failed'),
      },
      permission: [[entity, 'update']],
      middleware,
      handler: (services) => {
        const { actions, idOf, send, tag } = kit(services);
        return async (c) => {
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
        };
      },
    },
  ];
}

/** A view's value: one field's schema, or an object of several. */
function viewSchema(entity: EntityDef, view: ViewDef, model: Model): JsonSchema {
  const prefixes = idPrefixes(model);
  const of = (path: readonly string[]) => fieldSchema(resolvePath(entity, path)!, prefixes, true);
  if (view.field) return of(view.field);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(view.fields!).map(([key, path]) => [key, of(path)])),
  };
}
