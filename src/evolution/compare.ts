// Compares two registry contracts (a release and the working registry, or two releases) and lists
// every difference as a classified change, in words. Renames and moves are followed through the
// newer contract's upgrade steps, so a renamed field is one change, not a removal and an addition.
import path from 'node:path';
import {
  keySegments,
  parentKey,
  sameJson,
  sortKeys,
  stepFromContract,
  stepPath,
  yamlPath,
  type EntityContract,
  type FieldContract,
  type RegistryContract,
  type StepContract,
} from './contract.ts';
import { stepSources, stepTargets } from '../registry/compile-evolution.ts';
import type { RuleCode } from './rules.ts';

export interface Change {
  readonly rule: RuleCode;
  /** The entity the change is about; absent for registry-wide changes (API versions). */
  readonly entity?: string;
  /** The field's contract key in the newer contract (the older one's for a removed field). */
  readonly field?: string;
  /** The older contract's key, when a field was renamed or moved. */
  readonly from?: string;
  /** The enum value removed (ENUM_VALUE_REMOVED), for matching map_values steps. */
  readonly value?: string;
  /** The file to edit and the path in it: `registry/entities/episode.yaml`, `fields.release_date`. */
  readonly file: string;
  readonly path: string;
  /** What happened, in words, after the subject (`episode.release_date`): `removed (a date)`. */
  readonly text: string;
}

const list = (values: readonly unknown[]) =>
  values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
const quoted = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ');
const json = (value: unknown) => JSON.stringify(sortKeys(value));

/** A field in words: `optional string, at most 120 characters, indexed`. */
export function describeField(contract: EntityContract, key: string): string {
  const f = contract.fields[key]!;
  const type =
    f.type === 'enum'
      ? `enum (${list(f.values ?? [])}${f.other_pattern ? `, or matching ${f.other_pattern}` : ''})`
      : f.type === 'ref'
        ? `ref to ${f.to}`
        : f.type === 'refs'
          ? `links to ${f.to}${f.role ? ` with ${f.role.required ? 'a required' : 'a'} role${f.role.values ? ` (${list(f.role.values)})` : ''}` : ''}`
          : f.type === 'array' && contract.fields[`${key}[]`]
            ? `list of ${describeType(contract.fields[`${key}[]`]!)}`
            : f.type === 'object' && !Object.keys(contract.fields).some((k) => k.startsWith(`${key}.`))
              ? 'open object'
              : f.type;
  const parts = [`${f.read_only ? 'server-owned' : f.required ? 'required' : 'optional'} ${type}`];
  if (f.default !== undefined) parts.push(`default ${json(f.default)}`);
  parts.push(...limits(f));
  if (f.indexed) parts.push('indexed');
  if (f.searchable) parts.push('searchable');
  if (f.storage === 'document') parts.push('stored in the document');
  if (f.deprecated) parts.push('deprecated');
  if (f.count) parts.push(`counts ${f.count.entity} through ${f.count.path}`);
  if (f.link_roles) parts.push(`roles of ${f.link_roles.entity} links through ${f.link_roles.path}`);
  return parts.join(', ');
}

const describeType = (f: FieldContract) => (f.type === 'enum' ? `enum (${list(f.values ?? [])})` : f.type);

function limits(f: FieldContract): string[] {
  const parts: string[] = [];
  if (f.max_length !== undefined) parts.push(`at most ${f.max_length} characters`);
  if (f.max_items !== undefined) parts.push(`at most ${f.max_items} items`);
  if (f.minimum !== undefined && f.maximum !== undefined) parts.push(`from ${f.minimum} to ${f.maximum}`);
  else if (f.minimum !== undefined) parts.push(`at least ${f.minimum}`);
  else if (f.maximum !== undefined) parts.push(`at most ${f.maximum}`);
  if (f.pattern !== undefined) parts.push(`matching ${f.pattern}`);
  return parts;
}

/** Where a field's changes are reported: its mixin's file when a mixin declares it. */
function fieldFile(contract: EntityContract, key: string): string {
  const mixin = contract.fields[key]?.mixin;
  return mixin ? path.join(path.dirname(path.dirname(contract.file)), 'mixins', `${mixin}.yaml`) : contract.file;
}

