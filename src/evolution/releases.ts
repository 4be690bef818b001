// Released snapshots: registry/releases/<registry_version>.json, one per release, written by
// `npm run registry:release` and committed. They are the history `registry:check` compares against
// and the CHANGELOG is written from; older API versions read their schema_versions from them.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RegistryError } from '../registry/errors.ts';
import { sameJson, stableJson, type RegistryContract } from './contract.ts';

export interface Release {
  readonly version: string;
  /** As shown in messages: `registry/releases/1.7.0.json`. */
  readonly file: string;
  readonly contract: RegistryContract;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function parseVersion(version: string): [number, number, number] {
  const match = SEMVER.exec(version);
  if (!match) throw new Error(`"${version}" is not a version (major.minor.patch)`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export const majorOf = (version: string): number => parseVersion(version)[0];

export function compareVersions(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** The next version for a change of this size: 1.7.0 → 2.0.0, 1.8.0 or 1.7.1. */
export function bumped(version: string, level: 'major' | 'minor' | 'patch'): string {
  const [major, minor, patch] = parseVersion(version);
  if (level === 'major') return `${major + 1}.0.0`;
  if (level === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/** The size of the step from `from` to `to`; undefined when `to` is not newer. */
export function bumpLevel(from: string, to: string): 'major' | 'minor' | 'patch' | undefined {
  if (compareVersions(to, from) <= 0) return undefined;
  const [a, b] = [parseVersion(from), parseVersion(to)];
  return b[0] > a[0] ? 'major' : b[1] > a[1] ? 'minor' : 'patch';
}

export const releasesDir = (registryDir: string): string => path.join(registryDir, 'releases');

const display = (registryDir: string, file: string) => path.join(path.basename(registryDir), 'releases', file);

function isContract(value: unknown): value is RegistryContract {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<RegistryContract>;
  return (
    typeof v.registry_version === 'string' &&
    typeof v.entities === 'object' &&
    v.entities !== null &&
    Object.values(v.entities).every(
      (e) =>
        typeof e === 'object' && e !== null && typeof e.schema_version === 'number' && typeof e.fields === 'object',
    )
  );
}

/** Every released snapshot, oldest first. Throws RegistryError on a file that is not one. */
export function readReleases(registryDir: string): Release[] {
  const dir = releasesDir(registryDir);
  if (!existsSync(dir)) return [];
  const releases: Release[] = [];
  const problems: { file: string; path: string; message: string }[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = display(registryDir, name);
    const version = name.replace(/\.json$/, '');
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    } catch (error) {
      problems.push({ file, path: '', message: `invalid JSON: ${(error as Error).message}` });
      continue;
    }
    if (!SEMVER.test(version))
      problems.push({ file, path: '', message: 'a release snapshot is named after its version, e.g. 1.7.0.json' });
    else if (!isContract(data))
      problems.push({
        file,
        path: '',
        message: 'not a release snapshot (registry_version and entities with schema_version and fields)',
      });
    else if (data.registry_version !== version)
      problems.push({
        file,
        path: 'registry_version',
        message: `is ${data.registry_version}, but the file is named ${name}`,
      });
    else releases.push({ version, file, contract: { ...data, api_versions: data.api_versions ?? [] } });
  }
  if (problems.length > 0) throw new RegistryError(problems);
  return releases.sort((a, b) => compareVersions(a.version, b.version));
}

export class ReleaseRefused extends Error {
  override readonly name = 'ReleaseRefused';
}

/**
 * Writes registry/releases/<version>.json. An existing snapshot of the same version is left alone
 * when it holds the same contract and refused when it does not: a release never changes.
 */
export function writeRelease(registryDir: string, contract: RegistryContract): { file: string; written: boolean } {
  const name = `${contract.registry_version}.json`;
  const target = path.join(releasesDir(registryDir), name);
  const file = display(registryDir, name);
  if (existsSync(target)) {
    const existing: unknown = JSON.parse(readFileSync(target, 'utf8'));
    if (sameJson(existing, contract)) return { file, written: false };
    throw new ReleaseRefused(
      `${file} already exists with a different contract: release ${contract.registry_version} is published and never changes; raise registry_version in registry.yaml`,
    );
  }
  mkdirSync(releasesDir(registryDir), { recursive: true });
  writeFileSync(target, stableJson(contract));
  return { file, written: true };
}
