// One entity as an API version sees it. The current version speaks the current model; an older
// one (`/api/v1` after a breaking change made v2) keeps the record shape of the release it names:
// its requests are taken forwards through the registry's upgrade steps, its answers backwards,
// and the field paths in its queries (on the parsed AST) and errors (on the problems) are translated both ways. One model, one store.
import type { MiddlewareHandler } from 'hono';
import { downgradeRecord, pathBackward, pathForward, pathsIntroduced, upgradeRecord } from '../evolution/steps.ts';
import { ApiVersionRenames, QueryTransformer } from '../query/transform.ts';
import type { ApiVersionDef, EntityDef, FieldPath } from '../registry/model.ts';
import { ApiError, type ApiProblem } from '../records/errors.ts';
import { isPlainObject } from '../records/record-input.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set on an older API version's routes: how its errors name fields. */
    problemOut: (problem: ApiProblem) => ApiProblem;
  }
}

type Json = Record<string, unknown>;

/** A field a later version introduced, sent to an older one (named as the client sent it). */
const NOT_IN_VERSION = 'FIELD_NOT_IN_VERSION';

const dotted = (path: FieldPath) => path.join('.');
const split = (path: string): FieldPath => path.split('.');

function has(record: Json, path: FieldPath): boolean {
  let value: unknown = record;
  for (const key of path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return false;
    value = value[key];
  }
  return true;
}

export class ApiShape {
  readonly entity: EntityDef;
  readonly version: ApiVersionDef;
  /** The schema_version of this entity's records in this API version. */
  readonly schemaVersion: number;
  /** True when this version speaks the entity's current shape: nothing to translate. */
  readonly isCurrent: boolean;
  private readonly introduced: readonly FieldPath[];
  /** A parsed list query of this version → the same query over the current model (field paths renamed). */
  readonly queryIn: QueryTransformer;

  constructor(entity: EntityDef, version: ApiVersionDef) {
    this.entity = entity;
    this.version = version;
    this.schemaVersion = version.schemaVersions[entity.name] ?? entity.schemaVersion;
    this.isCurrent = this.schemaVersion === entity.schemaVersion;
    this.introduced = pathsIntroduced(entity.upgrades, this.schemaVersion, entity.schemaVersion);
    this.queryIn = this.isCurrent
      ? new QueryTransformer()
      : new ApiVersionRenames((path, param) => this.pathIn(path, param), new Set(entity.presets.map((p) => p.name)));
  }

  /** A stored record (current shape) as this version answers it. */
  recordOut<T>(record: T): T {
    if (this.isCurrent || !isPlainObject(record)) return record;
    const older = downgradeRecord(record, this.entity.upgrades, this.entity.schemaVersion, this.schemaVersion);
    if ('schema_version' in older) older.schema_version = this.schemaVersion;
    return older as T;
  }

  /** The record's top-level field names in this version, in the current model's order. */
  topLevelNames(): string[] {
    const names = this.entity.fields.map((f) => f.name);
    if (this.isCurrent) return names;
    const template = (fields: EntityDef['fields']): Json =>
      Object.fromEntries(fields.map((f) => [f.name, f.type === 'object' && f.fields ? template(f.fields) : null]));
    return Object.keys(
      downgradeRecord(
        template(this.entity.fields),
        this.entity.upgrades,
        this.entity.schemaVersion,
        this.schemaVersion,
      ),
    );
  }

  /** A request body (a record, or a merge patch) in this version's shape → the current shape. */
  bodyIn(body: unknown): unknown {
    if (this.isCurrent || !isPlainObject(body)) return body;
    const problems: ApiProblem[] = this.introduced
      .filter((path) => has(body, path))
      .map((path) => {
        const was = dotted(pathBackward(path, this.entity.upgrades, this.entity.schemaVersion, this.schemaVersion));
        const hint = was === dotted(path) ? '' : `; send ${was}`;
        return {
          code: NOT_IN_VERSION,
          message: `${dotted(path)} is not a field of ${this.entity.name} in ${this.version.name}${hint}, or use the current API version`,
          field: dotted(path),
        };
      });
    if (problems.length > 0) throw new ApiError(422, problems);
    return upgradeRecord(body, this.entity.upgrades, this.schemaVersion, this.entity.schemaVersion);
  }

  /** A field path of this version → the current model's path, or a 400 when it has no single place. */
  pathIn(path: string, param: string): string {
    if (this.isCurrent) return path;
    const translated = pathForward(split(path), this.entity.upgrades, this.schemaVersion, this.entity.schemaVersion);
    if ('error' in translated) {
      throw ApiError.single(
        400,
        'INVALID_QUERY',
        `${path} ${translated.error} in a later schema; query it through the current API version`,
        param,
      );
    }
    return dotted(translated.path);
  }

  /** A current path (in an error) as this version names it. */
  pathOut(path: string): string {
    if (this.isCurrent) return path;
    return dotted(pathBackward(split(path), this.entity.upgrades, this.entity.schemaVersion, this.schemaVersion));
  }

  /**
   * A problem as this version names it: its field path, and the message that starts with that
   * path ("timing.duration_seconds must be at least 0"). Applied to problem objects before they
   * are serialized (envelope.ts's sendErrors, the batch's items), never to a written response.
   */
  readonly problemOut = (problem: ApiProblem): ApiProblem => {
    if (this.isCurrent || problem.field === null || problem.code === NOT_IN_VERSION) return problem;
    const named = this.pathOut(problem.field);
    if (named === problem.field) return problem;
    const message = problem.message.startsWith(`${problem.field} `)
      ? `${named}${problem.message.slice(problem.field.length)}`
      : problem.message;
    return { ...problem, field: named, message };
  };

  /** Route middleware: the request's error answers name fields as this version does (see problemOut). */
  readonly namesErrors: MiddlewareHandler = async (c, next) => {
    if (!this.isCurrent) c.set('problemOut', this.problemOut);
    await next();
  };
}

/** RFC 9745 `Deprecation` and RFC 8594 `Sunset` headers, and a link to the current version, on every answer of an older API version. */
export function deprecationHeaders(version: ApiVersionDef, current: ApiVersionDef): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (version === current) return;
    if (version.deprecation) c.header('Deprecation', `@${Date.parse(`${version.deprecation}T00:00:00Z`) / 1000}`);
    if (version.sunset) c.header('Sunset', new Date(`${version.sunset}T00:00:00Z`).toUTCString());
    c.header('Link', `</api/${current.name}>; rel="successor-version"`);
  };
}
