// The breaking-change corpus: small before/after registries, each with the verdict `registry:check`
// must reach and the rule codes it must report. test/compatibility.test.ts checks the verdicts;
// test/check-codegen-agreement.test.ts runs codegen and the migration of every accepted one.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SHOW = `name: show
plural: shows
id_prefix: show
schema_version: 1
fields:
  title: { type: string, required: true }
`;

export const NETWORK = `name: network
plural: networks
id_prefix: net
schema_version: 1
fields:
  name: { type: string, required: true }
`;

export const EPISODE_FIELDS = `fields:
  title: { type: string, required: true, max_length: 300, description: Episode title. }
  status: { type: enum, values: [draft, published, archived], aliases: { live: published }, default: draft }
  season: { type: integer, minimum: 0, maximum: 100 }
  release_date: { type: date }
  slug: { type: string, max_length: 100 }
  show_id: { type: ref, to: show }
  tags: { type: array, max_items: 10, items: { type: string, max_length: 50 } }
  credits:
    type: object
    fields:
      director: { type: string, max_length: 200 }
      writer: { type: string, max_length: 200 }
`;

/** An episode's draft (main or teaser), with numbered versions when `versions` is given. */
export const draft = (versions = '') => `name: draft
plural: drafts
id_prefix: dr
schema_version: 1
unique:
  - [episode_id, kind]
${versions}fields:
  episode_id: { type: ref, to: episode, required: true }
  kind: { type: enum, values: [main, teaser], default: main }
  active: { type: integer, read_only: true }
`;
export const DRAFT_VERSION = `name: draft_version
plural: draft_versions
id_prefix: drv
schema_version: 1
fields:
  draft_id: { type: ref, to: draft, required: true }
  n: { type: integer, sequence: { within: [draft_id] } }
  body: { type: text }
  summary: { type: text }
