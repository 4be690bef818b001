// The values of a normalized list field with their counts, for autocomplete (seed 8.16):
// GET /api/v1/episodes/tags?prefix=fa → [{"value": "fashion", "count": 12}, …]. Made for every
// list of strings whose items declare `normalize:`; the prefix is normalized the same way.
import type { EntityDef, FieldDef } from '../registry/model.ts';
import { normalizeText } from '../registry/normalize.ts';
import { ApiError } from '../records/errors.ts';
import { sendData } from './envelope.ts';
import { queryParams } from './params.ts';
import { collectionPath } from './paths.ts';
import type { Route } from './route.ts';
import { envelope, errorResponse, json } from './openapi/components.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const MAX_PREFIX = 200;

/** The list fields a values route is made for. */
export const countedValueFields = (entity: EntityDef): FieldDef[] =>
  entity.fields.filter((f) => f.type === 'array' && f.items?.type === 'string' && f.items.normalize !== undefined);

export function valueCountRoutes(entity: EntityDef, version: string): Route[] {
  return countedValueFields(entity).map((field) => {
    const mode = field.items!.normalize!;
    return {
      method: 'get',
      path: `${collectionPath(version, entity)}/${field.name.replace(/_/g, '-')}`,
      operationId: `${version}_${field.name}_of_${entity.plural}`,
      summary: `The ${field.name} of ${entity.plural} in use, most used first, with counts`,
      description: `For autocomplete: each value with how many live ${entity.plural} hold it. Values are stored normalized (${mode}); \`prefix\` is normalized the same way.`,
      tags: [entity.plural],
      parameters: [
        { name: 'prefix', in: 'query', description: 'Only values starting with this.', schema: { type: 'string' } },
        {
          name: '_limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
        },
      ],
      responses: {
        200: {
          description: 'Values and counts',
          content: json(
            envelope(
              {
                type: 'object',
                properties: { value: { type: 'string' }, count: { type: 'integer' } },
                required: ['value', 'count'],
              },
              true,
            ),
          ),
        },
        400: errorResponse('A bad prefix or _limit'),
      },
      permission: [[entity, 'read']],
      handler: (services) => {
        const store = services.stores.get(entity.name)!;
        return async (c) => {
          const params = queryParams(c, ['prefix', '_limit']);
          const prefix = normalizeText(params.get('prefix') ?? '', mode);
          if (prefix.length > MAX_PREFIX || prefix.includes('\u0000'))
            throw ApiError.single(
              400,
              'INVALID_QUERY',
              `prefix must be at most ${MAX_PREFIX} characters of text`,
              'prefix',
            );
          const limit = params.has('_limit') ? Number(params.get('_limit')) : DEFAULT_LIMIT;
          if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
            throw ApiError.single(400, 'INVALID_QUERY', `_limit must be an integer from 1 to ${MAX_LIMIT}`, '_limit');
          const values = await store.valueCounts(field, prefix, limit);
          return sendData(c, services.model, values, {
            entity,
            extra: { field: field.name, prefix, limit },
          });
        };
      },
    } satisfies Route;
  });
}
