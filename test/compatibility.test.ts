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
import {
  CASES,
  NETWORK,
  SHOW,
  drop,
  field,
  type Registry,
  SUBTITLE,
  upgrades,
  v,
  writeRegistry,
} from './support/compatibility-cases.ts';
import { shippedModel } from './support/fixtures.ts';

const root = mkdtempSync(path.join(tmpdir(), 'reelmeta-compat-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

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

  it('does not re-flag a released difference whose details changed since, when the change since is compatible', () => {
    // 1.1.0 lowered max_length 100 → 60 (released before the check existed); 1.2.0 relaxes it to
    // 80. Against 1.0.0 that reads "lowered from 100 to 80": the same released difference, not a new one.
    const slug = (n: number) =>
      field('slug: { type: string, max_length: 100 }', `slug: { type: string, max_length: ${n} }`);
    const report = check([v('1.0.0'), v('1.1.0', { fields: slug(60) })], v('1.2.0', { fields: slug(80) }));
    expect(report.ok, formatReport(report).lines.join('\n')).toBe(true);
    const older = report.checks[0]!.changes.find((c) => c.rule === 'MAX_LENGTH_LOWERED')!;
    expect(older).toMatchObject({ status: 'covered', released: true });
    expect(report.checks[1]!.changes.map((c) => `${c.rule}:${c.status}`)).toEqual(['LIMIT_RELAXED:compatible']);
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
