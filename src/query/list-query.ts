// The whole query pipeline in one call, for callers that speak the current model (no API-version
// transform): parse → resolve. compile-sql.ts takes the result.
import type { EntityDef } from '../registry/model.ts';
import type { ListQuery } from './ast.ts';
import { parseQuery } from './parse.ts';
import { resolveQuery } from './resolve.ts';
import type { QueryTransformer } from './transform.ts';

/**
 * `query` is the raw query string (without the leading `?`) or its parameters. With `entities`,
 * filters may follow ref and refs fields into related records (`outfits.items.brand=Zara`);
 * `transform` rewrites the parsed query first (an older API version's renames).
 */
export function parseListQuery(
  entity: EntityDef,
  query: string | URLSearchParams,
  entities?: readonly EntityDef[],
  transform?: QueryTransformer,
): ListQuery {
  const parsed = parseQuery(query);
  return resolveQuery(entity, transform ? transform.transformQuery(parsed) : parsed, entities);
}
