// `_fields`: keeps only the requested paths of a record (and always its id). Paths through a list
// of objects keep that field of every element.
import type { FieldTarget } from './ast.ts';

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function copyPath(source: Json, target: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  const value = isObject(source) ? source[head!] : undefined;
  if (rest.length === 0 || value === null || value === undefined) {
    if (!(head! in target) || rest.length === 0) target[head!] = value ?? null;
    return;
  }
  if (Array.isArray(value)) {
    const existing = Array.isArray(target[head!]) ? (target[head!] as Json[]) : [];
    target[head!] = value.map((element, index) => {
      const into = isObject(existing[index]) ? (existing[index] as JsonObject) : {};
      copyPath(element, into, rest);
      return into;
    });
    return;
  }
  const into = isObject(target[head!]) ? (target[head!] as JsonObject) : {};
  target[head!] = into;
  copyPath(value, into, rest);
}

export function project<T extends { id: string }>(record: T, fields: readonly FieldTarget[]): JsonObject & { id: string } {
  const out: JsonObject & { id: string } = { id: record.id };
  for (const field of fields) copyPath(record, out, field.path.split('.'));
  return out;
}

/** Table columns a projection needs (values inside `doc` need `doc`). */
export function projectedColumns(fields: readonly FieldTarget[]): string[] {
  return [...new Set(fields.map((f) => f.column))];
}
