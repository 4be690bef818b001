// The s3_uri fields of an entity that name one object each (top level or inside objects, never
// inside arrays): what GET /{plural}/{id}/media/{field} serves and, those with `media:` options,
// what POST /{plural}/register fills. Found from the registry, so a new field needs no code.
import type { MediaDef } from '../registry/media.ts';
import type { EntityDef, FieldDef } from '../registry/model.ts';
import { isJsonObject, ownValue, setOwn } from '../registry/own.ts';

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

/** Sets `value` at a registry path of `target`, copying (or making) the objects on the way; returns `target`. */
export function setAtPath(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    setOwn(target, head!, value);
    return target;
  }
  const child = ownValue(target, head!);
  setOwn(target, head!, setAtPath(isJsonObject(child) ? { ...child } : {}, rest, value));
  return target;
}

/** `values` with the file's URI in its field, and the object's size and ETag in the field's companions. */
export function withFile(
  values: Record<string, unknown>,
  target: FieldAtPath,
  uri: string,
  object: { readonly size: number; readonly etag: string },
): Record<string, unknown> {
  setAtPath(values, target.path, uri);
  const media = target.field.media;
  if (media?.sizeField) setOwn(values, media.sizeField, object.size);
  if (media?.etagField) setOwn(values, media.etagField, object.etag);
  return values;
}