`;
export const versionsOf = (text: string) =>
  `versions: { entity: draft_version, via: draft_id, number: n, active: active, text: ${text} }\n`;
export const drafts = (versions = '') => ({ entities: { draft: draft(versions), draft_version: DRAFT_VERSION } });
export const part = (name: string, kind: string) =>
  `  ${name}: { entity: draft, via: episode_id, where: { kind: ${kind} } }\n`;

export interface EpisodeOptions {
  /** schema_version (default 1). */
  readonly sv?: number;
  /** YAML between the header and `fields:` (reserved, upgrades, unique, views…). */
  readonly extra?: string;
  /** Edits the fields block. */
  readonly fields?: (yaml: string) => string;
}

export const episode = ({ sv = 1, extra = '', fields = (f) => f }: EpisodeOptions = {}) =>
  `name: episode\nplural: episodes\nid_prefix: ep\nschema_version: ${sv}\n${extra}${fields(EPISODE_FIELDS)}`;

export interface Registry {
  readonly version: string;
  readonly api?: string;
  /** Entity name → YAML; show and network are there unless replaced. */
  readonly entities?: Readonly<Record<string, string | null>>;
  readonly episode?: EpisodeOptions;
}

export function writeRegistry(dir: string, registry: Registry): void {
  rmSync(path.join(dir, 'entities'), { recursive: true, force: true });
  mkdirSync(path.join(dir, 'entities'), { recursive: true });
  const entities: Record<string, string | null> = {
    show: SHOW,
    network: NETWORK,
    episode: episode(registry.episode),
    ...registry.entities,
  };
  const names = Object.keys(entities).filter((n) => entities[n] !== null);
  writeFileSync(
    path.join(dir, 'registry.yaml'),
    `registry_version: ${registry.version}\napi_versions: ${registry.api ?? '[v1]'}\nentities: [${names.join(', ')}]\n`,
  );
  for (const name of names) writeFileSync(path.join(dir, 'entities', `${name}.yaml`), entities[name]!);
}

export interface Case {
  readonly name: string;
  readonly before: Registry | readonly Registry[];
  readonly after: Registry;
  readonly ok: boolean;
  readonly codes: readonly string[];
}

export const v = (
  version: string,
  episodeOptions?: EpisodeOptions,
  more: Omit<Registry, 'version' | 'episode'> = {},
): Registry => ({ version, episode: episodeOptions, ...more });
export const field = (from: string, to: string) => (yaml: string) => {
  if (!yaml.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return yaml.replace(from, to);
};
export const drop = (line: string) => field(`  ${line}\n`, '');
export const upgrades = (version: number, ...steps: string[]) =>
  `upgrades:\n  "${version}":\n${steps.map((s) => `    - ${s}\n`).join('')}`;
export const SUBTITLE = '  subtitle: { type: string, max_length: 200 }\n';

export const CASES: Case[] = [
  // Nothing or compatible
  { name: 'nothing changed, same version', before: v('1.0.0'), after: v('1.0.0'), ok: true, codes: [] },
  {
    name: 'a new optional field with a minor bump',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: (f) => f + SUBTITLE }),
    ok: true,
    codes: ['FIELD_ADDED:compatible'],
  },
  {
    name: 'a new optional field without a bump',
    before: v('1.0.0'),
    after: v('1.0.0', { fields: (f) => f + SUBTITLE }),
    ok: false,
    codes: ['FIELD_ADDED:compatible', 'VERSION_NOT_BUMPED:error'],
  },
  {
    name: 'a new optional field with only a patch bump',
    before: v('1.0.0'),
    after: v('1.0.1', { fields: (f) => f + SUBTITLE }),
    ok: false,
    codes: ['FIELD_ADDED:compatible', 'VERSION_NOT_BUMPED:error'],
  },
  {
    name: 'a description change with a patch bump',
    before: v('1.0.0'),
    after: v('1.0.1', { fields: field('Episode title.', 'The title.') }),
    ok: true,
    codes: ['DESCRIPTION_CHANGED:compatible'],
  },
  {
    name: 'a new default, a new index and a deprecation',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: (f) =>
        f
          .replace('  season: { type: integer,', '  season: { type: integer, default: 1, indexed: true,')
          .replace('  release_date: { type: date }', '  release_date: { type: date, deprecated: true }'),
    }),
    ok: true,
    codes: ['DEFAULT_ADDED:compatible', 'DEPRECATED:compatible', 'INDEX_ADDED:compatible'],
  },
  {
    name: 'a new enum value and alias',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field(
        'archived], aliases: { live: published }',
        'archived, scheduled], aliases: { live: published, later: scheduled }',
      ),
    }),
    ok: true,
    codes: ['ALIAS_ADDED:compatible', 'ENUM_VALUE_ADDED:compatible'],
  },
  {
    name: 'limits relaxed: max_length raised, minimum lowered, maximum and pattern removed',
    before: v('1.0.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, pattern: "^[a-z-]+$" }',
      ),
    }),
    after: v('1.1.0', {
      fields: (f) =>
        f.replace('max_length: 100 }', 'max_length: 400 }').replace('minimum: 0, maximum: 100', 'minimum: -1'),
    }),
    ok: true,
    codes: ['LIMIT_RELAXED:compatible'],
  },
  {
    name: 'string widened to text',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field('slug: { type: string, max_length: 100 }', 'slug: { type: text, max_length: 100 }'),
    }),
    ok: true,
    codes: ['TYPE_WIDENED:compatible'],
  },
  {
    name: 'integer to number, which the column cannot take as it is',
    before: v('1.0.0'),
    after: v('2.0.0', { fields: field('season: { type: integer', 'season: { type: number') }),
    ok: false,
    codes: ['TYPE_CHANGED:breaking'],
  },
  {
    name: 'a required field with a default',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: (f) => `${f}  language: { type: string, required: true, default: en }\n` }),
    ok: true,
    codes: ['FIELD_ADDED:compatible'],
  },
  {
    name: 'a new optional object with a required field inside',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: (f) => `${f}  location:\n    type: object\n    fields:\n      city: { type: string, required: true }\n`,
    }),
    ok: true,
    codes: ['FIELD_ADDED:compatible'],
  },
  {
    name: 'a new entity',
    before: v('1.0.0'),
    after: v('1.1.0', undefined, {
      entities: {
        guest:
          'name: guest\nplural: guests\nid_prefix: gst\nschema_version: 1\nfields:\n  name: { type: string, required: true }\n',
      },
    }),
    ok: true,
    codes: ['ENTITY_ADDED:compatible'],
  },
  {
    name: 'a unique set widened (a superset replaces it)',
    before: v('1.0.0', { extra: 'unique: [[slug]]\n' }),
    after: v('1.1.0', { extra: 'unique: [[slug, season]]\n' }),
    ok: true,
    codes: ['LIMIT_RELAXED:compatible'],
  },
  {
    name: 'a required field made optional',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('title: { type: string, required: true,', 'title: { type: string,') }),
    ok: true,
    codes: ['MADE_OPTIONAL:compatible'],
  },

  // Breaking without a major bump
  {
    name: 'a field removed',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: drop('release_date: { type: date }') }),
    ok: false,
    codes: ['FIELD_REMOVED:breaking'],
  },
  {
    name: 'a type changed',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('slug: { type: string, max_length: 100 }', 'slug: { type: integer }') }),
    ok: false,
    codes: ['TYPE_CHANGED:breaking'],
  },
  {
    name: 'optional made required',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field('release_date: { type: date }', 'release_date: { type: date, required: true }'),
    }),
    ok: false,
    codes: ['MADE_REQUIRED:breaking'],
  },
  {
    name: 'a new required field without a default',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: (f) => `${f}  language: { type: string, required: true }\n` }),
    ok: false,
    codes: ['REQUIRED_ADDED_WITHOUT_DEFAULT:breaking'],
  },
  {
    name: 'an enum value removed',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('values: [draft, published, archived]', 'values: [draft, published]') }),
    ok: false,
    codes: ['ENUM_VALUE_REMOVED:breaking'],
  },
  {
    name: 'an enum alias removed',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field(', aliases: { live: published }', '') }),
    ok: false,
    codes: ['ALIAS_REMOVED:breaking'],
  },
  {
    name: 'max_length lowered',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field('slug: { type: string, max_length: 100 }', 'slug: { type: string, max_length: 60 }'),
    }),
    ok: false,
    codes: ['MAX_LENGTH_LOWERED:breaking'],
  },
  {
    name: 'maximum lowered and minimum raised',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('minimum: 0, maximum: 100', 'minimum: 1, maximum: 50') }),
    ok: false,
    codes: ['MAXIMUM_LOWERED:breaking', 'MINIMUM_RAISED:breaking'],
  },
  {
    name: 'a query alias, a schedule and an expiry added, and a normalized tag',
    before: v('1.0.0'),
    after: v('1.1.0', {
      extra:
        'query_aliases:\n  code: { paths: [slug] }\nschedule:\n  title: title\n  events: { release: release_date }\n',
      fields: (f) =>
        f.replace(
          'items: { type: string, max_length: 50 }',
          'items: { type: string, max_length: 50, normalize: lower }',
        ),
    }),
    ok: true,
    codes: ['BEHAVIOUR_CHANGED:compatible', 'OPTION_CHANGED:compatible', 'QUERY_ALIAS_ADDED:compatible'],
  },
  {
    name: "a query alias's paths changed",
    before: v('1.0.0', { extra: 'query_aliases:\n  code: { paths: [slug] }\n' }),
    after: v('1.1.0', { extra: 'query_aliases:\n  code: { paths: [title] }\n' }),
    ok: false,
    codes: ['QUERY_ALIAS_REMOVED:breaking'],
  },
  {
    name: 'a writable field made read-only',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, read_only: true }',
      ),
    }),
    ok: false,
    codes: ['MADE_READ_ONLY:breaking'],
  },
  {
    name: 'a writable field made read-only with a major bump',
    before: v('1.0.0'),
    after: v('2.0.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, read_only: true }',
      ),
    }),
    ok: true,
    codes: ['MADE_READ_ONLY:covered'],
  },
  {
    name: 'a read-only field made writable',
    before: v('1.0.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, read_only: true }',
      ),
    }),
    after: v('1.1.0'),
    ok: true,
    codes: ['OPTION_CHANGED:compatible'],
  },
  {
    name: 'a pattern added',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, pattern: "^[a-z-]+$" }',
      ),
    }),
    ok: false,
    codes: ['PATTERN_ADDED:breaking'],
  },
  {
    name: 'a uniqueness constraint added',
    before: v('1.0.0'),
    after: v('1.1.0', { extra: 'unique: [[slug]]\n' }),
    ok: false,
    codes: ['UNIQUE_ADDED:breaking'],
  },
  {
    name: "a ref's target changed",
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('show_id: { type: ref, to: show }', 'show_id: { type: ref, to: network }') }),
    ok: false,
    codes: ['REF_TARGET_CHANGED:breaking'],
  },
  {
    name: "a ref's cardinality changed",
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field('show_id: { type: ref, to: show }', 'show_id: { type: refs, to: show, max_items: 5 }'),
    }),
    ok: false,
    codes: ['MAX_ITEMS_LOWERED:breaking', 'REF_CARDINALITY_CHANGED:breaking'],
  },
  {
    name: "an array's element limit lowered, and max_items",
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field(
        'max_items: 10, items: { type: string, max_length: 50 }',
        'max_items: 5, items: { type: string, max_length: 20 }',
      ),
    }),
    ok: false,
    codes: ['MAX_ITEMS_LOWERED:breaking', 'MAX_LENGTH_LOWERED:breaking'],
  },
  {
    name: 'an entity removed',
    before: v('1.0.0'),
    after: v('1.1.0', undefined, { entities: { network: null } }),
    ok: false,
    codes: ['ENTITY_REMOVED:breaking'],
  },
  {
    name: 'a rename without an upgrade step (guessed from the shapes)',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('release_date: { type: date }', 'air_date: { type: date }') }),
    ok: false,
    codes: ['FIELD_RENAMED:breaking'],
  },

  // Breaking, covered by a major bump and an upgrade step
  {
    name: 'a field removed with a major bump, reserved and a remove step',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: `reserved: [release_date]\n${upgrades(2, '{ remove: { field: release_date } }')}`,
      fields: drop('release_date: { type: date }'),
    }),
    ok: true,
    codes: ['FIELD_REMOVED:covered', 'RESERVED_ADDED:compatible', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'a field renamed with a major bump and a rename step',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: `reserved: [release_date]\n${upgrades(2, '{ rename: { from: release_date, to: air_date } }')}`,
      fields: field('release_date: { type: date }', 'air_date: { type: date }'),
    }),
    ok: true,
    codes: ['FIELD_RENAMED:covered', 'RESERVED_ADDED:compatible', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'a nested field renamed (no reserved needed inside objects)',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ rename: { from: credits.writer, to: credits.screenwriter } }'),
      fields: field('      writer:', '      screenwriter:'),
    }),
    ok: true,
    codes: ['FIELD_RENAMED:covered', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'a field moved into an object',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: `reserved: [slug]\n${upgrades(2, '{ move: { from: slug, to: credits.slug } }')}`,
      fields: (f) =>
        drop('slug: { type: string, max_length: 100 }')(f).replace(
          '      director:',
          '      slug: { type: string, max_length: 100 }\n      director:',
        ),
    }),
    ok: true,
    codes: ['FIELD_RENAMED:covered', 'RESERVED_ADDED:compatible', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'an enum value removed with a major bump and map_values',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ map_values: { field: status, map: { archived: draft } } }'),
      fields: field('values: [draft, published, archived]', 'values: [draft, published]'),
    }),
    ok: true,
    codes: ['ENUM_VALUE_REMOVED:covered', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'optional made required with a major bump and set_default',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ set_default: { field: release_date, value: "2025-01-01" } }'),
      fields: field('release_date: { type: date }', 'release_date: { type: date, required: true }'),
    }),
    ok: true,
    codes: ['MADE_REQUIRED:covered', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'a new required field with a major bump and set_default',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ set_default: { field: language, value: en } }'),
      fields: (f) => `${f}  language: { type: string, required: true }\n`,
    }),
    ok: true,
    codes: ['REQUIRED_ADDED_WITHOUT_DEFAULT:covered', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'a field split in two, the required half given a value for older records',
    before: v('1.0.0', { fields: (f) => `${f}  host: { type: string }\n` }),
    after: v('2.0.0', {
      sv: 2,
      extra: `reserved: [host]\n${upgrades(2, '{ split: { from: host, to: [host_first, host_last], separator: " " } }', '{ set_default: { field: host_first, value: unknown } }')}`,
      fields: (f) => `${f}  host_first: { type: string, required: true }\n  host_last: { type: string }\n`,
    }),
    ok: true,
    codes: [
      'FIELD_ADDED:compatible',
      'FIELD_REMOVED:covered',
      'REQUIRED_ADDED_WITHOUT_DEFAULT:covered',
      'RESERVED_ADDED:compatible',
      'SCHEMA_VERSION_RAISED:compatible',
    ],
  },
  {
    name: "a ref's target changed with a major bump and a step naming the field (which covers nothing)",
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ remove: { field: show_id } }'),
      fields: field('show_id: { type: ref, to: show }', 'show_id: { type: ref, to: network }'),
    }),
    ok: false,
    codes: ['REF_TARGET_CHANGED:breaking', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'max_length lowered with a major bump (no step needed)',
    before: v('1.0.0'),
    after: v('2.0.0', {
      fields: field('slug: { type: string, max_length: 100 }', 'slug: { type: string, max_length: 60 }'),
    }),
    ok: true,
    codes: ['MAX_LENGTH_LOWERED:covered'],
  },
  {
    name: 'a unique set added with a major bump',
    before: v('1.0.0'),
    after: v('2.0.0', { extra: 'unique: [[slug]]\n' }),
    ok: true,
    codes: ['UNIQUE_ADDED:covered'],
  },

  // Breaking with a major bump but something missing
  {
    name: 'a field removed with a major bump but no upgrade step',
    before: v('1.0.0'),
    after: v('2.0.0', { extra: 'reserved: [release_date]\n', fields: drop('release_date: { type: date }') }),
    ok: false,
    codes: ['FIELD_REMOVED:breaking', 'RESERVED_ADDED:compatible'],
  },
  {
    name: 'a field removed with a major bump and a step, but its name not reserved',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ remove: { field: release_date } }'),
      fields: drop('release_date: { type: date }'),
    }),
    ok: false,
    codes: ['FIELD_REMOVED:breaking', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'an enum value removed with a major bump, but map_values maps another value',
    before: v('1.0.0', {
      fields: field('values: [draft, published, archived]', 'values: [draft, published, archived, deleted]'),
    }),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ map_values: { field: status, map: { deleted: draft } } }'),
      fields: field('values: [draft, published, archived]', 'values: [draft, published]'),
    }),
    ok: false,
    codes: ['ENUM_VALUE_REMOVED:breaking', 'ENUM_VALUE_REMOVED:covered', 'SCHEMA_VERSION_RAISED:compatible'],
  },
  {
    name: 'a required field added with a major bump, but the step is in an already released version',
    before: v('1.0.0', { sv: 2, extra: upgrades(2, '{ set_default: { field: release_date, value: "2025-01-01" } }') }),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(
        2,
        '{ set_default: { field: release_date, value: "2025-01-01" } }',
        '{ set_default: { field: language, value: en } }',
      ),
      fields: (f) => `${f}  language: { type: string, required: true }\n`,
    }),
    ok: false,
    codes: ['REQUIRED_ADDED_WITHOUT_DEFAULT:breaking', 'UPGRADES_REWRITTEN:covered'],
  },

  {
    name: 'a name taken out of reserved with a major bump (and not reused)',
    before: v('2.0.0', { sv: 2, extra: `reserved: [subtitle]\n${upgrades(2, '{ remove: { field: subtitle } }')}` }),
    after: v('3.0.0', { sv: 2, extra: upgrades(2, '{ remove: { field: subtitle } }') }),
    ok: true,
    codes: ['RESERVED_REMOVED:covered'],
  },
  {
    name: 'the steps of a released schema_version rewritten, with a major bump',
    before: v('1.0.0', { sv: 2, extra: upgrades(2, '{ set_default: { field: status, value: draft } }') }),
    after: v('2.0.0', { sv: 2, extra: upgrades(2, '{ set_default: { field: status, value: published } }') }),
    ok: true,
    codes: ['UPGRADES_REWRITTEN:covered'],
  },

  {
    name: "an entity's id_prefix changed with a major bump (stored ids keep theirs, and would answer 404)",
    before: v('1.0.0'),
    after: v('2.0.0', undefined, { entities: { network: NETWORK.replace('id_prefix: net', 'id_prefix: ch') } }),
    ok: false,
    codes: ['ID_PREFIX_CHANGED:breaking'],
  },

  // Never allowed
  {
    name: 'a reserved name reused after taking it out of reserved',
    before: v('2.0.0', { sv: 2, extra: `reserved: [subtitle]\n${upgrades(2, '{ remove: { field: subtitle } }')}` }),
    after: v('3.0.0', { sv: 2, extra: upgrades(2, '{ remove: { field: subtitle } }'), fields: (f) => f + SUBTITLE }),
    ok: false,
    codes: ['RESERVED_NAME_REUSED:breaking', 'RESERVED_REMOVED:covered'],
  },
  {
    name: 'schema_version lowered',
    before: v('1.0.0', { sv: 2, extra: upgrades(2, '{ set_default: { field: status, value: draft } }') }),
    after: v('2.0.0', { sv: 1 }),
    ok: false,
    codes: ['SCHEMA_VERSION_LOWERED:breaking', 'UPGRADES_REWRITTEN:covered'],
  },

  // Views, presets, transitions
  {
    name: 'a view removed, a preset added',
    before: v('1.0.0', { extra: 'views:\n  credits: { field: credits }\n' }),
    after: v('1.1.0', { extra: 'presets:\n  undated: { filter: { release_date: { _null: true } } }\n' }),
    ok: false,
    codes: ['PRESET_ADDED:compatible', 'VIEW_REMOVED:breaking'],
  },
  {
    name: 'enum transitions added to an enum without them',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field(
        'default: draft }',
        'default: draft, transitions: { draft: [published], published: [archived], archived: [] } }',
      ),
      extra: 'enforce_transitions: [status]\n',
    }),
    ok: false,
    codes: ['TRANSITION_REMOVED:breaking'],
  },
  {
    name: 'enum transitions declared but not enforced (documentation only)',
    before: v('1.0.0'),
    after: v('1.1.0', {
      fields: field(
        'default: draft }',
        'default: draft, transitions: { draft: [published], published: [archived], archived: [] } }',
      ),
    }),
    ok: true,
    codes: [],
  },
  {
    name: 'declared enum transitions enforced',
    before: v('1.0.0', {
      fields: field('default: draft }', 'default: draft, transitions: { draft: [published], published: [draft] } }'),
    }),
    after: v('1.1.0', {
      fields: field('default: draft }', 'default: draft, transitions: { draft: [published], published: [draft] } }'),
      extra: 'enforce_transitions: [status]\n',
    }),
    ok: false,
    codes: ['TRANSITION_REMOVED:breaking'],
  },

  // The other options
  {
    name: 'a default changed, and one removed from an optional field',
    before: v('1.0.0', { fields: field('season: { type: integer,', 'season: { type: integer, default: 1,') }),
    after: v('1.1.0', { fields: field('default: draft }', 'default: published }') }),
    ok: true,
    codes: ['DEFAULT_CHANGED:compatible', 'DEFAULT_REMOVED:compatible'],
  },
  {
    name: 'a required field lost its default',
    before: v('1.0.0', {
      fields: field(
        'title: { type: string, required: true,',
        'title: { type: string, required: true, default: Untitled,',
      ),
    }),
    after: v('1.1.0'),
    ok: false,
    codes: ['REQUIRED_DEFAULT_REMOVED:breaking'],
  },
  {
    name: 'an index, a unique set and full-text search removed',
    before: v('1.0.0', {
      extra: 'unique: [[slug]]\n',
      fields: (f) =>
        f
          .replace('slug: { type: string, max_length: 100 }', 'slug: { type: string, max_length: 100, indexed: true }')
          .replace('max_length: 300,', 'max_length: 300, searchable: true,'),
    }),
    after: v('1.1.0'),
    ok: true,
    codes: ['INDEX_REMOVED:compatible', 'OPTION_CHANGED:compatible', 'UNIQUE_REMOVED:compatible'],
  },
  {
    name: 'a pattern changed',
    before: v('1.0.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, pattern: "^[a-z-]+$" }',
      ),
    }),
    after: v('1.1.0', {
      fields: field(
        'slug: { type: string, max_length: 100 }',
        'slug: { type: string, max_length: 100, pattern: "^[a-z]+$" }',
      ),
    }),
    ok: false,
    codes: ['PATTERN_CHANGED:breaking'],
  },
  {
    name: 'an at_least comparison added',
    before: v('1.0.0', { fields: (f) => `${f}  last_season: { type: integer }\n` }),
    after: v('1.1.0', { fields: (f) => `${f}  last_season: { type: integer, at_least: season }\n` }),
    ok: false,
    codes: ['AT_LEAST_ADDED:breaking'],
  },
  {
    name: 'refs roles narrowed and removed',
    before: v('1.0.0', {
      fields: (f) =>
        `${f}  networks: { type: refs, to: network, max_items: 9, role: { max_length: 100 } }\n  hosts: { type: refs, to: show, max_items: 9, role: { values: [main, guest] } }\n`,
    }),
    after: v('2.0.0', {
      fields: (f) =>
        `${f}  networks: { type: refs, to: network, max_items: 9, role: { required: true, max_length: 100 } }\n  hosts: { type: refs, to: show, max_items: 9 }\n`,
    }),
    ok: true,
    codes: ['ROLE_NARROWED:covered', 'ROLE_REMOVED:covered'],
  },
  {
    name: 'enum transitions relaxed',
    before: v('1.0.0', {
      fields: field(
        'default: draft }',
        'default: draft, transitions: { draft: [published], published: [archived], archived: [] } }',
      ),
      extra: 'enforce_transitions: [status]\n',
    }),
    after: v('1.1.0', {
      fields: field(
        'default: draft }',
        'default: draft, transitions: { draft: [published], published: [archived], archived: [draft] } }',
      ),
      extra: 'enforce_transitions: [status]\n',
    }),
    ok: true,
    codes: ['TRANSITION_ADDED:compatible'],
  },
  {
    name: "an entity's plural and id_prefix changed",
    before: v('1.0.0'),
    after: v('1.1.0', undefined, {
      entities: {
        network: NETWORK.replace('plural: networks', 'plural: channels').replace('id_prefix: net', 'id_prefix: ch'),
      },
    }),
    ok: false,
    codes: ['ID_PREFIX_CHANGED:breaking', 'PLURAL_CHANGED:breaking'],
  },
  {
    name: 'views and presets added, changed and removed, with a major bump',
    before: v('1.0.0', {
      extra:
        'views:\n  credits: { field: credits }\npresets:\n  undated: { filter: { release_date: { _null: true } } }\n  dated: { filter: { release_date: { _null: false } } }\n',
    }),
    after: v('2.0.0', {
      extra:
        'views:\n  credits: { field: credits.director }\n  tags: { field: tags }\npresets:\n  undated: { filter: { release_date: { _null: true }, season: { _null: true } } }\n',
    }),
    ok: true,
    codes: ['PRESET_CHANGED:compatible', 'PRESET_REMOVED:covered', 'VIEW_ADDED:compatible', 'VIEW_CHANGED:covered'],
  },
  {
    name: 'a new API version, the old one keeping a release',
    before: v('1.0.0'),
    after: v('2.0.0', undefined, {
      api: '[{ name: v1, release: 1.0.0, deprecation: 2026-06-30, sunset: 2027-06-30 }, v2]',
    }),
    ok: true,
    codes: ['API_VERSION_ADDED:compatible', 'OPTION_CHANGED:compatible'],
  },
  {
    name: 'an old API version no longer served',
    before: [
      v('1.0.0'),
      v('2.0.0', undefined, { api: '[{ name: v1, release: 1.0.0, deprecation: 2026-06-30, sunset: 2027-06-30 }, v2]' }),
    ],
    after: v('2.1.0', undefined, { api: '[v2]' }),
    ok: true,
    codes: ['API_VERSION_REMOVED:compatible'],
  },

  // Transitive: every served release, and names removed in any release
  {
    name: 'against two releases: compatible with both',
    before: [v('1.0.0'), v('1.1.0', { fields: (f) => f + SUBTITLE })],
    after: v('1.2.0', { fields: (f) => `${f + SUBTITLE}  rating: { type: number }\n` }),
    ok: true,
    codes: ['FIELD_ADDED:compatible'],
  },
  {
    name: 'a nested name removed in an older release comes back',
    before: [
      v('1.0.0'),
      {
        ...v('2.0.0', {
          sv: 2,
          extra: upgrades(2, '{ rename: { from: credits.writer, to: credits.screenwriter } }'),
          fields: field('      writer:', '      screenwriter:'),
        }),
        api: '[v2]',
      },
    ],
    after: {
      ...v('2.1.0', {
        sv: 2,
        extra: upgrades(2, '{ rename: { from: credits.writer, to: credits.screenwriter } }'),
        fields: field('      writer:', '      screenwriter: { type: string, max_length: 200 }\n      writer:'),
      }),
      api: '[v2]',
    },
    ok: false,
    codes: ['FIELD_ADDED:compatible', 'RESERVED_NAME_REUSED:breaking'],
  },
];

CASES.push(
  {
    name: 'a view replaced by a part at the same route, and versions declared',
    before: v('1.0.0', { extra: 'views:\n  draft: { field: credits }\n' }, drafts()),
    after: v('1.1.0', { extra: `parts:\n${part('draft', 'main')}` }, drafts(versionsOf('body'))),
    ok: true,
    codes: ['VERSIONS_ADDED:compatible', 'VIEW_BECAME_PART:compatible'],
  },
  {
    name: 'parts added, changed and removed without a major bump',
    before: v(
      '1.0.0',
      { extra: `parts:\n${part('draft', 'main')}${part('teaser', 'teaser')}` },
      drafts(versionsOf('body')),
    ),
    after: v(
      '1.1.0',
      { extra: `parts:\n${part('draft', 'teaser')}${part('main-draft', 'main')}` },
      drafts(versionsOf('summary')),
    ),
    ok: false,
    codes: ['PART_ADDED:compatible', 'PART_CHANGED:breaking', 'PART_REMOVED:breaking', 'VERSIONS_CHANGED:breaking'],
  },
);
