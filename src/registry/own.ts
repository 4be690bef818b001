// Client names (query keys, body keys, enum values) meet plain objects in many places. A name
// such as `constructor`, `toString` or `__proto__` exists on every object through
// Object.prototype: reading it must not find the inherited member, and writing it must create a
// property rather than set the object's prototype.

/** A JSON object (not null, not an array): what a body or a document must be before its keys are read. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value of `key` when `record` has it as its own property; otherwise undefined. */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined | null, key: string): T | undefined {
  return record !== undefined && record !== null && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Sets `key` as an own, enumerable data property. `__proto__` is the one name whose assignment
 * does something else on a plain object (it replaces the prototype), so only it is defined.
 */
export function setOwn(record: object, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else (record as Record<string, unknown>)[key] = value;
}

/** The value at a path of nested JSON objects, by own properties only; undefined when any step is missing. */
export function valueAtPath(record: unknown, path: readonly string[]): unknown {
  let value = record;
  for (const key of path) {
    if (!isJsonObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}
