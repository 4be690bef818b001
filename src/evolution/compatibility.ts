// `npm run registry:check`: the working registry against every released snapshot still served.
// Each change is compatible or breaking (see rules.ts); a breaking one passes only with a major
// registry_version bump and, for changes to stored values, an upgrade step of the entity that
// covers it. A changed contract also needs a registry_version above the last release's.
import { stepSources, stepTargets } from '../registry/compile-evolution.ts';
import type { EntityContract, RegistryContract } from './contract.ts';
import { keySegments, parentKey, stepFromContract, stepPath, yamlPath } from './contract.ts';
import { compareContracts, describeStep, stepsSince, type Change } from './compare.ts';
import { bumped, bumpLevel, compareVersions, majorOf, type Release } from './releases.ts';
import { RULE_CODES, RULES, type RuleCode } from './rules.ts';

export type Status = 'compatible' | 'covered' | 'breaking' | 'error';

export interface CheckedChange extends Change {
  readonly status: Status;
  /** Why a breaking change passes (`covered by …`) or what it still needs (`needs …`). */
  readonly note?: string;
  /** Against an older release: the change was already there in the latest release. */
  readonly released?: boolean;
}

export interface ReleaseCheck {
  readonly release: Release;
  readonly changes: readonly CheckedChange[];
}

export interface CheckReport {
  readonly version: string;
  readonly latest?: Release;
  /** Served releases, oldest first; the last is the latest release. */
  readonly checks: readonly ReleaseCheck[];
  /** Problems not tied to one release: names reused after a removal, the version bump. */
  readonly problems: readonly CheckedChange[];
  readonly ok: boolean;
}

/**
 * What makes two changes the same difference: for a field, its rule, key (and renamed-from key or
 * removed enum value), not the words, which name the values at both ends (`max_length lowered from
 * 100 to 60` vs `… to 80`); for anything else, the words too.
 */
const changeKey = (c: Change) =>
  c.field === undefined
    ? `${c.rule}|${c.entity ?? ''}|${c.path}|${c.text}`
    : `${c.rule}|${c.entity ?? ''}|${c.field}|${c.from ?? ''}|${c.value ?? ''}`;

const LEVELS = ['patch', 'minor', 'major'] as const;
type Level = (typeof LEVELS)[number];

/** The level of the largest change: major for any breaking one. */
export function neededLevel(changes: readonly Change[]): Level | undefined {
  let level: Level | undefined;
  for (const change of changes) {
    const l = RULES[change.rule].level;
    if (!level || LEVELS.indexOf(l) > LEVELS.indexOf(level)) level = l;
  }
  return level;
}

/**
 * The releases whose records may still be stored or served: those of the current registry's major,
 * of the majors older API versions keep, and the latest release whatever its major.
 */
export function servedReleases(current: RegistryContract, releases: readonly Release[]): Release[] {
  const majors = new Set([
    majorOf(current.registry_version),
    ...current.api_versions.flatMap((v) => (v.release ? [majorOf(v.release)] : [])),
  ]);
  const latest = releases.at(-1);
  return releases.filter((r) => r === latest || majors.has(majorOf(r.version)));
}

export function checkRegistry(
  current: RegistryContract,
  releases: readonly Release[],
  registryFile = 'registry/registry.yaml',
): CheckReport {
  const latest = releases.at(-1);
  const checks = servedReleases(current, releases).map((release) => {
    // What an older release already differs by from the latest one was released: the check of the
    // latest release passed it (or it predates the check). Only what is new is judged again.
    const released = new Set(
      release === latest || !latest
        ? []
        : compareContracts(release.contract, latest.contract, registryFile).map(changeKey),
    );
    return {
      release,
      changes: compareContracts(release.contract, current, registryFile).map((change): CheckedChange => {
        const judged = judge(change, release.contract, current);
        if (!released.has(changeKey(change))) return judged;
        if (judged.status !== 'breaking') return { ...judged, released: true };
        return { ...change, status: 'covered', released: true, note: `already released in ${latest!.version}` };
      }),
    };
  });
  const problems = [
    ...reusedNames(current, releases, checks),
    ...versionProblems(current, latest, checks.at(-1)?.changes ?? [], registryFile),
  ];
  const ok =
    problems.length === 0 &&
    checks.every((c) => c.changes.every((ch) => ch.status !== 'breaking' && ch.status !== 'error'));
  return { version: current.registry_version, latest, checks, problems, ok };
}

