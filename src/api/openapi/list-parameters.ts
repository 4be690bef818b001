// The list query language as OpenAPI parameters (filter, _fields, _sort, paging, _count, q,
// include_deleted, presets and a filter per field), shared by every list-shaped route.
import { fieldType } from '../../registry/types.ts';
import type { JsonSchema } from '../../registry/json-schema.ts';
import { EXACT_COUNT_LIMIT } from '../../db/counting.ts';
import { searchableFields } from '../../query/full-text.ts';
import { operatorsFor } from '../../query/operators.ts';
import { LIST_LIMIT, MAX_QUERY_BYTES } from '../../query/parse.ts';
import { MAX_DEPTH } from '../../query/parse-filter.ts';
import { MAX_CONDITIONS } from '../../query/problems.ts';
import { resolveTarget } from '../../query/targets.ts';
import { hasSoftDelete, type EntityDef, type FieldDef } from '../../registry/model.ts';
import type { Parameter } from '../route.ts';

/** The paging parameters, which an export does not take. */
export const PAGING_PARAMETERS: readonly string[] = ['_limit', '_offset', '_cursor', '_count'];

export function listParameters(entity: EntityDef, nameOf: (field: string) => string = (field) => field): Parameter[] {
  const params: Parameter[] = [
    {
      name: 'filter',
      in: 'query',
      description:
        `A JSON filter in Directus's form: \`_and\`, \`_or\`, \`_not\`, fields by name, dot path or nested objects, operators prefixed with _, e.g. ` +
        `\`{"_or":[{"status":{"_eq":"published"}},{"wardrobe":{"shoes":{"brand":{"_eq":"Gucci"}}}}]}\`. ` +
        `At most ${MAX_CONDITIONS} conditions and ${MAX_DEPTH} levels of nesting; the whole query string at most ${MAX_QUERY_BYTES} bytes.`,
      schema: { type: 'string' },
    },
    FIELDS_PARAMETER,
    {
      name: '_sort',
      in: 'query',
      description:
        'Comma-separated fields or dot paths; prefix with - for descending, e.g. `-duration_seconds,title`. Missing values sort as the largest (last ascending, first descending); ties break on id.',
      schema: { type: 'string' },
    },
    {
      name: '_limit',
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default },
    },
    { name: '_offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
    {
      name: '_cursor',
      in: 'query',
      description: 'Keyset pagination: metadata.next_cursor of the previous page, with the same _sort.',
      schema: { type: 'string' },
    },
    {
      name: '_count',
      in: 'query',
      description: `How metadata.total is computed. Default: exact up to ${EXACT_COUNT_LIMIT} matches, the planner's estimate above (metadata.total_is_estimate).`,
      schema: { enum: ['exact', 'estimated', 'none'] },
    },
  ];
  if (searchableFields(entity).length > 0) {
    params.push({
      name: 'q',
      in: 'query',
      description: `Full-text search (websearch syntax: words, "quoted phrases", or, -excluded) over ${searchableFields(
        entity,
      )
        .map((f) => f.path.join('.'))
        .join(', ')}; ranked unless _sort is given.`,
      schema: { type: 'string' },
    });
  }
  if (hasSoftDelete(entity)) {
    params.push({
      name: 'include_deleted',
      in: 'query',
      description: 'Also list soft-deleted records.',
      schema: { type: 'boolean', default: false },
    });
  }
  for (const preset of entity.presets) {
    params.push({
      name: preset.name,
      in: 'query',
      description: `${preset.description ? `${preset.description} ` : ''}A preset: true adds the filter \`${JSON.stringify(preset.filter)}\`, false its negation.`,
      schema: { type: 'boolean' },
    });
  }
  for (const field of entity.fields) {
    const resolved = resolveTarget(entity, field.name);
    if ('error' in resolved || resolved.target.kind === 'group') continue;
    const name = nameOf(field.name);
    params.push({
      name,
      in: 'query',
      description: `Equality filter on ${name}; \`${name}[op]=value\` with op one of ${operatorsFor(resolved.target).join(', ')}. Fields inside objects filter by dot path.`,
      schema: filterSchema(field.type === 'array' ? field.items! : field),
    });
  }
  return params;
}

export const filterSchema = (field: FieldDef): JsonSchema => fieldType(field.type).parameter(field);

/** `_fields`, on lists and on a single GET. */
export const FIELDS_PARAMETER: Parameter = {
  name: '_fields',
  in: 'query',
  description:
    'Comma-separated fields or dot paths to return, e.g. `title,backgrounds,wardrobe.shoes.brand,schema_version`; id is always returned.',
  schema: { type: 'string' },
};
