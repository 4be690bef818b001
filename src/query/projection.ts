// `_fields`: keeps only the requested paths of a record (and always its id). Paths through a list
// of objects keep that field of every element.
import type { FieldTarget } from './ast.ts';
import { ownValue, setOwn } from '../registry/own.ts';

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (value: Json): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function copyPath(source: Json, target: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  const key = head!;
  // Keys inside free-form objects are the client's: `constructor` is data, not Object's.
  const value = isObject(source) ? ownValue(source, key) : undefined;
  if (rest.length === 0 || value === null || value === undefined) {
    if (!Object.hasOwn(target, key) || rest.length === 0) setOwn(target, key, value ?? null);
    return;
  }
  const existing = ownValue(target, key);
  if (Array.isArray(value)) {
    const elements = Array.isArray(existing) ? (existing as Json[]) : [];
    setOwn(
      target,
      key,
      value.map((element, index) => {
        const into = isObject(elements[index]) ? (elements[index] as JsonObject) : {};
        copyPath(element, into, rest);
        return into;
      }),
    );
    return;
  }
  const into = isObject(existing) ? existing : {};
  setOwn(target, key, into);
  copyPath(value, into, rest);
}

export function project<T extends { id: string }>(
  record: T,
  fields: readonly FieldTarget[],
): JsonObject & { id: string } {
  const out: JsonObject & { id: string } = { id: record.id };
  for (const field of fields) copyPath(record, out, field.path.split('.'));
  return out;
}

/** Table columns a projection needs (values inside `doc` need `doc`). */
export function projectedColumns(fields: readonly FieldTarget[]): string[] {
  return [...new Set(fields.map((f) => f.column))];
}