/** Decides whether a change passes against one release. */
export function judge(change: Change, release: RegistryContract, current: RegistryContract): CheckedChange {
  const rule = RULES[change.rule];
  if (rule.verdict === 'compatible') return { ...change, status: 'compatible' };
  if (rule.needs === 'never') return { ...change, status: 'breaking', note: `not allowed: ${rule.cover}` };
  const missing: string[] = [];
  const releasedMajor = majorOf(release.registry_version);
  const majorBumped = majorOf(current.registry_version) > releasedMajor;
  if (!majorBumped) missing.push(`a major registry_version bump (${bumped(release.registry_version, 'major')})`);
  let covering: string | undefined;
  if (rule.needs === 'step' && change.entity) {
    const before = release.entities[change.entity]!;
    const after = current.entities[change.entity]!;
    const found = coveringStep(change, before, after);
    if (found) covering = found;
    else if (isStepRule(change.rule)) missing.push(stepNeeded(change.rule, change, before, after));
    const reserve = reservedNeeded(change, after);
    if (reserve) missing.push(reserve);
  }
  if (missing.length > 0) return { ...change, status: 'breaking', note: `needs ${joinWords(missing)}` };
  return {
    ...change,
    status: 'covered',
    note: `covered by registry_version ${current.registry_version}${covering ? ` and ${covering}` : ''}`,
  };
}

const joinWords = (items: readonly string[]) => items.join(', plus ');

/** A top-level field that disappears (removed, renamed, moved away) leaves its name in `reserved`. */
function reservedNeeded(change: Change, after: EntityContract): string | undefined {
  const gone =
    change.rule === 'FIELD_REMOVED' ? change.field : change.rule === 'FIELD_RENAMED' ? change.from : undefined;
  if (!gone || gone.includes('.') || gone.includes('[]') || after.reserved.includes(gone)) return undefined;
  return `"${gone}" in reserved (reserved: [${[...after.reserved, gone].join(', ')}])`;
}

function coveringStep(change: Change, before: EntityContract, after: EntityContract): string | undefined {
  const steps = stepsSince(after, before.schema_version);
  const field = stepPath(change.field ?? '');
  const from = change.from === undefined ? undefined : stepPath(change.from);
  const names = (paths: readonly (readonly string[])[]) => paths.map((p) => p.join('.'));
  const found = steps.find(({ step }) => {
    const s = stepFromContract(step);
    const sources = names(stepSources(s));
    const targets = names(stepTargets(s));
    switch (change.rule) {
      case 'FIELD_REMOVED':
        return sources.includes(field);
      case 'FIELD_RENAMED':
        return (
          (s.kind === 'rename' || s.kind === 'move') &&
          from !== undefined &&
          isUnder(from, s.from.join('.')) &&
          isUnder(field, s.to.join('.'))
        );
      case 'MADE_REQUIRED':
      case 'REQUIRED_ADDED_WITHOUT_DEFAULT':
        // Only a set_default gives every stored record a value: a rename, move or split onto the
        // field leaves it empty where the source was.
        return s.kind === 'set_default' && targets.includes(field);
      case 'ENUM_VALUE_REMOVED':
        return (
          s.kind === 'map_values' && s.field.join('.') === field && change.value !== undefined && change.value in s.map
        );
      default:
        // A step that merely names the field covers nothing else: the other breaking changes
        // with steps are above, and type or target changes are never allowed (rules.ts).
        return false;
    }
  });
  return found && `upgrades.${found.version}.${found.index} (${describeStep(found.step)})`;
}

const isUnder = (key: string, prefix: string) => key === prefix || key.startsWith(`${prefix}.`);

