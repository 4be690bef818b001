// Registry compatibility: a corpus of small before/after registries, each with the verdict
// `registry:check` must reach and the rule codes it must report. Each case releases its "before"
// registries (snapshots in registry/releases/, as `npm run registry:release` writes them) and then
// checks its "after" registry against them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { renderChangelog, renderDiff } from '../src/evolution/changelog.ts';
import {
  checkRegistry,
  formatChange,
  formatReport,
  servedReleases,
  type CheckReport,
} from '../src/evolution/compatibility.ts';
import { registryContract, stableJson, type RegistryContract } from '../src/evolution/contract.ts';
import { readReleases, ReleaseRefused, writeRelease } from '../src/evolution/releases.ts';
import { RULE_CODES } from '../src/evolution/rules.ts';
import { loadModel } from '../src/load-model.ts';
import { shippedModel } from './support/fixtures.ts';

const SHOW = `name: show
plural: shows
id_prefix: show
schema_version: 1
fields:
  title: { type: string, required: true }
`;

const NETWORK = `name: network
plural: networks
id_prefix: net
schema_version: 1
fields:
  name: { type: string, required: true }
`;

const EPISODE_FIELDS = `fields:
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
const draft = (versions = '') => `name: draft
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
const DRAFT_VERSION = `name: draft_version
plural: draft_versions
id_prefix: drv
schema_version: 1
fields:
  draft_id: { type: ref, to: draft, required: true }
  n: { type: integer, sequence: { within: [draft_id] } }
  body: { type: text }
  summary: { type: text }
`;
const versionsOf = (text: string) =>
  `versions: { entity: draft_version, via: draft_id, number: n, active: active, text: ${text} }\n`;
const drafts = (versions = '') => ({ entities: { draft: draft(versions), draft_version: DRAFT_VERSION } });
const part = (name: string, kind: string) =>
  `  ${name}: { entity: draft, via: episode_id, where: { kind: ${kind} } }\n`;

interface EpisodeOptions {
  /** schema_version (default 1). */
  readonly sv?: number;
  /** YAML between the header and `fields:` (reserved, upgrades, unique, views…). */
  readonly extra?: string;
  /** Edits the fields block. */
  readonly fields?: (yaml: string) => string;
}

const episode = ({ sv = 1, extra = '', fields = (f) => f }: EpisodeOptions = {}) =>
  `name: episode\nplural: episodes\nid_prefix: ep\nschema_version: ${sv}\n${extra}${fields(EPISODE_FIELDS)}`;

interface Registry {
  readonly version: string;
  readonly api?: string;
  /** Entity name → YAML; show and network are there unless replaced. */
  readonly entities?: Readonly<Record<string, string | null>>;
  readonly episode?: EpisodeOptions;
}

