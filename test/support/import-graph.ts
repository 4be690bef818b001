// The import-direction rules of src/ as a pure check over file texts: which module each file imports
// (read with the TypeScript parser, so comments and strings never count), which top-level folder of
// src/ each file belongs to, and the imports that break a rule. test/architecture.test.ts runs it on
// the real tree and on a small synthetic one.
import path from 'node:path';
import ts from 'typescript';

/** The layer of files directly in src/ (cli.ts, service.ts): the entry points, above every folder. */
export const ENTRY = '(entry)';
/** src/config.ts: an entry-level file that any folder above registry may import. */
export const CONFIG_FILE = 'src/config.ts';

/**
 * The layers, bottom to top: an import may only point down, or sideways within one layer's group
 * (and never into a cycle, which the cycle rule catches). A folder not listed here is only held to
 * the hard rules (and may not import the entry files).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['registry'],
  // Not in the order: leaves that need only the registry (roles) or nothing, used by api/.
  ['auth', 'observability', 'ratelimit'],
  ['query', 'evolution'],
  ['db'],
  ['audit', 'idempotency', 'jobs'],
  ['records'],
  ['domain', 'media'],
  ['api'],
  ['codegen'],
  [ENTRY],
];

export interface Import {
  /** The importing file, relative to the project root with `/` separators (`src/api/app.ts`). */
  readonly from: string;
  /** The imported file for a relative specifier (`src/query/parse.ts`), else the bare specifier (`hono/http-exception`). */
  readonly to: string;
}

/** Every module specifier in a file: static imports and re-exports, dynamic `import('…')` and `import('…').T` types. */
export function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The imports of each file; relative specifiers resolved to project-relative paths. */
export function importsOf(files: ReadonlyMap<string, string>): Import[] {
  const imports: Import[] = [];
  for (const [from, text] of files)
    for (const specifier of new Set(specifiersOf(from, text))) {
      const to = specifier.startsWith('.') ? path.posix.join(path.posix.dirname(from), specifier) : specifier;
      imports.push({ from, to });
    }
  return imports;
}

/** The top-level folder of src/ a file is in, ENTRY for a file directly in src/, undefined outside src/. */
export function folderOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src') return undefined;
  return parts.length === 2 ? ENTRY : parts[1];
}

const isHono = (specifier: string) => specifier === 'hono' || specifier.startsWith('hono/');

function layerOf(folder: string): number | undefined {
  const index = LAYERS.findIndex((group) => group.includes(folder));
  return index === -1 ? undefined : index;
}

export interface Violations {
  /** A file in src/registry/ importing any other file of src/ outside src/registry/ (config too). */
  readonly registry: string[];
  /** A file in src/records/ importing hono or anything under hono/. */
  readonly recordsHono: string[];
  /** Two folders importing each other: one entry per pair, with the imports of both directions. */
  readonly cycles: string[];
  /** An import from a lower layer up to a higher one (LAYERS), config excepted. */
  readonly upward: string[];
}

const arrow = (i: Import) => `${i.from} → ${i.to}`;

/** Every rule the imports break. */
export function checkImports(imports: readonly Import[]): Violations {
  const registry: string[] = [];
  const recordsHono: string[] = [];
  const upward: string[] = [];
  /** Imports from one folder into another, keyed `from → to`. */
  const between = new Map<string, Import[]>();
  for (const i of imports) {
    const from = folderOf(i.from);
    if (from === 'records' && isHono(i.to)) recordsHono.push(arrow(i));
    const to = folderOf(i.to);
    if (from === undefined || to === undefined || from === to) continue;
    if (from === 'registry') registry.push(arrow(i));
    // src/config.ts sits below every folder but registry; entry files importing folders is the norm.
    if (i.to === CONFIG_FILE || from === ENTRY) continue;
    const key = `${from} → ${to}`;
    between.set(key, [...(between.get(key) ?? []), i]);
    // Nothing below the entry files may import them; elsewhere only listed folders have a place.
    const [low, high] = [layerOf(from), layerOf(to)];
    if (to === ENTRY || (low !== undefined && high !== undefined && high > low)) upward.push(arrow(i));
  }
  const cycles: string[] = [];
  for (const [key, there] of between) {
    const [a, b] = key.split(' → ') as [string, string];
    const back = between.get(`${b} → ${a}`);
    if (!back || a > b) continue;
    cycles.push([`${a} ↔ ${b}`, ...there.map((i) => `  ${arrow(i)}`), ...back.map((i) => `  ${arrow(i)}`)].join('\n'));
  }
  return { registry, recordsHono, cycles, upward };
}
