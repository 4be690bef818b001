// Turns a client's JSON body into the values to store: drops server-owned fields, stores enum
// aliases canonically, keeps deprecated fields read-only, and validates with the generated schema.
import { normalizeText } from '../registry/normalize.ts';
import { isDeepStrictEqual } from 'node:util';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2020 } from '../registry/ajv.ts';
import { resolvePath, type EntityDef, type FieldDef, type Model } from '../registry/model.ts';
import { entitySchema, HTTP_URL_PATTERN, S3_URI_PATTERN } from '../registry/json-schema.ts';
import { ownValue, setOwn } from '../registry/own.ts';
import { ApiError, type ApiProblem } from './errors.ts';

type Json = Record<string, unknown>;

export const isPlainObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396 JSON merge patch: objects merge deeply, null removes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Json = isPlainObject(target) ? { ...target } : {};
  // A key is data even when it is a name of Object.prototype (`__proto__`, `constructor`).
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, mergePatch(ownValue(result, key), value));
  }
  return result;
}

export class RecordInput {
  private readonly entity: EntityDef;
  private readonly validate: ValidateFunction;
  private readonly serverOwned: Set<string>;

  constructor(entity: EntityDef, model: Model, ajv: Ajv2020) {
    this.entity = entity;
    this.validate = ajv.compile(entitySchema(entity, model));
    this.serverOwned = new Set(['id', 'schema_version', ...entity.fields.filter((f) => f.readOnly).map((f) => f.name)]);
  }

  /** The body of a POST. */
  forCreate(body: unknown): Json {
    return this.check(this.writable(body), undefined);
  }

  /** The body of a PUT: a full replacement; deprecated fields left out keep their value. */
  forReplace(body: unknown, current: Json): Json {
    const values = this.writable(body);
    for (const field of this.entity.fields) {
      if (field.deprecated && values[field.name] === undefined && current[field.name] !== null)
        values[field.name] = current[field.name];
    }
    return this.check(values, current);
  }

  /** The body of a PATCH (JSON merge patch) applied to the current record. */
  forPatch(body: unknown, current: Json): Json {
    const merged = mergePatch(this.writable(current), this.writable(body)) as Json;
    return this.check(merged, current);
  }

  private writable(body: unknown): Json {
    if (!isPlainObject(body)) {
      throw ApiError.single(400, 'INVALID_BODY', 'the request body must be a JSON object');
    }
    const values: Json = {};
    for (const [key, value] of Object.entries(body)) if (!this.serverOwned.has(key)) setOwn(values, key, value);
    return structuredClone(values);
  }

  private check(values: Json, current: Json | undefined): Json {
    const problems: ApiProblem[] = [];
    canonicalizeAliases(this.entity.fields, values);
    for (const field of this.entity.fields) {
      checkDeprecated(field, values[field.name], current?.[field.name], field.name, problems);
    }
    if (!this.validate(values)) problems.push(...describeErrors(this.validate.errors ?? [], this.entity));
    else problems.push(...orderProblems(this.entity, values));
    findNulCharacters(values, '', problems);
    if (problems.length > 0) throw new ApiError(422, problems);
    if (current) this.checkTransitions(current, values);
    return values;
  }

  /**
   * Enums whose entity enforces their `transitions` may only move along them (seed 8.11: the
   * approval flow is declared, and enforced only where an entity's YAML asks).
   */
  private checkTransitions(current: Json, next: Json): void {
    for (const field of this.entity.fields) {
      if (!field.transitions || !field.transitionsEnforced) continue;
      const from = current[field.name];
      const to = next[field.name];
      if (typeof from !== 'string' || typeof to !== 'string' || from === to) continue;
      const allowed = ownValue(field.transitions, from) ?? [];
      if (!allowed.includes(to)) {
        const choices =
          allowed.length > 0 ? `from "${from}" it can change to: ${allowed.join(', ')}` : `"${from}" is final`;
        throw ApiError.single(
          409,
          'INVALID_TRANSITION',
          `${field.name} cannot change from "${from}" to "${to}"; ${choices}`,
          field.name,
        );
      }
    }
  }
}

/**
 * Replaces accepted enum spellings (e.g. `in-production`) with the canonical value, and
 * normalizes the text of fields that declare `normalize`, at any depth.
 */
/** `at_least`: a value may not be less than the other field's (timecode_out ≥ timecode_in). */
function orderProblems(entity: EntityDef, values: Json): ApiProblem[] {
  const problems: ApiProblem[] = [];
  for (const field of entity.fields) {
    const value = values[field.name];
    const floor = field.atLeast === undefined ? undefined : values[field.atLeast];
    if (value === null || value === undefined || floor === null || floor === undefined) continue;
    const less =
      field.type === 'datetime'
        ? Date.parse(value as string) < Date.parse(floor as string)
        : (value as string | number) < (floor as string | number);
    if (less)
      problems.push({
        code: 'VALIDATION_ERROR',
        message: `${field.name} must not be before ${field.atLeast} (${String(floor)})`,
        field: field.name,
      });
  }
  return problems;
}

function canonicalizeAliases(fields: readonly FieldDef[], values: Json): void {
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined || value === null) continue;
    values[field.name] = canonicalValue(field, value);
  }
}