const root = mkdtempSync(path.join(tmpdir(), 'reelmeta-compat-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function writeRegistry(dir: string, registry: Registry): void {
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

/** Releases each of `releases` in turn, then checks `current` against them. */
function check(
  releases: readonly Registry[],
  current: Registry,
): CheckReport & { dir: string; contract: RegistryContract } {
  const dir = path.join(root, `case-${++counter}`, 'registry');
  for (const release of releases) {
    writeRegistry(dir, release);
    writeRelease(dir, registryContract(loadModel(dir)));
  }
  writeRegistry(dir, current);
  const contract = registryContract(loadModel(dir));
  return { ...checkRegistry(contract, readReleases(dir)), dir, contract };
}

/** `RULE:status` of every change not already released, and of every problem; sorted, unique. */
function codes(report: CheckReport): string[] {
  const all = [...report.checks.flatMap((c) => c.changes.filter((ch) => !ch.released)), ...report.problems];
  return [...new Set(all.map((c) => `${c.rule}:${c.status}`))].sort();
}

interface Case {
  readonly name: string;
  readonly before: Registry | readonly Registry[];
  readonly after: Registry;
  readonly ok: boolean;
  readonly codes: readonly string[];
}

const v = (
  version: string,
  episodeOptions?: EpisodeOptions,
  more: Omit<Registry, 'version' | 'episode'> = {},
): Registry => ({ version, episode: episodeOptions, ...more });
const field = (from: string, to: string) => (yaml: string) => {
  if (!yaml.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return yaml.replace(from, to);
};
const drop = (line: string) => field(`  ${line}\n`, '');
const upgrades = (version: number, ...steps: string[]) =>
  `upgrades:\n  "${version}":\n${steps.map((s) => `    - ${s}\n`).join('')}`;
const SUBTITLE = '  subtitle: { type: string, max_length: 200 }\n';

const CASES: Case[] = [
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
    name: 'integer widened to number',
    before: v('1.0.0'),
    after: v('1.1.0', { fields: field('season: { type: integer', 'season: { type: number') }),
    ok: true,
    codes: ['TYPE_WIDENED:compatible'],
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
    name: 'a field split in two',
    before: v('1.0.0', { fields: (f) => `${f}  host: { type: string }\n` }),
    after: v('2.0.0', {
      sv: 2,
      extra: `reserved: [host]\n${upgrades(2, '{ split: { from: host, to: [host_first, host_last], separator: " " } }')}`,
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
    name: 'a type changed with a major bump and a step naming the field',
    before: v('1.0.0'),
    after: v('2.0.0', {
      sv: 2,
      extra: upgrades(2, '{ remove: { field: show_id } }'),
      fields: field('show_id: { type: ref, to: show }', 'show_id: { type: ref, to: network }'),
    }),
    ok: true,
    codes: ['REF_TARGET_CHANGED:covered', 'SCHEMA_VERSION_RAISED:compatible'],
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

describe('registry:check on the breaking-change corpus', () => {
  it('has at least 30 cases, and covers every rule code but the fallback', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    const seen = new Set(CASES.flatMap((c) => c.codes.map((code) => code.split(':')[0])));
    // CONTRACT_CHANGED is the fallback for a difference no other rule names.
    expect(RULE_CODES.filter((code) => !seen.has(code) && code !== 'CONTRACT_CHANGED')).toEqual([]);
  });

  it.each(CASES)('$name', ({ before, after, ok, codes: expected }) => {
    const report = check(Array.isArray(before) ? before : [before as Registry], after);
    const { lines, summary } = formatReport(report);
    expect(codes(report), [...lines, summary].join('\n')).toEqual([...expected].sort());
    expect(report.ok, [...lines, summary].join('\n')).toBe(ok);
    expect(summary).toMatch(ok ? /^registry check passed/ : /^registry check failed/);
  });
});

describe('registry:check output', () => {
  it('prints file: path: rule: verdict: message, and what a breaking change still needs', () => {
    const report = check([v('1.0.0')], v('1.1.0', { fields: drop('release_date: { type: date }') }));
    const line = formatChange(report.checks[0]!.changes[0]!);
    expect(line).toBe(
      'registry/entities/episode.yaml: fields.release_date: FIELD_REMOVED: breaking: episode.release_date removed (was: optional date); ' +
        'needs a major registry_version bump (2.0.0), plus an upgrade step (raise schema_version to 2 and add it under upgrades.2) that removes it ({remove: {field: release_date}}) or renames or moves it away, plus "release_date" in reserved (reserved: [release_date])',
    );
  });

  it('names the covering step of a covered change', () => {
    const report = check(
      [v('1.0.0')],
      v('2.0.0', {
        sv: 2,
        extra: upgrades(2, '{ map_values: { field: status, map: { archived: draft } } }'),
        fields: field('values: [draft, published, archived]', 'values: [draft, published]'),
      }),
    );
    const line = formatChange(report.checks[0]!.changes.find((c) => c.rule === 'ENUM_VALUE_REMOVED')!);
    expect(line).toBe(
      'registry/entities/episode.yaml: fields.status: ENUM_VALUE_REMOVED: breaking (covered): episode.status enum value "archived" removed; covered by registry_version 2.0.0 and upgrades.2.0 (map_values status (archived → draft))',
    );
  });

  it('says which bump the registry_version needs', () => {
    const minor = check([v('1.0.0')], v('1.0.0', { fields: (f) => f + SUBTITLE }));
    expect(formatChange(minor.problems[0]!)).toBe(
      'registry/registry.yaml: registry_version: VERSION_NOT_BUMPED: error: the contract changed since release 1.0.0 (1 change) but registry_version is still 1.0.0: raise it to 1.1.0 (minor: compatible changes)',
    );
    const major = check([v('1.0.0')], v('1.0.0', { fields: drop('release_date: { type: date }') }));
    expect(major.problems.map(formatChange)[0]).toContain('raise it to 2.0.0 (major: breaking changes)');
    const older = check([v('1.0.0'), v('1.1.0')], v('1.0.5'));
    expect(older.problems.map(formatChange)).toEqual([
      'registry/registry.yaml: registry_version: VERSION_NOT_BUMPED: error: 1.0.5 is older than the last release, 1.1.0',
    ]);
  });

  it('reports a change to a mixin field at the mixin, for each entity using it', () => {
    const dir = path.join(root, 'mixin', 'registry');
    const write = (version: string, maxLength: number) => {
      mkdirSync(path.join(dir, 'entities'), { recursive: true });
      mkdirSync(path.join(dir, 'mixins'), { recursive: true });
      writeFileSync(
        path.join(dir, 'registry.yaml'),
        `registry_version: ${version}\napi_versions: [v1]\nmixins: [audit]\nentities: [show, network]\n`,
      );
      writeFileSync(
        path.join(dir, 'mixins', 'audit.yaml'),
        `name: audit\nfields:\n  uploaded_by: { type: string, max_length: ${maxLength} }\n`,
      );
      writeFileSync(path.join(dir, 'entities', 'show.yaml'), SHOW.replace('fields:', 'mixins: [audit]\nfields:'));
      writeFileSync(path.join(dir, 'entities', 'network.yaml'), NETWORK.replace('fields:', 'mixins: [audit]\nfields:'));
    };
    write('1.0.0', 200);
    writeRelease(dir, registryContract(loadModel(dir)));
    write('1.1.0', 100);
    const report = checkRegistry(registryContract(loadModel(dir)), readReleases(dir));
    expect(report.checks[0]!.changes.map(formatChange)).toEqual([
      'registry/mixins/audit.yaml: fields.uploaded_by: MAX_LENGTH_LOWERED: breaking: network.uploaded_by max_length lowered from 200 to 100 characters; needs a major registry_version bump (2.0.0)',
      'registry/mixins/audit.yaml: fields.uploaded_by: MAX_LENGTH_LOWERED: breaking: show.uploaded_by max_length lowered from 200 to 100 characters; needs a major registry_version bump (2.0.0)',
    ]);
  });
});

describe('every served release', () => {
  it('checks each release of the current major and of the majors older API versions keep, and the latest', () => {
    const releases = [
      v('1.0.0'),
      v('1.1.0'),
      v('2.0.0', {
        sv: 2,
        extra: `reserved: [slug]\n${upgrades(2, '{ remove: { field: slug } }')}`,
        fields: drop('slug: { type: string, max_length: 100 }'),
      }),
    ];
    const served = (api: string) =>
      check(releases, {
        ...v('2.1.0', {
          sv: 2,
          extra: `reserved: [slug]\n${upgrades(2, '{ remove: { field: slug } }')}`,
          fields: (f) => drop('slug: { type: string, max_length: 100 }')(f) + SUBTITLE,
        }),
        api,
      });
    const both = served('[{ name: v1, release: 1.1.0, deprecation: 2026-06-30, sunset: 2027-01-01 }, v2]');
    expect(both.checks.map((c) => c.release.version)).toEqual(['1.0.0', '1.1.0', '2.0.0']);
    expect(both.ok).toBe(true);
    const current = served('[v2]');
    expect(current.checks.map((c) => c.release.version)).toEqual(['2.0.0']);
    expect(
      servedReleases(
        { ...current.contract, registry_version: '3.0.0', api_versions: [] },
        readReleases(current.dir),
      ).map((r) => r.version),
    ).toEqual(['2.0.0']);
  });

  it('judges each release on its own: a change can be breaking against one and compatible against an older one', () => {
    const report = check(
      [
        v('1.0.0'),
        v('1.1.0', {
          fields: field('slug: { type: string, max_length: 100 }', 'slug: { type: string, max_length: 200 }'),
        }),
      ],
      v('1.2.0', {
        fields: field('slug: { type: string, max_length: 100 }', 'slug: { type: string, max_length: 150 }'),
      }),
    );
    const byRelease = report.checks.map((c) => [c.release.version, c.changes.map((ch) => `${ch.rule}:${ch.status}`)]);
    expect(byRelease).toEqual([
      ['1.0.0', ['LIMIT_RELAXED:compatible']],
      ['1.1.0', ['MAX_LENGTH_LOWERED:breaking']],
    ]);
    expect(report.ok).toBe(false);
  });

  it('accepts what the latest release already differs by from an older one (released before the check existed)', () => {
    const report = check(
      [v('1.0.0'), v('1.1.0', { extra: 'unique: [[slug]]\n' })],
      v('1.2.0', { extra: 'unique: [[slug]]\n', fields: (f) => f + SUBTITLE }),
    );
    expect(report.ok).toBe(true);
    const older = report.checks[0]!.changes.find((c) => c.rule === 'UNIQUE_ADDED')!;
    expect(older).toMatchObject({ status: 'covered', released: true, note: 'already released in 1.1.0' });
    expect(formatReport(report).lines[0]).toBe(
      '1.2.0 against release 1.1.0 (registry/releases/1.1.0.json): 1 change, 0 breaking',
    );
  });

  it('passes with nothing released yet, and says how to release', () => {
    const dir = path.join(root, 'empty', 'registry');
    writeRegistry(dir, v('1.0.0'));
    const report = checkRegistry(registryContract(loadModel(dir)), readReleases(dir));
    expect(report.ok).toBe(true);
    expect(formatReport(report).summary).toMatch(/no released snapshot .*npm run registry:release/);
  });
});

describe('release snapshots', () => {
  it("are sorted, pretty JSON with the runtime's registry_version and schema_versions", () => {
    const text = readFileSync(path.join(PROJECT_ROOT, 'registry', 'releases', '1.7.0.json'), 'utf8');
    const snapshot = JSON.parse(text) as RegistryContract;
    expect(text).toBe(stableJson(snapshot));
    expect(snapshot.registry_version).toBe('1.7.0');
    expect(snapshot.entities.episode).toMatchObject({ schema_version: 1, file: 'registry/entities/episode.yaml' });
    expect(snapshot.entities.episode!.fields['wardrobe.shoes.color']).toMatchObject({
      type: 'string',
      max_length: 100,
    });
    expect(snapshot.entities.episode!.fields.approval_status).toMatchObject({
      mixin: 'approval',
      type: 'enum',
      default: 'approved',
    });
    expect(snapshot.entities.episode!.fields.show_id).toMatchObject({
      type: 'ref',
      to: 'show',
      cardinality: 'one',
      indexed: true,
    });
    expect(snapshot.entities.episode!.unique).toEqual([['show_id', 'season', 'episode_number']]);
  });

  it('the newest one matches the committed registry when registry_version was not raised', () => {
    const current = registryContract(shippedModel());
    const releases = readReleases(path.join(PROJECT_ROOT, 'registry'));
    const newest = releases.at(-1)!;
    if (newest.version === current.registry_version) expect(stableJson(current)).toBe(stableJson(newest.contract));
    else expect(checkRegistry(current, releases).ok).toBe(true);
  });

  it('refuses to overwrite a release with a different contract, and leaves an identical one alone', () => {
    const dir = path.join(root, 'overwrite', 'registry');
    writeRegistry(dir, v('1.0.0'));
    const first = registryContract(loadModel(dir));
    expect(writeRelease(dir, first)).toEqual({ file: 'registry/releases/1.0.0.json', written: true });
    expect(writeRelease(dir, first)).toEqual({ file: 'registry/releases/1.0.0.json', written: false });
    writeRegistry(dir, v('1.0.0', { fields: (f) => f + SUBTITLE }));
    expect(() => writeRelease(dir, registryContract(loadModel(dir)))).toThrow(ReleaseRefused);
    expect(readReleases(dir)[0]!.contract).toEqual(first);
  });
});

describe('diff and changelog in words', () => {
  it('summarizes the changes since a release by entity', () => {
    const report = check(
      [v('1.0.0')],
      v('2.0.0', {
        sv: 2,
        extra: `reserved: [release_date]\n${upgrades(2, '{ rename: { from: release_date, to: air_date } }')}`,
        fields: (f) =>
          field(
            'release_date: { type: date }',
            'air_date: { type: date }',
          )(f).replace('archived]', 'archived, scheduled]') + SUBTITLE,
      }),
    );
    expect(renderDiff(readReleases(report.dir)[0]!, report.contract)).toBe(
      [
        'registry diff: release 1.0.0 → working registry 2.0.0: 5 changes, 1 breaking',
        '',
        'episode (registry/entities/episode.yaml)',
        '  ~ schema_version 1 → 2 (stored records are upgraded by upgrades.2: rename release_date → air_date)',
        '  ~ "release_date" reserved',
        '  ~ air_date renamed from release_date [breaking]',
        '  ~ status enum value "scheduled" added',
        '  + subtitle added: optional string, at most 200 characters',
        '',
      ].join('\n'),
    );
  });

  it('writes one section per release, newest first, and the unreleased changes on top', () => {
    const report = check(
      [v('1.0.0'), v('1.1.0', { fields: (f) => f + SUBTITLE })],
      v('1.2.0', {
        fields: field(
          'slug: { type: string, max_length: 100 }',
          'slug: { type: string, max_length: 100, indexed: true }',
        ),
      }),
    );
    const changelog = renderChangelog(readReleases(report.dir), report.contract);
    const headings = changelog.split('\n').filter((l) => l.startsWith('## '));
    expect(headings).toEqual(['## Unreleased (registry_version 1.2.0)', '## 1.1.0', '## 1.0.0']);
    expect(changelog).toContain(
      '## 1.1.0\n\n1 change since 1.0.0.\n\n### episode (registry/entities/episode.yaml)\n\n- `subtitle` added: optional string, at most 200 characters\n',
    );
    expect(changelog).toContain('- `slug` indexed');
    expect(changelog).toContain('## 1.0.0\n\nThe first release.');
  });

  it('lists every rule code in the reference table', () => {
    const section = readFileSync(path.join(PROJECT_ROOT, 'docs/reference/compatibility-rules.md'), 'utf8');
    expect(RULE_CODES.filter((code) => !section.includes(`| \`${code}\``))).toEqual([]);
  });
});
