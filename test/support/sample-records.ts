// Records any registry accepts, made from its model alone: for each entity a full one (every
// writable field the generator knows a value for) and a minimal one (required fields only), so a
// migration meets both filled and empty columns. Values are small and distinct per record, so that
// they fit any limit a change might lower to and clash with no unique set.
import type { EntityDef, FieldDef, Model } from '../../src/registry/model.ts';
import type { TestService } from './service.ts';

type Json = Record<string, unknown>;

function sampleValue(field: FieldDef, n: number, ids: ReadonlyMap<string, string>): unknown {
  switch (field.type) {
    case 'string':
    case 'text':
      return field.pattern ? undefined : `v${n}`;
    case 'integer':
    case 'number':
      return Math.min(field.maximum ?? n, Math.max(field.minimum ?? 0, n));
    case 'boolean':
      return n % 2 === 0;
    case 'date':
      return `2025-01-${String(1 + (n % 28)).padStart(2, '0')}`;
    case 'datetime':
      return `2025-01-01T00:00:${String(n % 60).padStart(2, '0')}Z`;
    case 'enum':
      return field.values?.[n % field.values.length];
    case 'url':
      return `https://example.com/${n}`;
    case 'ref':
      return field.to ? ids.get(field.to) : undefined;
    case 'array': {
      const item = field.items && sampleValue(field.items, n, ids);
      return item === undefined ? undefined : [item];
    }
    case 'object':
      return objectOf(field.fields ?? [], n, ids, true);
    default:
      // refs (links with roles) and s3_uri (an object that must exist in S3) are left out.
      return undefined;
  }
}

function objectOf(fields: readonly FieldDef[], n: number, ids: ReadonlyMap<string, string>, full: boolean): Json {
  const record: Json = {};
  for (const field of fields) {
    if (field.readOnly || field.storage === 'computed' || (!full && !field.required)) continue;
    const value = sampleValue(field, n, ids);
    if (value !== undefined) record[field.name] = value;
  }
  return record;
}

/** Entities in an order where each comes after the entities its required refs point at. */
function creationOrder(model: Model): EntityDef[] {
  const left = [...model.entities];
  const done = new Set<string>();
  const order: EntityDef[] = [];
  while (left.length > 0) {
    const next = left.findIndex((e) =>
      e.fields.every((f) => !(f.required && f.type === 'ref' && f.to && f.to !== e.name) || done.has(f.to)),
    );
    const [entity] = left.splice(next === -1 ? 0 : next, 1);
    order.push(entity!);
    done.add(entity!.name);
  }
  return order;
}

export interface SampleRecord {
  readonly entity: EntityDef;
  readonly id: string;
}

/** The API version that speaks the model's own shape (the one no older release pins). */
export const currentApi = (model: Model): string =>
  `/api/${(model.apiVersions.find((v) => !v.release) ?? model.apiVersions.at(-1)!).name}`;

/** Creates a full and a minimal record of each entity over HTTP; throws on any refusal. */
export async function createSampleRecords(service: TestService, model: Model): Promise<SampleRecord[]> {
  const ids = new Map<string, string>();
  const created: SampleRecord[] = [];
  let n = 1;
  for (const entity of creationOrder(model)) {
    for (const full of [true, false]) {
      const body = objectOf(entity.fields, n++, ids, full);
      const reply = await service.request<{ id: string }>('POST', `${currentApi(model)}/${entity.route}`, { body });
      if (reply.status !== 201)
        throw new Error(`sample ${entity.name} ${JSON.stringify(body)}: ${reply.status} ${JSON.stringify(reply.body)}`);
      ids.set(entity.name, reply.body.data.id);
      created.push({ entity, id: reply.body.data.id });
    }
  }
  return created;
}
