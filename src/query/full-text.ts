// Full text over an entity's `searchable` fields: codegen stores a generated tsvector column with
// a GIN index, and `q=` matches it with websearch syntax and ranks by ts_rank_cd.
import { walkFields } from '../registry/compile.ts';
import type { EntityDef, FieldDef } from '../registry/model.ts';

/** Stemming for English, which is what the production teams write in. */
export const TEXT_SEARCH_CONFIG = 'english';
/** Long texts are cut before indexing: tsvector values are limited to 1 MB. */
const MAX_INDEXED_CHARACTERS = 100_000;

export function searchableFields(entity: EntityDef): FieldDef[] {
  return [...walkFields(entity.fields)].filter((f) => f.searchable);
}

/**
 * The generated column's expression. Short strings (titles, names) weigh more than long texts
 * (descriptions, notes, scripts) in the ranking. Names come from the registry only.
 */
export function searchVectorExpression(entity: EntityDef): string | undefined {
  const fields = searchableFields(entity);
  if (fields.length === 0) return undefined;
  return fields
    .map((field) => {
      const [top, ...rest] = field.path;
      const document = findTop(entity, top!)?.storage === 'document';
      const column = document ? 'doc' : top!;
      const jsonPath = document ? field.path : rest;
      let text = jsonPath.length === 0 ? `"${column}"` : `("${column}" #>> '{${jsonPath.join(',')}}')`;
      if (field.maxLength === undefined || field.maxLength > MAX_INDEXED_CHARACTERS)
        text = `left(${text}, ${MAX_INDEXED_CHARACTERS})`;
      const weight = field.type === 'string' ? 'A' : 'B';
      return `setweight(to_tsvector('${TEXT_SEARCH_CONFIG}'::regconfig, coalesce(${text}, '')), '${weight}')`;
    })
    .join(' || ');
}

const findTop = (entity: EntityDef, name: string) => entity.fields.find((f) => f.name === name);
