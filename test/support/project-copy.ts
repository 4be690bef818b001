// A throwaway copy of the project's registry/, generated/, migrations/ and docs/ (whose reference/
// codegen writes) to change freely.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

export interface ProjectCopy {
  readonly root: string;
  readonly registryDir: string;
  readonly generatedDir: string;
  readonly migrationsDir: string;
  /** The three folders as service settings: `startTestService({ databaseUrl, ...copy.dirs })`. */
  readonly dirs: { readonly registryDir: string; readonly generatedDir: string; readonly migrationsDir: string };
  /** Environment for the CLI so it works on this copy. */
  readonly env: Record<string, string>;
  read(relative: string): string;
  write(relative: string, content: string): void;
  edit(relative: string, change: (text: string) => string): void;
  remove(): void;
}

export function copyProject(): ProjectCopy {
  const root = mkdtempSync(path.join(tmpdir(), 'reelmeta-project-'));
  for (const dir of ['registry', 'generated', 'migrations', 'docs'])
    cpSync(path.join(PROJECT_ROOT, dir), path.join(root, dir), { recursive: true });
  const at = (relative: string) => path.join(root, relative);
  const dirs = { registryDir: at('registry'), generatedDir: at('generated'), migrationsDir: at('migrations') };
  const copy: ProjectCopy = {
    root,
    ...dirs,
    dirs,
    env: { REGISTRY_DIR: at('registry'), GENERATED_DIR: at('generated'), MIGRATIONS_DIR: at('migrations') },
    read: (relative) => readFileSync(at(relative), 'utf8'),
    write: (relative, content) => writeFileSync(at(relative), content),
    edit: (relative, change) => copy.write(relative, change(copy.read(relative))),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  return copy;
}