/** The steps that take a record from `fromVersion` to the contract's schema_version, oldest first. */
export function stepsSince(
  contract: EntityContract,
  fromVersion: number,
): { version: number; index: number; step: StepContract }[] {
  return Object.entries(contract.upgrades)
    .map(([version, steps]) => ({ version: Number(version), steps }))
    .filter(({ version }) => version > fromVersion && version <= contract.schema_version)
    .sort((a, b) => a.version - b.version)
    .flatMap(({ version, steps }) => steps.map((step, index) => ({ version, index, step })));
}

export function describeStep(step: StepContract): string {
  const s = stepFromContract(step);
  const d = (p: readonly string[]) => p.join('.');
  switch (s.kind) {
    case 'rename':
    case 'move':
      return `${s.kind} ${d(s.from)} → ${d(s.to)}`;
    case 'set_default':
      return `set_default ${d(s.field)} = ${json(s.value)}`;
    case 'split':
      return `split ${d(s.from)} on ${json(s.separator)} → ${s.to.map(d).join(', ')}`;
    case 'join':
      return `join ${s.from.map(d).join(', ')} with ${json(s.separator)} → ${d(s.to)}`;
    case 'map_values':
      return `map_values ${d(s.field)} (${Object.entries(s.map)
        .map(([a, b]) => `${a} → ${b}`)
        .join(', ')})`;
    case 'remove':
      return `remove ${d(s.field)}`;
  }
}

/** A contract key after a rename/move of `from` to `to` (step paths, without list markers). */
function moveKey(key: string, from: string, to: string, after: EntityContract): string {
  const segments = keySegments(key);
  const fromSegments = from.split('.');
  if (segments.length < fromSegments.length) return key;
  for (let i = 0; i < fromSegments.length; i++)
    if (segments[i]!.replace(/(\[\])+$/, '') !== fromSegments[i]) return key;
  const suffix = segments[fromSegments.length - 1]!.slice(fromSegments.at(-1)!.length);
  const built: string[] = [];
  to.split('.').forEach((segment, i, all) => {
    if (i === all.length - 1) built.push(`${segment}${suffix}`);
    else built.push(after.fields[[...built, segment].join('.')]?.type === 'array' ? `${segment}[]` : segment);
  });
  return [...built, ...segments.slice(fromSegments.length)].join('.');
}

/** The child key of `parent` that `key` is (keeps the list marker or the last name). */
function childOf(parent: string, key: string): string {
  const own = parentKey(key)!;
  return key.endsWith('[]') && own === key.slice(0, -2) ? `${parent}[]` : `${parent}.${key.slice(own.length + 1)}`;
}

/** Everything below `key`, by relative key, without descriptions: for guessing renames. */
function subtree(contract: EntityContract, key: string): unknown {
  const strip = ({ description: _d, mixin: _m, ...rest }: FieldContract) => rest;
  return Object.fromEntries(
    Object.entries(contract.fields)
      .filter(([k]) => k === key || k.startsWith(`${key}.`) || k.startsWith(`${key}[]`))
      .map(([k, f]) => [k.slice(key.length), strip(f)]),
  );
}

// Only widenings the column takes as it is: integer → number would change bigint to double precision.
const WIDENINGS: readonly string[] = ['string→text'];

