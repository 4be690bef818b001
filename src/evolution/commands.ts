// `reelmeta registry check | release | diff` (npm run registry:check, registry:release, registry:diff).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig, setting, type Config } from '../config.ts';
import { RegistryError, formatProblem } from '../registry/errors.ts';
import type { Model } from '../registry/model.ts';
import { renderChangelog, renderDiff } from './changelog.ts';
import { checkRegistry, formatReport, type CheckReport } from './compatibility.ts';
import { registryContract, type RegistryContract } from './contract.ts';
import { readReleases, ReleaseRefused, writeRelease, type Release } from './releases.ts';

function run(action: (config: Config) => number): void {
  try {
    process.exitCode = action(loadConfig());
  } catch (error) {
    if (error instanceof RegistryError) console.error(error.problems.map(formatProblem).join('\n'));
    else
      console.error(
        setting(process.env, 'DEBUG') && error instanceof Error && error.stack
          ? error.stack
          : `error: ${error instanceof Error ? error.message : String(error)}`,
      );
    process.exitCode = 1;
  }
}

interface Working {
  readonly contract: RegistryContract;
  readonly releases: Release[];
  readonly registryFile: string;
}

/** Loads the model as the CLI does (src/load-model.ts, above this layer: it runs query's checks too). */
type LoadModel = (registryDir: string) => Model;

function working(config: Config, load: LoadModel): Working {
  const contract = registryContract(load(config.registryDir));
  return {
    contract,
    releases: readReleases(config.registryDir),
    registryFile: path.join(path.basename(config.registryDir), 'registry.yaml'),
  };
}

function check(w: Working): CheckReport {
  return checkRegistry(w.contract, w.releases, w.registryFile);
}

function print(report: CheckReport, verbose: boolean): void {
  const { lines, summary } = formatReport(report, { verbose });
  for (const line of lines) console.log(line);
  console.log(summary);
}

export function registryCommand(load: LoadModel): Command {
  const registry = new Command('registry').description(
    'compare the registry with its released snapshots (registry/releases/)',
  );

  registry
    .command('check')
    .description('classify every change since the served releases; exit 1 on a breaking change that is not covered')
    .option('--verbose', 'list compatible changes against older releases too')
    .action((options: { verbose?: boolean }) =>
      run((config) => {
        const report = check(working(config, load));
        print(report, options.verbose === true);
        return report.ok ? 0 : 1;
      }),
    );

  registry
    .command('release')
    .description('write registry/releases/<registry_version>.json and generated/CHANGELOG.md (after a passing check)')
    .action(() =>
      run((config) => {
        const w = working(config, load);
        const report = check(w);
        if (!report.ok) {
          print(report, false);
          console.error(`release refused: registry check failed`);
          return 1;
        }
        let result: { file: string; written: boolean };
        try {
          result = writeRelease(config.registryDir, w.contract);
        } catch (error) {
          if (!(error instanceof ReleaseRefused)) throw error;
          console.error(`release refused: ${error.message}`);
          return 1;
        }
        const changelog = path.join(config.generatedDir, 'CHANGELOG.md');
        mkdirSync(config.generatedDir, { recursive: true });
        writeFileSync(changelog, renderChangelog(readReleases(config.registryDir), w.contract));
        const shown = path.relative(process.cwd(), changelog) || changelog;
        console.log(
          result.written
            ? `released ${w.contract.registry_version}: wrote ${result.file} and ${shown}`
            : `${result.file} is already released with this contract; nothing to do`,
        );
        return 0;
      }),
    );

  registry
    .command('diff')
    .description('print the changes since the last release (or --from <version>) in words')
    .option('--from <version>', 'the release to compare with')
    .action((options: { from?: string }) =>
      run((config) => {
        const w = working(config, load);
        const from = options.from ? w.releases.find((r) => r.version === options.from) : w.releases.at(-1);
        if (!from) {
          const known = w.releases.map((r) => r.version).join(', ') || 'none';
          console.error(
            options.from
              ? `no release ${options.from} in registry/releases/ (released: ${known})`
              : 'nothing released yet: `npm run registry:release` writes the first snapshot',
          );
          return 1;
        }
        process.stdout.write(renderDiff(from, w.contract));
        return 0;
      }),
    );

  return registry;
}
