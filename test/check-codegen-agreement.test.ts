// registry:check and codegen agree, as a property over the whole rule table. The breaking-change
// corpus, plus each refused case again with the major bump it lacked, holds an accepted change for
// every rule that can be accepted. For each accepted one, codegen writes a migration that applies on
// a database holding records of the released registry, and those records still read afterwards.
// So no change passes the check and is then refused by codegen or by the database, and a change
// codegen refuses is one the check refuses too.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationRefused } from '../src/codegen/migration.ts';
import { runCodegen } from '../src/codegen/run.ts';
import { migrateUp } from '../src/db/migrator.ts';
import { type CheckReport, checkRegistry, formatReport } from '../src/evolution/compatibility.ts';
import { registryContract } from '../src/evolution/contract.ts';
import { majorOf, readReleases, writeRelease } from '../src/evolution/releases.ts';
import { RULE_CODES, RULES } from '../src/evolution/rules.ts';
import { loadModel } from '../src/load-model.ts';
import type { Model } from '../src/registry/model.ts';
import { CASES, type Registry, writeRegistry } from './support/compatibility-cases.ts';
import { createTestDatabase } from './support/database.ts';
import { createSampleRecords, currentApi } from './support/sample-records.ts';
import { startTestService } from './support/service.ts';

const root = mkdtempSync(path.join(tmpdir(), 'reelmeta-agreement-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  readonly name: string;
  readonly releases: readonly Registry[];
  readonly after: Registry;
}

interface Folders {
  readonly registryDir: string;
  readonly generatedDir: string;
  readonly migrationsDir: string;
}

let folders = 0;
function newFolders(): Folders {
  const at = path.join(root, `run-${++folders}`);
  mkdirSync(path.join(at, 'migrations'), { recursive: true });
  return {
    registryDir: path.join(at, 'registry'),
    generatedDir: path.join(at, 'generated'),
    migrationsDir: path.join(at, 'migrations'),
  };
}

/** Releases each registry in turn, with codegen after each, as a product owner's pull requests do. */
async function release(run: Run, dirs: Folders): Promise<Model> {
  let released: Model | undefined;
  for (const registry of run.releases) {
    writeRegistry(dirs.registryDir, registry);
    released = loadModel(dirs.registryDir);
    await runCodegen(released, dirs, { check: false });
    writeRelease(dirs.registryDir, registryContract(released));
  }
  return released!;
}

/** The check alone, with no codegen: which runs pass it. */
function checkOnly(run: Run): CheckReport {
  const dirs = newFolders();
  for (const release of run.releases) {
    writeRegistry(dirs.registryDir, release);
    writeRelease(dirs.registryDir, registryContract(loadModel(dirs.registryDir)));
  }
  writeRegistry(dirs.registryDir, run.after);
  return checkRegistry(registryContract(loadModel(dirs.registryDir)), readReleases(dirs.registryDir));
}

const withMajorBump = (run: Run): Run => {
  const major = Math.max(...[...run.releases, run.after].map((r) => majorOf(r.version)));
  return { ...run, name: `${run.name}, with a major bump`, after: { ...run.after, version: `${major + 1}.0.0` } };
};

const RUNS: Run[] = CASES.flatMap((c) => {
  const run: Run = {
    name: c.name,
    releases: Array.isArray(c.before) ? c.before : [c.before as Registry],
    after: c.after,
  };
  if (checkOnly(run).ok) return [run];
  const bumped = withMajorBump(run);
  return checkOnly(bumped).ok ? [run, bumped] : [run];
});

/** Rules of the changes accepted runs make (not already released ones). */
const acceptedRules = new Set(
  RUNS.flatMap((run) => {
    const report = checkOnly(run);
    return report.ok ? report.checks.flatMap((c) => c.changes.filter((ch) => !ch.released).map((ch) => ch.rule)) : [];
  }),
);

describe('registry:check and codegen', () => {
  it('are tried on an accepted change of every rule that can be accepted', () => {
    const acceptable = RULE_CODES.filter(
      (code) => RULES[code].verdict !== 'error' && RULES[code].needs !== 'never' && code !== 'CONTRACT_CHANGED',
    );
    expect(acceptable.filter((code) => !acceptedRules.has(code))).toEqual([]);
  });

  it.each(RUNS)('agree on: $name', async (run) => {
    const dirs = newFolders();
    const db = await createTestDatabase();
    try {
      const released = await release(run, dirs);
      await migrateUp(db.url, dirs.migrationsDir);
      const old = await startTestService({ databaseUrl: db.url, ...dirs });
      const samples = await createSampleRecords(old, released).finally(() => old.stop());

      writeRegistry(dirs.registryDir, run.after);
      const current = loadModel(dirs.registryDir);
      const report = checkRegistry(registryContract(current), readReleases(dirs.registryDir));
      const generated = await runCodegen(current, dirs, { check: false }).then(
        () => 'generated',
        (error: unknown) => {
          if (error instanceof MigrationRefused) return `codegen refused: ${error.message}`;
          throw error;
        },
      );
      if (!report.ok) return; // refused by the check: codegen may refuse it too, or not
      const { lines, summary } = formatReport(report);
      const because = [...lines, summary].join('\n');
      expect(generated, because).toBe('generated');
      const applied = await migrateUp(db.url, dirs.migrationsDir).then(
        () => 'applied',
        (error: Error) => `migration failed: ${error.message}`,
      );
      expect(applied, because).toBe('applied');
      const next = await startTestService({ databaseUrl: db.url, ...dirs });
      try {
        const reads = await Promise.all(
          samples
            // An entity removed (with the major bump it needs) leaves its table and rows, not its routes.
            .filter((s) => current.entities.some((e) => e.name === s.entity.name))
            .map(async (s) => {
              const reply = await next.request('GET', `${currentApi(current)}/${s.entity.route}/${s.id}`);
              return `${s.entity.name} ${s.id}: ${reply.status}${reply.status === 200 ? '' : ` ${JSON.stringify(reply.body)}`}`;
            }),
        );
        expect(
          reads.filter((r) => !r.endsWith(': 200')),
          because,
        ).toEqual([]);
      } finally {
        await next.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