/** Every difference between two contracts of one registry, oldest first. */
export function compareContracts(
  before: RegistryContract,
  after: RegistryContract,
  registryFile = 'registry/registry.yaml',
): Change[] {
  const changes: Change[] = [];
  for (const [name, old] of Object.entries(before.entities)) {
    const now = after.entities[name];
    if (!now)
      changes.push({
        rule: 'ENTITY_REMOVED',
        entity: name,
        file: old.file,
        path: '(root)',
        text: `removed (its table ${old.plural} and the records in it stay until dropped by hand)`,
      });
    else changes.push(...compareEntities(name, old, now));
  }
  for (const [name, now] of Object.entries(after.entities)) {
    if (before.entities[name]) continue;
    const count = Object.keys(now.fields).filter((k) => !k.includes('.') && !k.includes('[]')).length;
    changes.push({
      rule: 'ENTITY_ADDED',
      entity: name,
      file: now.file,
      path: '(root)',
      text: `added: a new entity (/${now.plural.replace(/_/g, '-')}, ids ${now.id_prefix}_…) with ${count} fields${now.description ? `: ${now.description}` : ''}`,
    });
  }
  const apiNames = (c: RegistryContract) => new Map(c.api_versions.map((v) => [v.name, v]));
  const [was, is] = [apiNames(before), apiNames(after)];
  for (const [name, version] of is) {
    const old = was.get(name);
    if (!old)
      changes.push({
        rule: 'API_VERSION_ADDED',
        file: registryFile,
        path: 'api_versions',
        text: `API version ${name} added${version.release ? ` (keeps release ${version.release}'s shapes)` : ''}`,
      });
    else if (!sameJson(old, version))
      changes.push({
        rule: 'OPTION_CHANGED',
        file: registryFile,
        path: 'api_versions',
        text: `API version ${name} changed: ${json(old)} → ${json(version)}`,
      });
  }
  for (const name of was.keys()) {
    if (!is.has(name))
      changes.push({
        rule: 'API_VERSION_REMOVED',
        file: registryFile,
        path: 'api_versions',
        text: `API version ${name} is no longer served`,
      });
  }
  return changes;
}

function compareEntities(entity: string, before: EntityContract, after: EntityContract): Change[] {
  const changes: Change[] = [];
  const at = (rule: RuleCode, where: string, text: string, extra: Partial<Change> = {}) =>
    changes.push({ rule, entity, file: after.file, path: where, text, ...extra });

  if (before.plural !== after.plural)
    at('PLURAL_CHANGED', 'plural', `plural changed from ${before.plural} to ${after.plural} (its table and URL)`);
  if (before.id_prefix !== after.id_prefix)
    at('ID_PREFIX_CHANGED', 'id_prefix', `id_prefix changed from ${before.id_prefix} to ${after.id_prefix}`);
  if (before.description !== after.description) at('DESCRIPTION_CHANGED', 'description', `description changed`);
  if (after.schema_version < before.schema_version) {
    at(
      'SCHEMA_VERSION_LOWERED',
      'schema_version',
      `schema_version went down from ${before.schema_version} to ${after.schema_version}`,
    );
  } else if (after.schema_version > before.schema_version) {
    const steps = stepsSince(after, before.schema_version);
    const versions = [...new Set(steps.map((s) => s.version))].map(
      (v) =>
        `upgrades.${v}: ${steps
          .filter((s) => s.version === v)
          .map((s) => describeStep(s.step))
          .join('; ')}`,
    );
    at(
      'SCHEMA_VERSION_RAISED',
      'schema_version',
      `schema_version ${before.schema_version} → ${after.schema_version}${versions.length ? ` (stored records are upgraded by ${versions.join(' | ')})` : ''}`,
    );
  }
  for (const [version, steps] of Object.entries(before.upgrades)) {
    if (!sameJson(steps, after.upgrades[version] ?? []))
      at(
        'UPGRADES_REWRITTEN',
        `upgrades.${version}`,
        `upgrade steps to schema_version ${version} changed after they were released`,
      );
  }
  for (const name of before.reserved.filter((n) => !after.reserved.includes(n)))
    at('RESERVED_REMOVED', 'reserved', `"${name}" taken out of reserved`);
  for (const name of after.reserved.filter((n) => !before.reserved.includes(n)))
    at('RESERVED_ADDED', 'reserved', `"${name}" reserved`);

  changes.push(...compareFields(entity, before, after));

  // unique: a new set is a new constraint unless an old set already implied it (a subset).
  const implied = (set: readonly string[], sets: readonly (readonly string[])[]) =>
    sets.some((other) => other.every((f) => set.includes(f)));
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((f) => b.includes(f));
  after.unique.forEach((set, index) => {
    if (before.unique.some((old) => sameSet(old, set))) return;
    if (implied(set, before.unique))
      at('LIMIT_RELAXED', `unique.${index}`, `unique set (${list(set)}) replaces a stricter one`);
    else
      at('UNIQUE_ADDED', `unique.${index}`, `unique set (${list(set)}) added: live records may not share these values`);
  });
  for (const set of before.unique) {
    const replaced = after.unique.some(
      (now) => !before.unique.some((old) => sameSet(old, now)) && set.every((f) => now.includes(f)),
    );
    if (!after.unique.some((now) => sameSet(now, set)) && !replaced)
      at('UNIQUE_REMOVED', 'unique', `unique set (${list(set)}) removed`);
  }
  const setsChanged = (a: readonly (readonly string[])[], b: readonly (readonly string[])[]) =>
    a.length !== b.length || a.some((set) => !b.some((other) => sameSet(set, other)));
  if (setsChanged(before.duplicate_warnings, after.duplicate_warnings)) {
    at(
      'OPTION_CHANGED',
      'duplicate_warnings',
      `duplicate warnings changed from ${json(before.duplicate_warnings)} to ${json(after.duplicate_warnings)}`,
    );
  }

  for (const [name, preset] of Object.entries(after.presets)) {
    const old = before.presets[name];
    if (!old) at('PRESET_ADDED', `presets.${name}`, `preset ?${name}=true added: ${json(preset.filter)}`);
    else if (!sameJson(old.filter, preset.filter))
      at(
        'PRESET_CHANGED',
        `presets.${name}`,
        `preset ?${name}= now filters ${json(preset.filter)} (was ${json(old.filter)})`,
      );
    else if (old.description !== preset.description)
      at('DESCRIPTION_CHANGED', `presets.${name}`, `preset ${name}'s description changed`);
  }
  for (const name of Object.keys(before.presets))
    if (!after.presets[name]) at('PRESET_REMOVED', 'presets', `preset ?${name}= removed`);
  const [aliasesWere, aliasesAre] = [before.query_aliases ?? {}, after.query_aliases ?? {}];
  for (const [name, alias] of Object.entries(aliasesAre)) {
    const old = Object.hasOwn(aliasesWere, name) ? aliasesWere[name] : undefined;
    if (!old)
      at('QUERY_ALIAS_ADDED', `query_aliases.${name}`, `query alias ?${name}= added for ${alias.paths.join(', ')}`);
    else if (!sameJson(old, alias))
      at(
        'QUERY_ALIAS_REMOVED',
        `query_aliases.${name}`,
        `query alias ?${name}= changed from ${json(old)} to ${json(alias)}`,
      );
  }
  for (const name of Object.keys(aliasesWere))
    if (!Object.hasOwn(aliasesAre, name)) at('QUERY_ALIAS_REMOVED', 'query_aliases', `query alias ?${name}= removed`);
  for (const key of ['schedule', 'expiry', 'conversion'] as const) {
    if (sameJson(before[key] ?? null, after[key] ?? null)) continue;
    const how = before[key] === undefined ? 'added' : after[key] === undefined ? 'removed' : 'changed';
    at('BEHAVIOUR_CHANGED', key, `${key} ${how}${after[key] ? `: ${json(after[key])}` : ''}`);
  }
  for (const [name, view] of Object.entries(after.views)) {
    const old = before.views[name];
    const target = (v: typeof view) => json(v.field ?? v.fields);
    if (!old)
      at(
        'VIEW_ADDED',
        `views.${name}`,
        `view /${after.plural.replace(/_/g, '-')}/{id}/${name} added (${target(view)})`,
      );
    else if (target(old) !== target(view))
      at('VIEW_CHANGED', `views.${name}`, `view ${name} now maps ${target(view)} (was ${target(old)})`);
    else if (old.description !== view.description)
      at('DESCRIPTION_CHANGED', `views.${name}`, `view ${name}'s description changed`);
  }
  const route = (name: string) => `/${after.plural.replace(/_/g, '-')}/{id}/${name}`;
  for (const name of Object.keys(before.views)) {
    if (after.views[name]) continue;
    // The same route, now a record of its own: GET still answers its fields (and more), PUT takes them.
    if (after.parts?.[name])
      at(
        'VIEW_BECAME_PART',
        `parts.${name}`,
        `view ${route(name)} is now the ${after.parts[name]!.entity} part at the same route`,
      );
    else at('VIEW_REMOVED', 'views', `view ${route(name)} removed`);
  }
  for (const [name, part] of Object.entries(after.parts ?? {})) {
    const old = before.parts?.[name];
    if (!old && before.views[name]) continue; // reported as VIEW_BECAME_PART
    if (!old) at('PART_ADDED', `parts.${name}`, `part ${route(name)} added (${part.entity} by ${part.via})`);
    else if (!sameJson(old, part))
      at('PART_CHANGED', `parts.${name}`, `part ${name} now ${json(part)} (was ${json(old)})`);
  }
  for (const name of Object.keys(before.parts ?? {}))
    if (!after.parts?.[name]) at('PART_REMOVED', 'parts', `part ${route(name)} removed`);
  if (!sameJson(before.versions ?? null, after.versions ?? null)) {
    at(
      before.versions ? 'VERSIONS_CHANGED' : 'VERSIONS_ADDED',
      'versions',
      `versions ${after.versions ? json(after.versions) : 'removed'}`,
    );
  }

  const {
    fields: _f,
    upgrades: _u,
    reserved: _r,
    unique: _q,
    file: _file,
    mixins: _m,
    parts: _p,
    versions: _v,
    ...restBefore
  } = before;
  const {
    fields: _f2,
    upgrades: _u2,
    reserved: _r2,
    unique: _q2,
    file: _file2,
    mixins: _m2,
    parts: _p2,
    versions: _v2,
    ...restAfter
  } = after;
  if (
    changes.length === 0 &&
    (!sameJson(restBefore, restAfter) ||
      !sameJson(before.fields, after.fields) ||
      !sameJson(before.upgrades, after.upgrades))
  ) {
    at('CONTRACT_CHANGED', '(root)', 'contract changed');
  }
  return changes;
}

function compareFields(entity: string, before: EntityContract, after: EntityContract): Change[] {
  const changes: Change[] = [];
  const push = (rule: RuleCode, key: string, contract: EntityContract, text: string, extra: Partial<Change> = {}) =>
    changes.push({ rule, entity, field: key, file: fieldFile(contract, key), path: yamlPath(key), text, ...extra });

  // Follow renames and moves through the steps since the older contract's schema_version.
  const moves = stepsSince(after, before.schema_version)
    .map(({ step }) => stepFromContract(step))
    .flatMap((s) =>
      s.kind === 'rename' || s.kind === 'move' ? [{ from: s.from.join('.'), to: s.to.join('.'), kind: s.kind }] : [],
    );
  const mapKey = (key: string) => moves.reduce((k, m) => moveKey(k, m.from, m.to, after), key);

  const mapped = new Map<string, string>();
  for (const key of Object.keys(before.fields)) mapped.set(key, mapKey(key));
  const targets = new Set([...mapped.values()].filter((k) => k in after.fields));

  const typeChanged = new Set<string>();
  const removed: string[] = [];
  const added = Object.keys(after.fields).filter((k) => !targets.has(k));

  for (const [key, newKey] of mapped) {
    if (!(newKey in after.fields)) {
      removed.push(key);
      continue;
    }
    const parent = parentKey(key);
    const carried = parent !== undefined && childOf(mapped.get(parent)!, key) === newKey;
    if (newKey !== key && !carried) {
      const move = moves.find((m) => stepPath(newKey) === m.to || stepPath(newKey).startsWith(`${m.to}.`));
      push('FIELD_RENAMED', newKey, after, `${move?.kind === 'move' ? 'moved' : 'renamed'} from ${key}`, { from: key });
    }
    if (compareField(before.fields[key]!, after.fields[newKey]!, newKey, after, push)) typeChanged.add(key);
  }

  // Report the outermost removed or added field only; below a type change, the children follow it.
  const removedSet = new Set(removed);
  const topRemoved = removed.filter((k) => {
    const parent = parentKey(k);
    return parent === undefined || (!removedSet.has(parent) && !typeChanged.has(parent));
  });
  const addedSet = new Set(added);
  const typeChangedAfter = new Set([...typeChanged].map((k) => mapped.get(k)!));
  const topAdded = added.filter((k) => {
    const parent = parentKey(k);
    return parent === undefined || (!addedSet.has(parent) && !typeChangedAfter.has(parent));
  });

  // A field removed and one of the same shape added beside it, with no step naming either: a rename.
  const named = new Set(
    stepsSince(after, before.schema_version).flatMap(({ step }) => {
      const s = stepFromContract(step);
      return [...stepSources(s), ...stepTargets(s)].map((p) => p.join('.'));
    }),
  );
  const unnamedRemoved = topRemoved.filter((k) => !named.has(stepPath(k)));
  const unnamedAdded = topAdded.filter((k) => !named.has(stepPath(k)));
  const guessed = new Map<string, string>();
  for (const old of unnamedRemoved) {
    const parent = parentKey(old);
    const newParent = parent === undefined ? undefined : mapped.get(parent);
    const candidates = unnamedAdded.filter(
      (k) => parentKey(k) === newParent && sameJson(subtree(before, old), subtree(after, k)),
    );
    const rivals = unnamedRemoved.filter(
      (k) =>
        candidates.length === 1 &&
        parentKey(k) === parent &&
        sameJson(subtree(before, k), subtree(after, candidates[0]!)),
    );
    if (candidates.length === 1 && rivals.length === 1 && ![...guessed.values()].includes(candidates[0]!))
      guessed.set(old, candidates[0]!);
  }
  for (const [old, now] of guessed)
    push('FIELD_RENAMED', now, after, `looks renamed from ${old} (removed, and a field of the same shape added)`, {
      from: old,
    });

  for (const key of topRemoved.filter((k) => !guessed.has(k))) {
    push('FIELD_REMOVED', key, before, `removed (was: ${describeField(before, key)})`);
  }
  const guessedTargets = new Set(guessed.values());
  for (const key of topAdded.filter((k) => !guessedTargets.has(k))) {
    const f = after.fields[key]!;
    const top = !key.includes('.') && !key.includes('[]');
    if (top && before.reserved.includes(key))
      push('RESERVED_NAME_REUSED', key, after, `added, but "${key}" is reserved: it was a removed field's name`);
    else if (f.required && f.default === undefined && !f.read_only)
      push(
        'REQUIRED_ADDED_WITHOUT_DEFAULT',
        key,
        after,
        `added as a required field without a default (${describeField(after, key)})`,
      );
    else
      push(
        'FIELD_ADDED',
        key,
        after,
        `added: ${describeField(after, key)}${f.description ? ` — ${f.description}` : ''}`,
      );
  }
  return changes;
}

type Push = (rule: RuleCode, key: string, contract: EntityContract, text: string, extra?: Partial<Change>) => void;

/** Compares one field's options; answers whether its type changed (its children then follow it). */
function compareField(was: FieldContract, is: FieldContract, key: string, after: EntityContract, push: Push): boolean {
  const at = (rule: RuleCode, text: string, extra: Partial<Change> = {}) => push(rule, key, after, text, extra);
  if (was.type !== is.type) {
    if ((was.type === 'ref' && is.type === 'refs') || (was.type === 'refs' && is.type === 'ref')) {
      at('REF_CARDINALITY_CHANGED', `changed from ${was.type} (${was.cardinality}) to ${is.type} (${is.cardinality})`);
    } else if (WIDENINGS.includes(`${was.type}→${is.type}`)) {
      at('TYPE_WIDENED', `type widened from ${was.type} to ${is.type}`);
    } else {
      at('TYPE_CHANGED', `type changed from ${was.type} to ${is.type}`);
      if (was.required !== is.required)
        at(is.required ? 'MADE_REQUIRED' : 'MADE_OPTIONAL', is.required ? 'became required' : 'became optional');
      if (was.description !== is.description) at('DESCRIPTION_CHANGED', 'description changed');
      return true;
    }
  }
  if (!was.required && is.required)
    at(
      'MADE_REQUIRED',
      `became required${is.default !== undefined ? ` (default ${json(is.default)} for new records)` : ''}`,
    );
  if (was.required && !is.required) at('MADE_OPTIONAL', 'became optional');

  if (was.default === undefined && is.default !== undefined)
    at('DEFAULT_ADDED', `default ${json(is.default)} added (for new records)`);
  else if (was.default !== undefined && is.default === undefined)
    at(is.required ? 'REQUIRED_DEFAULT_REMOVED' : 'DEFAULT_REMOVED', `default ${json(was.default)} removed`);
  else if (!sameJson(was.default, is.default))
    at('DEFAULT_CHANGED', `default changed from ${json(was.default)} to ${json(is.default)} (for new records)`);

  const oldValues = was.values ?? [];
  const newValues = is.values ?? [];
  for (const value of oldValues.filter((v) => !newValues.includes(v)))
    at('ENUM_VALUE_REMOVED', `enum value "${value}" removed`, { value });
  const addedValues = newValues.filter((v) => !oldValues.includes(v));
  if (addedValues.length > 0)
    at('ENUM_VALUE_ADDED', `enum value${addedValues.length > 1 ? 's' : ''} ${quoted(addedValues)} added`);

  const oldAliases = was.aliases ?? {};
  const newAliases = is.aliases ?? {};
  for (const [alias, target] of Object.entries(oldAliases)) {
    if (newAliases[alias] !== target)
      at(
        'ALIAS_REMOVED',
        newAliases[alias]
          ? `alias "${alias}" now means "${newAliases[alias]}" (was "${target}")`
          : `alias "${alias}" (for "${target}") removed`,
      );
  }
  const newAliasNames = Object.keys(newAliases).filter((a) => !(a in oldAliases));
  if (newAliasNames.length > 0)
    at(
      'ALIAS_ADDED',
      `alias${newAliasNames.length > 1 ? 'es' : ''} ${newAliasNames.map((a) => `"${a}" → "${newAliases[a]}"`).join(', ')} added`,
    );

  if (was.other_pattern !== is.other_pattern) {
    if (was.other_pattern === undefined) at('LIMIT_RELAXED', `other values matching ${is.other_pattern} now accepted`);
    else
      at(
        'PATTERN_CHANGED',
        is.other_pattern === undefined
          ? `other values (matching ${was.other_pattern}) no longer accepted`
          : `other values must match ${is.other_pattern} (was ${was.other_pattern})`,
      );
  }

  compareTransitions(was, is, at);
  compareLimit(at, 'max_length', was.max_length, is.max_length, 'lower', 'MAX_LENGTH_LOWERED', 'characters');
  compareLimit(at, 'max_items', was.max_items, is.max_items, 'lower', 'MAX_ITEMS_LOWERED', 'items');
  compareLimit(at, 'maximum', was.maximum, is.maximum, 'lower', 'MAXIMUM_LOWERED', '');
  compareLimit(at, 'minimum', was.minimum, is.minimum, 'raise', 'MINIMUM_RAISED', '');

  if (was.pattern !== is.pattern) {
    if (was.pattern === undefined) at('PATTERN_ADDED', `must now match ${is.pattern}`);
    else if (is.pattern === undefined) at('LIMIT_RELAXED', `pattern ${was.pattern} removed`);
    else at('PATTERN_CHANGED', `pattern changed from ${was.pattern} to ${is.pattern}`);
  }
  if (was.at_least !== is.at_least) {
    if (is.at_least === undefined) at('LIMIT_RELAXED', `no longer compared with ${was.at_least}`);
    else at('AT_LEAST_ADDED', `must now be at least ${is.at_least}${was.at_least ? ` (was ${was.at_least})` : ''}`);
  }
  if (was.to !== is.to && was.to !== undefined && is.to !== undefined)
    at('REF_TARGET_CHANGED', `now points at ${is.to} (was ${was.to})`);
  compareRole(was, is, at);

  if (!was.indexed && is.indexed) at('INDEX_ADDED', 'indexed');
  if (was.indexed && !is.indexed) at('INDEX_REMOVED', 'no longer indexed');
  if (!was.deprecated && is.deprecated) at('DEPRECATED', 'deprecated: still readable, no longer writable');
  if (was.deprecated && !is.deprecated) at('OPTION_CHANGED', 'no longer deprecated');
  // read_only in the contract is true for counts too.
  const madeReadOnly = !was.read_only && is.read_only === true;
  if (madeReadOnly) at('MADE_READ_ONLY', `now read-only${is.count ? ' (a count)' : ''}: writes of it are not stored`);
  // ref ↔ refs moves the field between a column and links: that is the cardinality change itself.
  const options = (
    [
      'searchable',
      'storage',
      'read_only',
      'on_delete',
      'sequence',
      'count',
      'link_roles',
      'library',
      'normalize',
      'mixin',
    ] as const
  )
    .filter((o) => o !== 'storage' || was.type === is.type)
    // Becoming read-only is MADE_READ_ONLY above.
    .filter(
      (o) => !(madeReadOnly && (o === 'read_only' || ((o === 'count' || o === 'link_roles') && was[o] === undefined))),
    );
  for (const option of options) {
    if (!sameJson(was[option], is[option]))
      at('OPTION_CHANGED', `${option} changed from ${json(was[option] ?? null)} to ${json(is[option] ?? null)}`);
  }
  if (was.description !== is.description) at('DESCRIPTION_CHANGED', 'description changed');
  return false;
}

type At = (rule: RuleCode, text: string, extra?: Partial<Change>) => void;

function compareLimit(
  at: At,
  option: string,
  was: number | undefined,
  is: number | undefined,
  tighter: 'lower' | 'raise',
  rule: RuleCode,
  unit: string,
): void {
  if (was === is) return;
  const u = unit ? ` ${unit}` : '';
  if (is === undefined) return at('LIMIT_RELAXED', `${option} ${was}${u} removed`);
  if (was === undefined) return at(rule, `${option} ${is}${u} added`);
  const stricter = tighter === 'lower' ? is < was : is > was;
  at(
    stricter ? rule : 'LIMIT_RELAXED',
    `${option} ${stricter ? (tighter === 'lower' ? 'lowered' : 'raised') : tighter === 'lower' ? 'raised' : 'lowered'} from ${was} to ${is}${u}`,
  );
}

function compareTransitions(was: FieldContract, is: FieldContract, at: At): void {
  if (sameJson(was.transitions, is.transitions)) return;
  if (!is.transitions) return at('TRANSITION_ADDED', 'transitions removed: any change of value is allowed');
  if (!was.transitions)
    return at('TRANSITION_REMOVED', `transitions added: changes now follow ${json(is.transitions)}`);
  const edges = (t: Readonly<Record<string, readonly string[]>>, values: readonly string[]) =>
    values.flatMap((from) => (t[from] ?? []).map((to) => `${from} → ${to}`));
  const oldEdges = edges(was.transitions, was.values ?? []);
  const newEdges = edges(is.transitions, is.values ?? []);
  const lost = oldEdges.filter(
    (e) =>
      !newEdges.includes(e) &&
      (is.values ?? []).includes(e.split(' → ')[0]!) &&
      (is.values ?? []).includes(e.split(' → ')[1]!),
  );
  const gained = newEdges.filter((e) => !oldEdges.includes(e));
  if (lost.length > 0) at('TRANSITION_REMOVED', `transition${lost.length > 1 ? 's' : ''} ${lost.join(', ')} removed`);
  if (gained.length > 0) at('TRANSITION_ADDED', `transition${gained.length > 1 ? 's' : ''} ${gained.join(', ')} added`);
}

function compareRole(was: FieldContract, is: FieldContract, at: At): void {
  const [a, b] = [was.role, is.role];
  if (sameJson(a, b)) return;
  if (a && !b) return at('ROLE_REMOVED', 'links no longer carry a role');
  if (!a && b) {
    if (b.required || b.values)
      return at(
        'ROLE_NARROWED',
        `links now carry a ${b.required ? 'required ' : ''}role${b.values ? ` (${list(b.values)})` : ''}`,
      );
    return at('OPTION_CHANGED', 'links may now carry a role');
  }
  if (!a || !b) return;
  if (!a.required && b.required) at('ROLE_NARROWED', 'the role became required');
  if (a.required && !b.required) at('LIMIT_RELAXED', 'the role became optional');
  const lostValues = a.values
    ? (b.values ?? []).length === 0
      ? []
      : a.values.filter((v) => !b.values!.includes(v))
    : [];
  if (!a.values && b.values) at('ROLE_NARROWED', `roles limited to ${list(b.values)}`);
  if (a.values && !b.values) at('LIMIT_RELAXED', 'any role text is accepted');
  if (lostValues.length > 0)
    at('ROLE_NARROWED', `role value${lostValues.length > 1 ? 's' : ''} ${quoted(lostValues)} removed`);
  const newValues = a.values && b.values ? b.values.filter((v) => !a.values!.includes(v)) : [];
  if (newValues.length > 0)
    at('LIMIT_RELAXED', `role value${newValues.length > 1 ? 's' : ''} ${quoted(newValues)} added`);
  if (b.max_length < a.max_length)
    at('ROLE_NARROWED', `role max_length lowered from ${a.max_length} to ${b.max_length}`);
  if (b.max_length > a.max_length)
    at('LIMIT_RELAXED', `role max_length raised from ${a.max_length} to ${b.max_length}`);
  if (a.description !== b.description) at('DESCRIPTION_CHANGED', "the role's description changed");
}
