// The JSON Schema of an entity as an older API version sees it: the current schema with the
// upgrade steps since that version undone, so /openapi.json documents /api/v1 in its own shape.
import type { EntityDef, FieldPath, UpgradeStep } from '../../registry/model.ts';

type JsonSchema = Record<string, unknown>;

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The object schema holding the last segment of `path`, created on the way when `create`. */
function parentOf(schema: JsonSchema, path: FieldPath, create: boolean): JsonSchema | undefined {
  let node = schema;
  for (const key of path.slice(0, -1)) {
    node.properties ??= {};
    const properties = node.properties as JsonSchema;
    if (!isObject(properties[key])) {
      if (!create) return undefined;
      properties[key] = { type: ['object', 'null'], additionalProperties: false, properties: {} };
    }
    node = properties[key] as JsonSchema;
  }
  return node;
}

function take(schema: JsonSchema, path: FieldPath): { property: JsonSchema; required: boolean } | undefined {
  const parent = parentOf(schema, path, false);
  const name = path.at(-1)!;
  const properties = parent?.properties as JsonSchema | undefined;
  if (!parent || !isObject(properties?.[name])) return undefined;
  const property = properties[name] as JsonSchema;
  delete properties[name];
  const required = Array.isArray(parent.required) && parent.required.includes(name);
  if (required) parent.required = (parent.required as string[]).filter((n) => n !== name);
  return { property, required };
}

function put(schema: JsonSchema, path: FieldPath, property: JsonSchema, required: boolean): void {
  const parent = parentOf(schema, path, true)!;
  const name = path.at(-1)!;
  (parent.properties as JsonSchema)[name] = property;
  if (required) parent.required = [...((parent.required as string[] | undefined) ?? []), name];
}

const TEXT = { type: ['string', 'null'] };

function undo(schema: JsonSchema, step: UpgradeStep): void {
  switch (step.kind) {
    case 'rename':
    case 'move': {
      const moved = take(schema, step.to);
      if (moved) put(schema, step.from, moved.property, moved.required);
      return;
    }
    case 'split':
      for (const path of step.to) take(schema, path);
      put(schema, step.from, TEXT, false);
      return;
    case 'join':
      take(schema, step.to);
      for (const path of step.from) put(schema, path, TEXT, false);
      return;
    case 'map_values': {
      const field = parentOf(schema, step.field, false);
      const property = (field?.properties as JsonSchema | undefined)?.[step.field.at(-1)!];
      if (!isObject(property) || !Array.isArray(property.enum)) return;
      // An older version took the old values; the current ones stay accepted (they map to themselves).
      property.enum = [...new Set([...property.enum, ...Object.keys(step.map)])];
      return;
    }
    default:
      return;
  }
}

export function schemaForVersion(schema: JsonSchema, entity: EntityDef, schemaVersion: number): JsonSchema {
  const older = structuredClone(schema);
  const steps = entity.upgrades
    .filter((u) => u.version > schemaVersion)
    .flatMap((u) => u.steps)
    .reverse();
  for (const step of steps) undo(older, step);
  older['x-schema-version'] = schemaVersion;
  return older;
}
