// The audit trail's table as a platform entity: not in registry/ (clients never write it), but
// described with the same EntityDef so codegen derives its table and migration like any other,
// and the list query language (filters, _sort, paging, _fields) works on it unchanged.
import { DEFAULT_PERMISSIONS, type EntityDef, type FieldDef, type FieldType } from '../registry/model.ts';

/** What an audit row records; `revert` points at the entry it undid through `reverts`. */
export const AUDIT_OPERATIONS = ['create', 'update', 'delete', 'restore', 'hard_delete', 'revert', 'activate'] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

const SOURCE = { file: 'src/audit/audit-entity.ts', path: 'fields' } as const;

/** The field helper of a platform entity declared in `file`: read-only columns, unindexed unless told. */
export function platformField(file: string) {
  return (name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef => ({
    name,
    path: [name],
    type,
    required: false,
    indexed: false,
    searchable: false,
    storage: 'column',
    deprecated: false,
    readOnly: true,
    source: { file, path: `fields.${name}` },
    ...extra,
  });
}

/**
 * A platform entity from what sets it apart; the rest is what no platform entity has (mixins,
 * parts, unique sets, presets, views, upgrades), and its route and table follow its plural.
 */
export function platformEntity(
  def: Pick<EntityDef, 'name' | 'plural' | 'idPrefix' | 'description' | 'fields' | 'permissions' | 'file'> &
    Partial<Pick<EntityDef, 'route' | 'unique'>>,
): EntityDef {
  return {
    route: def.plural.replace(/_/g, '-'),
    table: def.plural,
    schemaVersion: 1,
    mixins: [],
    parts: [],
    unique: [],
    duplicateWarnings: [],
    presets: [],
    queryAliases: [],
    rules: [],
    views: [],
    reserved: [],
    upgrades: [],
    ...def,
  };
}

const field = platformField(SOURCE.file);

export const AUDIT_ENTITY: EntityDef = platformEntity({
  name: 'audit_entry',
  plural: 'audit_entries',
  route: 'audit',
  idPrefix: 'aud',
  description: 'One write to a record: who, when, what changed (field-level), and the state before.',
  fields: [
    field('at', 'datetime', { required: true, indexed: true, description: 'When the change was made.' }),
    field('actor', 'string', {
      maxLength: 200,
      description: "Who made it: the token's subject, or X-Actor with AUTH_MODE=off.",
    }),
    field('entity', 'string', { required: true, maxLength: 100, description: 'The entity of the changed record.' }),
    field('record_id', 'string', { required: true, maxLength: 100, description: 'The id of the changed record.' }),
    field('operation', 'enum', { required: true, values: AUDIT_OPERATIONS, description: 'What was done.' }),
    field('request_id', 'string', { maxLength: 200, description: 'The X-Request-Id of the request.' }),
    field('changes', 'array', {
      required: true,
      items: { ...field('items', 'object'), path: ['changes', 'items'] },
      description: 'Leaf-level differences {path, old, new}; nested objects by dotted path, lists whole.',
    }),
    field('before', 'object', { description: 'The whole record before the change (null for a create).' }),
    field('reverts', 'string', { maxLength: 100, description: 'For a revert: the audit entry it undid.' }),
    field('details', 'object', { description: 'What else the change did, e.g. cascaded deletes counted by plural.' }),
  ],
  // Entries hold whole records as they were (contact details included): editors and admins only.
  permissions: { ...DEFAULT_PERMISSIONS, read: 'editor' },
  file: SOURCE.file,
});