/** The rules a step covers (`needs: step`): stepNeeded says, for each, which step. */
const STEP_RULES = [
  'FIELD_REMOVED',
  'FIELD_RENAMED',
  'MADE_REQUIRED',
  'REQUIRED_ADDED_WITHOUT_DEFAULT',
  'ENUM_VALUE_REMOVED',
] as const satisfies readonly RuleCode[];
type StepRule = (typeof STEP_RULES)[number];
const isStepRule = (code: RuleCode): code is StepRule => (STEP_RULES as readonly RuleCode[]).includes(code);
// A new rule that a step covers must say which step here: the module refuses to load without it.
for (const code of RULE_CODES)
  if (RULES[code].needs === 'step' && !isStepRule(code)) throw new Error(`stepNeeded has no message for ${code}`);

function stepNeeded(rule: StepRule, change: Change, before: EntityContract, after: EntityContract): string {
  const version = Math.max(after.schema_version, before.schema_version + 1);
  const where =
    after.schema_version > before.schema_version
      ? `under upgrades.${version}`
      : `(raise schema_version to ${version} and add it under upgrades.${version})`;
  const field = stepPath(change.field ?? '');
  switch (rule) {
    case 'FIELD_REMOVED':
      return `an upgrade step ${where} that removes it ({remove: {field: ${field}}}) or renames or moves it away`;
    case 'FIELD_RENAMED':
      return `an upgrade step ${where}: {rename: {from: ${stepPath(change.from ?? '')}, to: ${field}}} (or move)`;
    case 'MADE_REQUIRED':
    case 'REQUIRED_ADDED_WITHOUT_DEFAULT':
      return `an upgrade step ${where} giving stored records a value: {set_default: {field: ${field}, value: …}}`;
    case 'ENUM_VALUE_REMOVED':
      return `an upgrade step ${where} mapping stored values: {map_values: {field: ${field}, map: {${change.value}: …}}}`;
  }
}

/**
 * A field that a release had and a later release dropped may not come back: records stored before
 * still hold the old values under that name (protobuf's `reserved`, kept even when someone takes
 * the name out of the list).
 */
function reusedNames(
  current: RegistryContract,
  releases: readonly Release[],
  checks: readonly ReleaseCheck[],
): CheckedChange[] {
  const latest = releases.at(-1);
  const problems: CheckedChange[] = [];
  const flagged = new Set(
    checks.flatMap((c) =>
      c.changes.filter((ch) => ch.rule === 'RESERVED_NAME_REUSED').map((ch) => `${ch.entity}|${ch.field}`),
    ),
  );
  for (const [name, entity] of Object.entries(current.entities)) {
    for (const key of Object.keys(entity.fields)) {
      if (latest?.contract.entities[name]?.fields[key] || flagged.has(`${name}|${key}`)) continue;
      const parent = parentKey(key);
      if (parent !== undefined && !latest?.contract.entities[name]?.fields[parent]) continue;
      const gone = droppedIn(releases, name, key);
      if (!gone) continue;
      flagged.add(`${name}|${key}`);
      problems.push({
        rule: 'RESERVED_NAME_REUSED',
        entity: name,
        field: key,
        file: entity.file,
        path: yamlPath(key),
        text: `added, but ${key} was a field until release ${gone.had} and was removed in ${gone.removedIn}`,
        status: 'breaking',
        note: `not allowed: ${RULES.RESERVED_NAME_REUSED.cover}`,
      });
    }
  }
  return problems;
}

function droppedIn(
  releases: readonly Release[],
  entity: string,
  key: string,
): { had: string; removedIn: string } | undefined {
  const top = keySegments(key).length === 1 && !key.includes('[]');
  for (let i = 0; i + 1 < releases.length; i++) {
    const [a, b] = [releases[i]!.contract.entities[entity], releases[i + 1]!.contract.entities[entity]];
    if (a?.fields[key] && b && !b.fields[key])
      return { had: releases[i]!.version, removedIn: releases[i + 1]!.version };
  }
  const reserving = top ? releases.find((r) => r.contract.entities[entity]?.reserved.includes(key)) : undefined;
  return reserving && { had: 'an earlier version', removedIn: `${reserving.version} (reserved there)` };
}

