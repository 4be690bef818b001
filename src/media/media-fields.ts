// The s3_uri fields of an entity that name one object each (top level or inside objects, never
// inside arrays): what GET /{plural}/{id}/media/{field} serves and, those with `media:` options,
// what POST /{plural}/register fills. Found from the registry, so a new field needs no code.
import type { MediaDef } from '../registry/media.ts';
import type { EntityDef, FieldDef } from '../registry/model.ts';

export interface FieldAtPath {
  /** The dotted path clients use, e.g. `wardrobe.main_outfit.overall_image`. */
  readonly name: string;
  readonly path: readonly string[];
  readonly field: FieldDef;
}

/** Every s3_uri field outside arrays, in declaration order. */
export function s3UriFields(entity: EntityDef): FieldAtPath[] {
  const found: FieldAtPath[] = [];
  const walk = (fields: readonly FieldDef[], at: readonly string[]) => {
    for (const field of fields) {
      const path = [...at, field.name];
      if (field.type === 's3_uri') found.push({ name: path.join('.'), path, field });
      else if (field.type === 'object' && field.fields) walk(field.fields, path);
    }
  };
  walk(entity.fields, []);
  return found;
}

/** An s3_uri field with media options: uploadable, registrable, checked on direct writes. */
export interface MediaField extends FieldAtPath {
  readonly media: MediaDef;
}

/** The s3_uri fields with media options (uploadable, registrable, checked on direct writes). */
export function mediaFields(entity: EntityDef): MediaField[] {
  return s3UriFields(entity).flatMap((f) => (f.field.media ? [{ ...f, media: f.field.media }] : []));
}

/** The field at a dotted path among `fields`, or undefined (names are compared as strings, never used as keys). */
export function fieldNamed(fields: readonly FieldAtPath[], name: string): FieldAtPath | undefined {
  return fields.find((f) => f.name === name);
}

/** The value at a path of a record; undefined when any step is missing. */
export function valueAtPath(record: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let value: unknown = record;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