function canonicalValue(field: FieldDef, value: unknown): unknown {
  if (field.type === 'enum' && typeof value === 'string') return ownValue(field.aliases, value) ?? value;
  if (field.normalize && typeof value === 'string') return normalizeText(value, field.normalize);
  // A list of normalized values holds each once (" Fashion " and "fashion" are one tag). A list
  // longer than max_items is left whole, for validation to refuse by what was sent.
  if (field.type === 'array' && Array.isArray(value) && field.items?.normalize) {
    const values = value.map((v) => canonicalValue(field.items!, v));
    if (field.maxItems !== undefined && values.length > field.maxItems) return values;
    const seen = new Set<unknown>();
    return values.filter((v) => typeof v !== 'string' || (!seen.has(v) && seen.add(v) !== undefined));
  }
  if (field.type === 'object' && isPlainObject(value) && field.fields) canonicalizeAliases(field.fields, value);
  if (field.type === 'array' && Array.isArray(value) && field.items)
    return value.map((v) => canonicalValue(field.items!, v));
  return value;
}

function checkDeprecated(
  field: FieldDef,
  value: unknown,
  current: unknown,
  path: string,
  problems: ApiProblem[],
): void {
  const normalized = (v: unknown) => (v === undefined ? null : v);
  if (field.deprecated) {
    if (!isDeepStrictEqual(normalized(value), normalized(current))) {
      problems.push({
        code: 'FIELD_DEPRECATED',
        message: `${path} is deprecated: it can be read but no longer written`,
        field: path,
      });
    }
    return;
  }
  if (field.type === 'object' && field.fields && (isPlainObject(value) || isPlainObject(current))) {
    const v = isPlainObject(value) ? value : {};
    const c = isPlainObject(current) ? current : {};
    for (const child of field.fields)
      checkDeprecated(child, v[child.name], c[child.name], `${path}.${child.name}`, problems);
  }
}

/** PostgreSQL text and jsonb cannot hold U+0000; say so instead of failing in the database. */
function findNulCharacters(value: unknown, path: string, problems: ApiProblem[]): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000') && !problems.some((p) => p.field === path)) {
      problems.push({
        code: 'VALIDATION_ERROR',
        message: `${path} must not contain the NUL character (\\u0000)`,
        field: path,
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findNulCharacters(item, `${path}[${index}]`, problems));
  } else if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) findNulCharacters(child, path ? `${path}.${key}` : key, problems);
  }
}

function dottedPath(pointer: string, extra?: string): string {
  const segments = pointer.split('/').slice(1);
  if (extra !== undefined) segments.push(extra);
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

function describe(error: ErrorObject, entity: EntityDef): ApiProblem {
  const params = error.params as Record<string, unknown>;
  const field = dottedPath(error.instancePath);
  const problem = (at: string, text: string): ApiProblem => ({
    code: 'VALIDATION_ERROR',
    message: `${at} ${text}`,
    field: at,
  });
  switch (error.keyword) {
    case 'required':
      return problem(dottedPath(error.instancePath, String(params.missingProperty)), 'is required');
    case 'additionalProperties': {
      const at = dottedPath(error.instancePath, String(params.additionalProperty));
      return { code: 'VALIDATION_ERROR', message: `${at} is not a field of ${field || 'this record'}`, field: at };
    }
    case 'type': {
      const wanted = String(params.type)
        .split(',')
        .filter((t) => t !== 'null');
      return problem(field, `must be ${wanted.map((t) => ARTICLE[t] ?? t).join(' or ')}`);
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).filter((v) => v !== null);
      const def = resolvePath(
        entity,
        error.instancePath
          .split('/')
          .slice(1)
          .filter((s) => !/^\d+$/.test(s)),
      );
      const other = def?.otherPattern ? `, or text matching ${def.otherPattern}` : '';
      return problem(field, `must be one of: ${allowed.join(', ')}${other}`);
    }
    case 'format':
      return problem(
        field,
        params.format === 'date'
          ? 'must be a date (YYYY-MM-DD)'
          : params.format === 'date-time'
            ? 'must be a date-time in ISO 8601, e.g. 2025-12-31T10:00:00Z'
            : 'must be an http or https URL',
      );
    case 'pattern': {
      const pattern = String(params.pattern);
      if (pattern === S3_URI_PATTERN) return problem(field, 'must be an S3 URI such as s3://bucket/path/to/file.ext');
      if (pattern === HTTP_URL_PATTERN) return problem(field, 'must be an http or https URL');
      const idPrefix = /^\^([a-z]+)_\[A-Za-z0-9_\]\+\$$/.exec(pattern)?.[1];
      if (idPrefix) return problem(field, `must be an id starting with ${idPrefix}_`);
      return problem(field, `must match the pattern ${pattern}`);
    }
    case 'maxLength':
      return problem(field, `must be at most ${String(params.limit)} characters long`);
    case 'minimum':
      return problem(field, `must be at least ${String(params.limit)}`);
    case 'maximum':
      return problem(field, `must be at most ${String(params.limit)}`);
    case 'maxItems':
      return problem(field, `must have at most ${String(params.limit)} items`);
    default:
      return problem(field, error.message ?? 'is invalid');
  }
}

/** One problem per field: a wrong-typed value is reported once, not once per keyword. */
function describeErrors(errors: readonly ErrorObject[], entity: EntityDef): ApiProblem[] {
  const byField = new Map<string, ApiProblem>();
  for (const error of errors) {
    const problem = describe(error, entity);
    if (!byField.has(problem.field ?? '')) byField.set(problem.field ?? '', problem);
  }
  return [...byField.values()];
}
