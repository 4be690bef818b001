// POST /{plural}/{id}/convert for an entity that declares `conversion:` (seed 8.9: a guest who
// registers). The work is records/conversion.ts; this is its route table entry.
import { findEntity, withArticle, type EntityDef, type Model } from '../registry/model.ts';
import { convert, MAX_HANDED_OVER } from '../records/conversion.ts';
import { readJsonBody } from './body.ts';
import { writeMeta } from './audit-routes.ts';
import type { EntityKit } from './entity-kit.ts';
import { recordPath } from './paths.ts';
import type { Route } from './route.ts';
import type { RouteServices } from './route-services.ts';
import { envelope, errorResponse, idParam, json } from './openapi/components.ts';

export function conversionRoutes(
  model: Model,
  entity: EntityDef,
  version: string,
  kitOf: (services: RouteServices) => EntityKit,
  middleware: Route['middleware'],
): Route[] {
  const conversion = entity.conversion;
  if (!conversion) return [];
  const handOvers = conversion.handOver
    .map(
      (h) =>
        `${findEntity(model, h.entity)?.plural ?? h.entity} where ${Object.entries(h.where)
          .map(([path, value]) => `${path} = ${value}`)
          .join(' and ')} get it as ${h.set}`,
    )
    .join('; ');
  return [
    {
      method: 'post',
      path: `${recordPath(version, entity)}/convert`,
      operationId: `${version}_convert_${entity.name}`,
      summary: `Convert ${withArticle(entity.name)} to a registered user`,
      description:
        `Body {"${conversion.user}": "…"}: sets ${conversion.user} (converting again to the same user changes nothing; to another is 409) and hands the records over in the same transaction: ${handOvers}. ` +
        `Every write is audited as the caller; metadata.handed_over counts the records by plural. At most ${MAX_HANDED_OVER} records of one entity.`,
      tags: [entity.plural],
      parameters: [idParam],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: [conversion.user],
          properties: { [conversion.user]: { type: 'string' } },
        }),
      },
      responses: {
        200: { description: 'The record as converted', content: json(envelope({})) },
        400: errorResponse(`No ${conversion.user}`),
        404: errorResponse('No such record'),
        409: errorResponse(`ALREADY_CONVERTED to another user, or TOO_MANY_RECORDS to hand over`),
      },
      // The hand-overs update the other entities' records: their update permission is checked per write too.
      permission: [[entity, 'update']],
      middleware,
      handler: (services) => {
        const kit = kitOf(services);
        const entities = services.model.entities;
        const ctx = {
          pool: services.pool,
          entities,
          actionsOf: (name: string) => services.actionsOf.get(name)!,
        };
        return async (c) => {
          const id = kit.idOf(c);
          const { record, handedOver } = await convert(ctx, entity, id, await readJsonBody(c), writeMeta(c));
          return kit.send(c, kit.outFor(c)(kit.tag(c, record)), { extra: { handed_over: handedOver } });
        };
      },
    },
  ];
}
