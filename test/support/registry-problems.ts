// Loading a changed copy of the registry and reading its problems as `file: path: message`
// lines, for the tests of what the meta-schema and the compiler refuse.
import { expect } from 'vitest';
import { RegistryError } from '../../src/registry/errors.ts';
import { loadModel } from '../../src/load-model.ts';
import { copyProject, type ProjectCopy } from './project-copy.ts';

/** Copies the project, applies `change`, loads its registry and returns the problem lines; the copy is handed to `keep` for removal. */
export function problemsAfter(change: (copy: ProjectCopy) => void, keep: (copy: ProjectCopy) => void): string[] {
  const copy = copyProject();
  keep(copy);
  change(copy);
  try {
    loadModel(copy.registryDir);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    return (error as RegistryError).message.split('\n');
  }
  throw new Error('the registry loaded without problems');
}