function versionProblems(
  current: RegistryContract,
  latest: Release | undefined,
  sinceLatest: readonly Change[],
  registryFile: string,
): CheckedChange[] {
  if (!latest) return [];
  const problem = (text: string): CheckedChange => ({
    rule: 'VERSION_NOT_BUMPED',
    file: registryFile,
    path: 'registry_version',
    text,
    status: 'error',
  });
  const version = current.registry_version;
  if (compareVersions(version, latest.version) < 0)
    return [problem(`${version} is older than the last release, ${latest.version}`)];
  const needed = neededLevel(sinceLatest);
  if (!needed) return [];
  const level = bumpLevel(latest.version, version);
  const count = `${sinceLatest.length} change${sinceLatest.length === 1 ? '' : 's'}`;
  if (!level) {
    return [
      problem(
        `the contract changed since release ${latest.version} (${count}) but registry_version is still ${version}: raise it to ${bumped(latest.version, needed)} (${needed === 'major' ? 'major: breaking changes' : needed === 'minor' ? 'minor: compatible changes' : 'patch: descriptions only'})`,
      ),
    ];
  }
  if (needed === 'minor' && level === 'patch') {
    return [
      problem(
        `${version} is a patch bump, which is for description changes only; the ${count} since ${latest.version} need a minor bump: ${bumped(latest.version, 'minor')}`,
      ),
    ];
  }
  return [];
}

const STATUS_WORDS: Record<Status, string> = {
  compatible: 'compatible',
  covered: 'breaking (covered)',
  breaking: 'breaking',
  error: 'error',
};

/** `file: path: RULE: verdict: subject what happened; note`. */
export function formatChange(change: CheckedChange): string {
  const subject = change.entity ? `${change.entity}${change.field ? `.${change.field}` : ''} ` : '';
  return `${change.file}: ${change.path}: ${change.rule}: ${STATUS_WORDS[change.status]}: ${subject}${change.text}${change.note ? `; ${change.note}` : ''}`;
}

/**
 * The report as printed: the latest release in full; then each older served release (newest first)
 * with only the breaking lines not already printed; then the problems and a one-line summary.
 */
export function formatReport(
  report: CheckReport,
  options: { verbose?: boolean } = {},
): { lines: string[]; summary: string } {
  const lines: string[] = [];
  if (!report.latest) {
    return {
      lines,
      summary: `registry check: no released snapshot in registry/releases/ to compare ${report.version} with; \`npm run registry:release\` writes the first one`,
    };
  }
  const printed = new Set<string>();
  const quiet: string[] = [];
  for (const check of [...report.checks].reverse()) {
    const isLatest = check.release === report.latest;
    const fresh = check.changes.filter((c) => !c.released);
    const relevant = options.verbose
      ? check.changes
      : isLatest
        ? fresh
        : fresh.filter((c) => c.status !== 'compatible');
    const shown = relevant.map(formatChange).filter((line) => !printed.has(line));
    if (!isLatest && shown.length === 0) {
      quiet.push(check.release.version);
      continue;
    }
    const breaking = fresh.filter((c) => c.status !== 'compatible').length;
    const counts = fresh.length === 0 ? 'no changes' : `${count(fresh.length, 'change')}, ${breaking} breaking`;
    const released = check.changes.length - fresh.length;
    const history = released
      ? ` (besides ${count(released, 'earlier change')} released by ${report.latest.version})`
      : '';
    lines.push(
      `${report.version} against release ${check.release.version} (${check.release.file}): ${counts}${history}`,
    );
    for (const line of shown) {
      printed.add(line);
      lines.push(`  ${line}`);
    }
  }
  if (quiet.length > 0)
    lines.push(
      `${report.version} against older served ${quiet.length === 1 ? 'release' : 'releases'} ${quiet.reverse().join(', ')}: no other breaking changes`,
    );
  for (const problem of report.problems) lines.push(formatChange(problem));
  const failing = new Set(
    [...report.checks.flatMap((c) => c.changes), ...report.problems]
      .filter((c) => c.status === 'breaking' || c.status === 'error')
      .map(formatChange),
  ).size;
  const served = `${report.checks.length === 1 ? 'release' : 'releases'} ${report.checks.map((c) => c.release.version).join(', ')}`;
  const summary = report.ok
    ? `registry check passed: ${report.version} against ${served}`
    : `registry check failed: ${count(failing, 'problem')} (${report.version} against ${served})`;
  return { lines, summary };
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
