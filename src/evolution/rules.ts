// The compatibility rules: every change `registry:check` can find, whether it is breaking, and what
// makes a breaking one acceptable. Modelled on Confluent Schema Registry's BACKWARD_TRANSITIVE
// mode (the current registry must read every record stored under a served release) and on buf's
// breaking-change rules (removed names stay reserved). `npm run codegen` writes the table of them,
// docs/reference/compatibility-rules.md (src/codegen/docs.ts).

/**
 * What a breaking change needs to pass:
 * - `step`: a major registry_version bump and an upgrade step of the entity (in a schema_version
 *   after the release's) that names the field the right way;
 * - `major`: a major bump alone (no declarative step can transform the stored values; the
 *   migration validates them);
 * - `never`: nothing makes it acceptable.
 */
export type Needs = 'nothing' | 'step' | 'major' | 'never';

export interface Rule {
  readonly verdict: 'compatible' | 'breaking' | 'error';
  /** The smallest registry_version bump the change needs. */
  readonly level: 'patch' | 'minor' | 'major';
  readonly needs: Needs;
  /** For the reference table: what the change is. */
  readonly what: string;
  /** For the reference table: what makes it pass (breaking rules). */
  readonly cover?: string;
}

const step = (what: string, cover: string): Rule => ({
  verdict: 'breaking',
  level: 'major',
  needs: 'step',
  what,
  cover,
});
const major = (
  what: string,
  cover = 'a major bump (stored values must already fit: the migration validates them)',
): Rule => ({
  verdict: 'breaking',
  level: 'major',
  needs: 'major',
  what,
  cover,
});
const never = (what: string, cover: string): Rule => ({
  verdict: 'breaking',
  level: 'major',
  needs: 'never',
  what,
  cover,
});
const compatible = (what: string, level: 'patch' | 'minor' = 'minor'): Rule => ({
  verdict: 'compatible',
  level,
  needs: 'nothing',
  what,
});

