// The records a write links to through its ref and refs values. Linking a record reads it (a
// missing id answers 409, an existing one 201) and ties it to the written one, so a write that
// links records of another entity needs read on that entity (issue 13 §1) — for the links it adds,
// not for links the record already had or fields the write leaves alone.
import type { FieldDef } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';
import { isPlainObject } from './record-input.ts';

/** A ref or refs field (its dotted path) and the entity its values name. */
export interface NewLink {
  readonly field: string;
  readonly to: string;
}

type Linked = Map<string, { to: string; ids: Set<string> }>;

const idOf = (link: unknown): string | undefined =>
  typeof link === 'string' ? link : isPlainObject(link) && typeof link.id === 'string' ? link.id : undefined;

/** Every id a value names through `field` (at any depth of objects and lists), by field path. */
function collect(field: FieldDef, value: unknown, at: string, into: Linked): void {
  if (value === null || value === undefined) return;
  const add = (id: string | undefined) => {
    if (id === undefined) return;
    const entry = into.get(at) ?? { to: field.to!, ids: new Set<string>() };
    entry.ids.add(id);
    into.set(at, entry);
  };
  if (field.type === 'ref') add(idOf(value));
  else if (field.type === 'refs' && Array.isArray(value)) value.forEach((link) => add(idOf(link)));
  else if (field.type === 'object' && field.fields && isPlainObject(value)) {
    for (const child of field.fields) collect(child, ownValue(value, child.name), `${at}.${child.name}`, into);
  } else if (field.type === 'array' && field.items && Array.isArray(value)) {
    for (const element of value) collect(field.items, element, at, into);
  }
}

function linked(fields: readonly FieldDef[], record: Record<string, unknown> | undefined): Linked {
  const into: Linked = new Map();
  if (record) for (const field of fields) collect(field, ownValue(record, field.name), field.name, into);
  return into;
}

/** The ref and refs fields of `values` that name a record `current` did not name there (all set ones on a create). */
export function newLinks(
  fields: readonly FieldDef[],
  values: Record<string, unknown>,
  current: Record<string, unknown> | undefined,
): NewLink[] {
  const before = linked(fields, current);
  const links: NewLink[] = [];
  for (const [field, { to, ids }] of linked(fields, values)) {
    const had = before.get(field)?.ids;
    if ([...ids].some((id) => !had?.has(id))) links.push({ field, to });
  }
  return links;
}
