// The import direction of src/ (no database): the registry imports nothing else of src/, records never
// imports hono, no two folders import each other, and no import points up the layer order
// (test/support/import-graph.ts). A failure lists each offending import as `src/a/x.ts → src/b/y.ts`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.ts';
import { checkImports, importsOf } from './support/import-graph.ts';

/** Every .ts file of src/, keyed by its project-relative path. */
function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(path.join(PROJECT_ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    const file = `src/${entry.split(path.sep).join('/')}`;
    if (file.endsWith('.ts')) files.set(file, readFileSync(path.join(PROJECT_ROOT, file), 'utf8'));
  }
  return files;
}

describe('import direction of src/', () => {
  const violations = checkImports(importsOf(sourceFiles()));

  it('src/registry/ imports nothing from the rest of src/', () => {
    expect(violations.registry).toEqual([]);
  });

  it('src/records/ does not import hono', () => {
    expect(violations.recordsHono).toEqual([]);
  });

  it('no two top-level folders of src/ import each other', () => {
    expect(violations.cycles).toEqual([]);
  });

  it('no import points up the layer order', () => {
    expect(violations.upward).toEqual([]);
  });
});

describe('the import check itself', () => {
  const files = new Map([
    [
      'src/registry/model.ts',
      "import { parse } from '../query/parse.ts';\nimport type { Config } from '../config.ts';",
    ],
    ['src/registry/load.ts', "import { model } from './model.ts';\n// import { x } from '../api/app.ts';"],
    ['src/query/parse.ts', 'export const parse = 1;\nconst s = "import \'../api/app.ts\'";'],
    ['src/records/write.ts', "import { HTTPException } from 'hono/http-exception';\nimport '../config.ts';"],
    ['src/api/app.ts', "export { write } from '../records/write.ts';\nconst d = () => import('../domain/rules.ts');"],
    ['src/domain/rules.ts', "import type { App } from '../api/app.ts';\ntype T = import('../cli.ts').X;"],
    ['src/cli.ts', "import { app } from './api/app.ts';"],
  ]);
  const found = checkImports(importsOf(files));

  it('reports registry imports of other folders and of config, not of itself, comments or strings', () => {
    expect(found.registry).toEqual([
      'src/registry/model.ts → src/query/parse.ts',
      'src/registry/model.ts → src/config.ts',
    ]);
  });

  it('reports hono in records', () => {
    expect(found.recordsHono).toEqual(['src/records/write.ts → hono/http-exception']);
  });

  it('reports a cycle with both directions, static and dynamic', () => {
    expect(found.cycles).toEqual([
      ['api ↔ domain', '  src/api/app.ts → src/domain/rules.ts', '  src/domain/rules.ts → src/api/app.ts'].join('\n'),
    ]);
  });

  it('reports upward imports, config and the entry files importing down excepted', () => {
    expect(found.upward).toEqual([
      'src/registry/model.ts → src/query/parse.ts',
      'src/domain/rules.ts → src/api/app.ts',
      'src/domain/rules.ts → src/cli.ts',
    ]);
  });
});