export const RULES = {
  // Breaking: a major bump plus an upgrade step.
  FIELD_REMOVED: step(
    'a field removed',
    'major bump, the name in `reserved` (top-level fields), and a `remove` step or a `rename`/`move`/`split`/`join` away from it',
  ),
  FIELD_RENAMED: step(
    'a field renamed or moved (found through a `rename`/`move` step, or guessed from a removed and an added field of the same shape)',
    'major bump, the `rename`/`move` step, and the old name in `reserved` (top-level fields)',
  ),
  MADE_REQUIRED: step(
    'an optional field became required',
    'major bump and a `set_default` step on the field (the only step that gives every stored record a value; the column is NOT NULL for new writes, older rows get the value when read)',
  ),
  REQUIRED_ADDED_WITHOUT_DEFAULT: step(
    'a new required field without a `default`',
    'major bump and a `set_default` step on the field (as for MADE_REQUIRED)',
  ),
  ENUM_VALUE_REMOVED: step('an enum value removed', 'major bump and a `map_values` step mapping the removed value'),
  // Breaking: a major bump.
  MAX_LENGTH_LOWERED: major('`max_length` lowered or added'),
  MAX_ITEMS_LOWERED: major('`max_items` lowered or added'),
  MAXIMUM_LOWERED: major('`maximum` lowered or added'),
  MINIMUM_RAISED: major('`minimum` raised or added'),
  PATTERN_ADDED: major('a `pattern` added'),
  PATTERN_CHANGED: major("a `pattern` or an enum's `other_pattern` changed or (`other_pattern`) removed"),
  AT_LEAST_ADDED: major('an `at_least` comparison added or changed'),
  ALIAS_REMOVED: major(
    'an enum alias removed or pointed at another value (clients writing it get a 422)',
    'a major bump (stored values are canonical)',
  ),
  TRANSITION_REMOVED: major(
    'an enum transition removed, or transitions added to an enum without them',
    'a major bump (stored values are unaffected)',
  ),
  REQUIRED_DEFAULT_REMOVED: major('a required field lost its `default` (clients must now send it)', 'a major bump'),
  MADE_READ_ONLY: major(
    'a writable field became read-only (`read_only`, or a `count`): its writes are no longer stored, and a create or update whose body sets it to another value than the stored one says so in `metadata.warnings` (`READ_ONLY_IGNORED`, for every field a release had writable)',
    'a major bump (clients that write it must stop)',
  ),
  ROLE_NARROWED: major('a `refs` role became required, lost a value, got a value list or a lower `max_length`'),
  ROLE_REMOVED: major('a `refs` field lost its role', 'a major bump'),
  UNIQUE_ADDED: major(
    'a `unique` set added (unless an existing set is a subset of it)',
    'a major bump (the unique index is built on live records: they must not clash)',
  ),
  ENTITY_REMOVED: major('an entity removed', 'a major bump'),
  VIEW_REMOVED: major('a view (`/{plural}/{id}/{view}`) removed', 'a major bump'),
  VIEW_CHANGED: major('a view maps to other fields', 'a major bump'),
  PART_REMOVED: major('a part (`/{plural}/{id}/{part}`) removed', 'a major bump'),
  PART_CHANGED: major('a part names another entity, ref or `where`', 'a major bump'),
  VERSIONS_CHANGED: major('`versions` names other fields or entity', 'a major bump'),
  PRESET_REMOVED: major('a preset (`?name=true`) removed', 'a major bump'),
  QUERY_ALIAS_REMOVED: major(
    'a query alias (`?talent=`) removed, or its paths or values changed: queries using it answer 400 or match other records',
    'a major bump',
  ),
  RESERVED_REMOVED: major('a name taken out of `reserved`', 'a major bump (and the name still may not be reused)'),
  UPGRADES_REWRITTEN: major(
    'upgrade steps of an already released schema_version changed',
    'a major bump (records already upgraded the old way are not redone)',
  ),
  // Breaking: never.
  TYPE_CHANGED: never(
    "a field's type changed (other than a widening), `integer` → `number` included",
    'nothing: no upgrade step turns stored values into another type, and the column keeps its type; add a field under a new name (and remove or rename the old one)',
  ),
  REF_TARGET_CHANGED: never(
    'a `ref`/`refs` field points at another entity',
    'nothing: stored values point at records of the old entity; add a field under a new name',
  ),
  PLURAL_CHANGED: never(
    "an entity's `plural` (table and URL) changed",
    'nothing: the table is named after it, and its records would be left behind under the old name; keep the plural',
  ),
  ID_PREFIX_CHANGED: never(
    "an entity's `id_prefix` changed",
    'nothing: stored records keep their ids, which the new prefix no longer matches (they would answer 404)',
  ),
  REF_CARDINALITY_CHANGED: never(
    '`ref` ↔ `refs` (one target ↔ many)',
    'nothing: one target lives in a column, many in a junction table, and no upgrade step moves stored links; add a field under a new name',
  ),
  RESERVED_NAME_REUSED: never(
    'a field takes a name that is reserved or that a served release removed',
    'nothing: choose another name (records stored before still hold the old values)',
  ),
  SCHEMA_VERSION_LOWERED: never(
    "an entity's `schema_version` went down",
    'nothing: stored records carry the higher version',
  ),
  // Compatible.
  FIELD_ADDED: compatible('a new optional field, or a required one with a `default`'),
  ENTITY_ADDED: compatible('a new entity'),
  DEFAULT_ADDED: compatible('a `default` added'),
  DEFAULT_CHANGED: compatible('a `default` changed (new records only)'),
  DEFAULT_REMOVED: compatible('an optional field lost its `default`'),
  ENUM_VALUE_ADDED: compatible('a new enum value'),
  ALIAS_ADDED: compatible('a new enum alias'),
  TRANSITION_ADDED: compatible("an enum transition added, or an enum's transitions removed"),
  LIMIT_RELAXED: compatible(
    '`max_length`, `max_items`, `maximum` raised or removed; `minimum` lowered or removed; `pattern` or `at_least` removed; `other_pattern` added; a role relaxed',
  ),
  MADE_OPTIONAL: compatible('a required field became optional'),
  TYPE_WIDENED: compatible('`string` → `text` (the same column type)'),
  INDEX_ADDED: compatible('`indexed: true` added'),
  INDEX_REMOVED: compatible('`indexed: true` removed'),
  UNIQUE_REMOVED: compatible('a `unique` set removed'),
  DEPRECATED: compatible(
    'a field marked `deprecated`: still readable; a write that leaves it out or repeats its value keeps it, one that changes it is refused (422 `FIELD_DEPRECATED`), never dropped',
  ),
  OPTION_CHANGED: compatible(
    "another option changed: `searchable`, `storage`, `read_only` removed, `on_delete`, `sequence`, `count` or `link_roles` changed or removed, `library`, `duplicate_warnings`, a role added, an API version's dates",
  ),
  VIEW_ADDED: compatible('a new view'),
  VIEW_BECAME_PART: compatible(
    'a view replaced by a part at the same route (GET answers its fields and more; PUT takes them)',
  ),
  PART_ADDED: compatible('a new part'),
  VERSIONS_ADDED: compatible('`versions` declared'),
  PRESET_ADDED: compatible('a new preset'),
  PRESET_CHANGED: compatible("a preset's filter changed"),
  QUERY_ALIAS_ADDED: compatible('a new query alias'),
  BEHAVIOUR_CHANGED: compatible(
    "an entity's `schedule`, `expiry` or `conversion` added, changed or removed (routes and server-side writes, not stored shapes)",
  ),
  RESERVED_ADDED: compatible('a name added to `reserved`'),
  SCHEMA_VERSION_RAISED: compatible("an entity's `schema_version` raised, with its upgrade steps"),
  API_VERSION_ADDED: compatible('an API version added to `api_versions`'),
  API_VERSION_REMOVED: compatible('an API version no longer served'),
  DESCRIPTION_CHANGED: compatible('a description changed', 'patch'),
  CONTRACT_CHANGED: compatible('any other difference between the contracts'),
  // Not a change: the registry_version does not say what changed.
  VERSION_NOT_BUMPED: {
    verdict: 'error',
    level: 'patch',
    needs: 'never',
    what: 'the contract changed since the last release but registry_version was not raised enough (major for breaking changes, minor for others, patch for descriptions only)',
    cover: 'raise `registry_version` as the message says',
  },
} as const satisfies Record<string, Rule>;

export type RuleCode = keyof typeof RULES;

export const RULE_CODES = Object.keys(RULES) as RuleCode[];
