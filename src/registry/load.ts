// Reads registry/ from disk: parses each YAML file, validates it against its meta-schema and
// hands the raw definitions to the compiler. Every problem comes back as `file: path: message`.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv } from './ajv.ts';
import { compileModel, type RawRegistry } from './compile.ts';
import type { ReleaseVersions } from './compile-evolution.ts';
import { RegistryError, type RegistryProblem } from './errors.ts';
import { allowedOptions, entityFileSchema, mixinFileSchema, NAME_PATTERN, registryFileSchema } from './meta-schema.ts';
import { FIELD_TYPES, type FieldType, type Model } from './model.ts';

export interface ParsedFile {
  /** Path shown in messages: relative to the registry directory's parent, e.g. `registry/entities/episode.yaml`. */
  readonly file: string;
  readonly data: Record<string, unknown>;
  readonly lineOf: (dottedPath: string) => number | undefined;
}

let validators: { registry: ValidateFunction; entity: ValidateFunction; mixin: ValidateFunction } | undefined;

function getValidators() {
  if (!validators) {
    const ajv = createAjv();
    validators = {
      registry: ajv.compile(registryFileSchema),
      entity: ajv.compile(entityFileSchema),
      mixin: ajv.compile(mixinFileSchema),
    };
  }
  return validators;
}

/**
 * Loads, validates and compiles the registry in `registryDir`. Throws RegistryError. `releases` are
 * the released snapshots older API versions name (src/evolution reads and writes them): the caller
 * hands them in, so that the registry knows only the little of their format it needs.
 */
export function loadRegistry(registryDir: string, releases: readonly ReleaseVersions[] = []): Model {
  const problems: RegistryProblem[] = [];
  const display = (file: string) => path.join(path.basename(registryDir), path.relative(registryDir, file));
  const { registry: checkRegistry, entity: checkEntity, mixin: checkMixin } = getValidators();

  const registryPath = path.join(registryDir, 'registry.yaml');
  if (!existsSync(registryPath)) {
    throw new RegistryError([{ file: display(registryPath), path: '', message: 'file not found' }]);
  }
  const registry = parseFile(registryPath, display(registryPath), checkRegistry, problems);
  if (!registry) throw new RegistryError(problems);

  const listed = (key: string) => (registry.data[key] as string[] | undefined) ?? [];
  const loadListed = (folder: string, names: string[], check: ValidateFunction, listKey: string) => {
    const dir = path.join(registryDir, folder);
    const files: ParsedFile[] = [];
    names.forEach((name, index) => {
      const filePath = path.join(dir, `${name}.yaml`);
      if (!existsSync(filePath)) {
        problems.push({
          file: registry.file,
          path: `${listKey}.${index}`,
          message: `"${name}" is listed but ${display(filePath)} does not exist`,
          line: registry.lineOf(`${listKey}.${index}`),
        });
        return;
      }
      const parsed = parseFile(filePath, display(filePath), check, problems);
      if (parsed) files.push(parsed);
    });
    // A file nobody listed is almost always a forgotten registry.yaml edit.
    if (existsSync(dir)) {
      for (const entry of readdirSync(dir).sort()) {
        if (/\.ya?ml$/.test(entry) && !names.includes(entry.replace(/\.ya?ml$/, ''))) {
          problems.push({
            file: display(path.join(dir, entry)),
            path: '',
            message: `not listed under "${listKey}" in ${registry.file}`,
          });
        }
      }
    }
    return files;
  };

  const mixins = loadListed('mixins', listed('mixins'), checkMixin, 'mixins');
  const entities = loadListed('entities', listed('entities'), checkEntity, 'entities');
  if (problems.length > 0) throw new RegistryError(problems);

  // The released snapshots, for the schema_versions older API versions keep.
  const byVersion = new Map(releases.map((r) => [r.registry_version, r]));
  const raw: RawRegistry = { registry, mixins, entities, releases: byVersion };
  return compileModel(raw);
}

function parseFile(
  filePath: string,
  file: string,
  validate: ValidateFunction,
  problems: RegistryProblem[],
): ParsedFile | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(filePath, 'utf8'), { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      problems.push({
        file,
        path: '',
        message: `invalid YAML: ${error.message.split('\n')[0]}`,
        line: error.linePos?.[0].line,
      });
    }
    return undefined;
  }
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  const lineOf = (dotted: string) => locateLine(doc, lineCounter, dotted === '' ? [] : dotted.split('.'));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problems.push({ file, path: '', message: 'must be a YAML mapping', line: 1 });
    return undefined;
  }
  if (!validate(data)) {
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      const problem = describeMetaError(error, data);
      if (!problem) continue;
      const key = `${problem.path}|${problem.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ file, ...problem, line: lineOf(problem.path) });
    }
    return undefined;
  }
  return { file, data: data as Record<string, unknown>, lineOf };
}

function describeMetaError(error: ErrorObject, root: unknown): { path: string; message: string } | undefined {
  const base = pointerToDotted(error.instancePath);
  const join = (...parts: string[]) => [base, ...parts].filter(Boolean).join('.');
  const params = error.params as Record<string, unknown>;
  if (error.propertyName !== undefined) {
    return { path: join(error.propertyName), message: `invalid name "${error.propertyName}": ${nameRule}` };
  }
  switch (error.keyword) {
    case 'propertyNames':
      return undefined; // reported through the nested error above
    case 'discriminator': {
      if (params.error === 'tag' && params.tagValue === undefined) return undefined; // `required` says it
      return {
        path: join('type'),
        message: `unknown field type ${JSON.stringify(params.tagValue)}; expected one of: ${FIELD_TYPES.join(', ')}`,
      };
    }
    case 'additionalProperties': {
      const option = String(params.additionalProperty);
      const owner = valueAt(root, error.instancePath);
      const fieldType = isFieldDefinition(owner) ? owner.type : undefined;
      if (fieldType) {
        return {
          path: join(option),
          message: `unknown option "${option}" for a ${fieldType} field; allowed: ${allowedOptions(fieldType).join(', ')}`,
        };
      }
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { path: join(option), message: `unknown key "${option}"; allowed: ${allowed.join(', ')}` };
    }
    case 'required':
      return { path: join(String(params.missingProperty)), message: 'is required' };
    case 'pattern':
      return {
        path: base,
        message: params.pattern === NAME_PATTERN ? nameRule : `must match the pattern ${String(params.pattern)}`,
      };
    case 'if':
    case 'oneOf':
      return undefined;
    default:
      return { path: base, message: error.message ?? 'is invalid' };
  }
}

const nameRule = 'use lowercase letters, digits and underscores, starting with a letter (at most 63 characters)';

function isFieldDefinition(value: unknown): value is { type: FieldType } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (FIELD_TYPES as readonly unknown[]).includes((value as { type?: unknown }).type)
  );
}

function pointerToDotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const segment of pointerToDotted(pointer).split('.').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** The line of the deepest node on `segments` that exists in the document. */
function locateLine(doc: Document, lineCounter: LineCounter, segments: string[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (doc.contents as { range?: [number] } | null)?.range?.[0];
  for (const segment of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as { range?: [number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}
