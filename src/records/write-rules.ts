// Server rules that run on a write after validation and before storing, inside the write's
// transaction: the generic library mirror (an object's S3 URIs linked to shared assets) and the
// few domain rules config cannot express (src/domain). A rule may change the values, create or
// find records of other entities, and leave warnings for the response.
import { isDeepStrictEqual } from 'node:util';
import type { DatabaseConnection } from 'slonik';
import type { StoredRecord } from '../db/records.ts';
import { findEntity, findField, type EntityDef, type FieldDef, type Model } from '../registry/model.ts';
import type { Warning } from './duplicates.ts';
import type { EntityActions } from './entity-actions.ts';
import { isPlainObject } from './record-input.ts';
import type { WriteMeta } from '../audit/write-meta.ts';

export type Values = Record<string, unknown>;

export interface WriteContext {
  readonly tx: DatabaseConnection;
  /** Another entity's actions, to find or create related records in the same transaction. */
  readonly actionsOf: (entity: string) => EntityActions;
  readonly warnings: Warning[];
  /** Who and which request the write comes from, for the audit rows of the records rules write. */
  readonly meta?: WriteMeta;
}

/** `current` is the stored record on an update, undefined on a create. */
export type WriteRule = (values: Values, current: StoredRecord | undefined, ctx: WriteContext) => Promise<void>;

/** Whether a write changes this field (always true on a create). */
export const changes = (values: Values, current: StoredRecord | undefined, name: string): boolean =>
  !current || !isDeepStrictEqual(values[name] ?? null, current[name] ?? null);

interface Slot {
  /** The URI's path inside the object, e.g. `screen_accessories.custom.0.file`. */
  readonly role: string;
  readonly uri: string;
  /** A name for a library record created for it: the element's `name`, else the slot. */
  readonly name: string;
}

/** Every S3 URI inside an object value, with its slot path. */
function slots(fields: readonly FieldDef[], value: Values, prefix: string, out: Slot[], elementName?: string): Slot[] {
  for (const field of fields) {
    const v = value[field.name];
    const at = prefix ? `${prefix}.${field.name}` : field.name;
    if (field.type === 's3_uri' && typeof v === 'string') out.push({ role: at, uri: v, name: elementName ?? at });
    if (field.type === 'object' && field.fields && isPlainObject(v)) slots(field.fields, v, at, out, elementName);
    if (field.type === 'array' && Array.isArray(v)) {
      v.forEach((element, index) => {
        const item = field.items!;
        if (item.type === 's3_uri' && typeof element === 'string')
          out.push({ role: `${at}.${index}`, uri: element, name: `${at} ${index + 1}` });
        if (item.type === 'object' && item.fields && isPlainObject(element)) {
          const named = typeof element.name === 'string' ? element.name : `${at} ${index + 1}`;
          slots(item.fields, element, `${at}.${index}`, out, named);
        }
      });
    }
  }
  return out;
}

/**
 * `library: { refs, match, name }` on an object field: on every write that changes the object,
 * each S3 URI in it is linked, with its slot as the role, to the live library record whose
 * `match` field is that URI; a URI not in the library yet becomes a new record named by `name`.
 */
export function libraryMirror(entity: EntityDef, field: FieldDef, model: Model): WriteRule {
  const { refs, match, name } = field.library!;
  const library = findEntity(model, findField(entity, refs)!.to!)!;
  return async (values, current, ctx) => {
    if (!changes(values, current, field.name)) return;
    const value = values[field.name];
    const found = isPlainObject(value) ? slots(field.fields ?? [], value, '', []) : [];
    const actions = ctx.actionsOf(library.name);
    const links: { id: string; role: string }[] = [];
    await actions.lockMatches(
      found.map((slot) => ({ [match]: slot.uri })),
      ctx,
    );
    for (const slot of found) {
      const { record } = await actions.findOrCreate(
        { [match]: slot.uri },
        { [match]: slot.uri, [name]: slot.name.slice(0, 200) },
        ctx,
      );
      links.push({ id: record.id, role: slot.role });
    }
    values[refs] = links;
  };
}
