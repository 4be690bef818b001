// `npm run registry:check`, `registry:release` and `registry:diff` on the repository and on copies
// of it: a new optional field goes through by YAML alone, a breaking change fails with its line,
// a release is written once, and generated/CHANGELOG.md follows the snapshots.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bumped } from '../src/evolution/releases.ts';
import { runCli } from './support/cli.ts';
import { copyProject, type ProjectCopy } from './support/project-copy.ts';
import { REGISTRY_VERSION } from './support/project-facts.ts';

let copy: ProjectCopy | undefined;
afterEach(() => copy?.remove());

const EPISODE = 'registry/entities/episode.yaml';
const REGISTRY = 'registry/registry.yaml';
const NEXT_MINOR = bumped(REGISTRY_VERSION, 'minor');

const addSponsor = (yaml: string) =>
  yaml.replace(
    '  # --- Production content',
    '  sponsor:\n    type: string\n    max_length: 120\n    description: Brand sponsoring the episode.\n  # --- Production content',
  );
const setVersion = (version: string) => (yaml: string) =>
  yaml.replace(/^registry_version: .*$/m, `registry_version: ${version}`);

describe('npm run registry:check', () => {
  it('passes on the repository as committed', async () => {
    const result = await runCli(['registry', 'check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^registry check passed: ${REGISTRY_VERSION.replace(/\./g, '\\.')} against release`, 'm'),
    );
  });

  it('fails on a removed field and prints file: path: rule: verdict: message', async () => {
    copy = copyProject();
    copy.edit(EPISODE, (t) => t.replace(/\n {2}language:\n(?: {4}.*\n)+/, '\n'));
    copy.edit(REGISTRY, setVersion(NEXT_MINOR));
    const result = await runCli(['registry', 'check'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `registry/entities/episode.yaml: fields.language: FIELD_REMOVED: breaking: episode.language removed (was: optional string, at most 35 characters, matching ^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$); needs a major registry_version bump (${bumped(REGISTRY_VERSION, 'major')})`,
    );
    expect(result.stdout).toMatch(/^registry check failed: 1 problem/m);
  });

  it('asks for the version bump a change needs', async () => {
    copy = copyProject();
    copy.edit(EPISODE, addSponsor);
    const result = await runCli(['registry', 'check'], copy.env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `registry/registry.yaml: registry_version: VERSION_NOT_BUMPED: error: the contract changed since release ${REGISTRY_VERSION} (1 change) but registry_version is still ${REGISTRY_VERSION}: raise it to ${NEXT_MINOR} (minor: compatible changes)`,
    );
  });
});

describe('a new optional field, from YAML to release', () => {
  it('passes the check, shows in the diff and the CHANGELOG, and is released once', async () => {
    copy = copyProject();
    copy.edit(EPISODE, addSponsor);
    copy.edit(REGISTRY, setVersion(NEXT_MINOR));

    const checked = await runCli(['registry', 'check'], copy.env);
    expect(checked.code, checked.stdout).toBe(0);
    expect(checked.stdout).toContain(
      'registry/entities/episode.yaml: fields.sponsor: FIELD_ADDED: compatible: episode.sponsor added: optional string, at most 120 characters — Brand sponsoring the episode.',
    );

    const diff = await runCli(['registry', 'diff'], copy.env);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toBe(
      `registry diff: release ${REGISTRY_VERSION} → working registry ${NEXT_MINOR}: 1 change, 0 breaking\n\nepisode (registry/entities/episode.yaml)\n  + sponsor added: optional string, at most 120 characters — Brand sponsoring the episode.\n`,
    );

    const stale = await runCli(['codegen', '--check'], copy.env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/stale: .*generated\/CHANGELOG\.md/);
    expect((await runCli(['codegen'], copy.env)).code).toBe(0);
    expect(copy.read('generated/CHANGELOG.md')).toContain(
      `## Unreleased (registry_version ${NEXT_MINOR})\n\n1 change since ${REGISTRY_VERSION}.\n\n### episode (registry/entities/episode.yaml)\n\n- \`sponsor\` added`,
    );

    const released = await runCli(['registry', 'release'], copy.env);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toMatch(
      new RegExp(
        `^released ${NEXT_MINOR.replace(/\./g, '\\.')}: wrote registry/releases/${NEXT_MINOR.replace(/\./g, '\\.')}\\.json and .*CHANGELOG\\.md`,
      ),
    );
    expect(existsSync(path.join(copy.registryDir, 'releases', `${NEXT_MINOR}.json`))).toBe(true);
    const changelog = copy.read('generated/CHANGELOG.md');
    expect(changelog).not.toContain('Unreleased');
    expect(changelog.indexOf(`## ${NEXT_MINOR}\n`)).toBeLessThan(changelog.indexOf(`## ${REGISTRY_VERSION}\n`));
    // The release wrote what codegen writes: nothing is stale.
    expect((await runCli(['codegen', '--check'], copy.env)).code).toBe(0);
    expect((await runCli(['registry', 'check'], copy.env)).stdout).toContain(
      `${NEXT_MINOR} against release ${NEXT_MINOR} (registry/releases/${NEXT_MINOR}.json): no changes`,
    );

    const again = await runCli(['registry', 'release'], copy.env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `registry/releases/${NEXT_MINOR}.json is already released with this contract; nothing to do`,
    );

    // The same version with another contract is not released.
    copy.edit(EPISODE, (t) => t.replace('Brand sponsoring the episode.', 'The brand sponsoring the episode.'));
    const refused = await runCli(['registry', 'release'], copy.env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('VERSION_NOT_BUMPED');
    expect(refused.stderr).toContain('release refused: registry check failed');
  }, 180_000);
});

describe('npm run registry:diff', () => {
  it('compares with an older release, and names the releases when asked for an unknown one', async () => {
    const older = await runCli(['registry', 'diff', '--from', '1.6.0']);
    expect(older.code).toBe(0);
    expect(older.stdout).toMatch(/^registry diff: release 1\.6\.0 → working registry /);
    expect(older.stdout).toContain(
      '\nguest (registry/entities/guest.yaml)\n  + added: a new entity (/guests, ids guest_…)',
    );
    expect(older.stdout).toContain('  ~ talent_source type changed from string to enum [breaking]');
    const unknown = await runCli(['registry', 'diff', '--from', '9.9.9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^no release 9\.9\.9 in registry\/releases\/ \(released: 1\.0\.0, .*1\.7\.0/);
  });
});
