// Registering existing keys (seed 8.2, bulk import): the objects under a prefix of the media bucket
// become records, one per object, with the key's s3:// URI in a media field and the object's size
// and ETag. Each key is its own transaction through the entity's normal create (validation, rules,
// audit, duplicate warnings). Idempotent: a key whose URI a live record already holds is `exists`,
// and concurrent runs lock each URI (the same match-set lock library mirrors take), so the second
// finds the first's record instead of creating another. The HTTP edge is api/register-routes.ts.
import type { DatabaseConnection, DatabasePool } from 'slonik';
import type { RecordStore } from '../db/records.ts';
import { transact, RequestTimedOut } from '../db/work.ts';
import { isDatabaseUnavailable, RequestAbandoned } from '../db/unavailable.ts';
import { parseListQuery } from '../query/list-query.ts';
import type { EntityDef } from '../registry/model.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import type { EntityActions } from '../records/entity-actions.ts';
import type { Warning } from '../records/duplicates.ts';
import { ApiError, listedProblems, type ApiProblem } from '../records/errors.ts';
import type { ErrorClassifier } from '../records/failures.ts';
import { fieldNamed, mediaFields, withFile, type FieldAtPath } from './media-fields.ts';
import { MediaUnavailable, s3Uri, type MediaStorage, type ObjectInfo } from './storage.ts';
import { isJsonObject } from '../registry/own.ts';

/** Keys one run handles when the body does not say. */
export const DEFAULT_REGISTER_KEYS = 10_000;
/** The most keys one run may handle; more is several runs (each is idempotent). */
export const MAX_REGISTER_KEYS = 100_000;
/** S3's own bound on a key (bytes; a prefix is at most a key). */
export const MAX_PREFIX_LENGTH = 1024;
/** Problems listed per failed key (the rest are counted), as batch items do. */
const MAX_KEY_ERRORS = 10;

const BODY_KEYS = ['prefix', 'field', 'defaults', 'dry_run', 'max_keys'] as const;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface RegisterPlan {
  readonly entity: EntityDef;
  readonly field: FieldAtPath;
  readonly prefix: string;
  /** Values every created record starts from, in the current model's shape. */
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly dryRun: boolean;
  readonly maxKeys: number;
}

export type KeyStatus = 'created' | 'exists' | 'would_create' | 'failed';

export interface KeyOutcome {
  readonly key: string;
  readonly uri: string;
  readonly size: number;
  readonly etag: string;
  readonly status: KeyStatus;
  /** The record created, or the live one that already holds the URI. */
  readonly id?: string;
  readonly warnings?: readonly Warning[];
  readonly errors?: readonly ApiProblem[];
}

export interface RegisterSummary {
  readonly prefix: string;
  readonly field: string;
  readonly dry_run: boolean;
  /** Objects listed and handled (folder markers, keys ending in `/`, are skipped). */
  listed: number;
  created: number;
  exists: number;
  would_create: number;
  failed: number;
  /** The run stopped before the end of the listing: more keys than max_keys, or the request's deadline. */
  truncated: boolean;
  truncated_by?: 'max_keys' | 'deadline';
  /** Set when the run was cut short by the object store or the database being unavailable. */
  error?: ApiProblem;
}

export interface RegisterDeps {
  readonly storage: MediaStorage;
  readonly pool: DatabasePool;
  readonly store: RecordStore;
  readonly actions: EntityActions;
  readonly actionsOf: ReadonlyMap<string, EntityActions>;
  readonly classify: ErrorClassifier;
  /** The caller's identity and permission check; each create adds the URI it saw as verified. */
  readonly meta: WriteMeta;
}

/** The run stopped on a failure that is not one key's (S3 or the database away); `summary` says how far it got. */
export class RegistrationStopped extends Error {
  override readonly name = 'RegistrationStopped';
  constructor(
    readonly summary: RegisterSummary,
    override readonly cause: unknown,
  ) {
    super(
      `registration stopped after ${summary.listed} keys: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

const invalid = (message: string, field: string) => ApiError.single(422, 'VALIDATION_ERROR', message, field);

/**
 * The run a request body asks for, or a 400/422 naming what is wrong. `defaults` and `field`
 * arrive already in the current model's shape (the route translates older API versions).
 */
export function parseRegisterBody(
  entity: EntityDef,
  body: unknown,
  fieldIn: (path: string) => string = (p) => p,
): RegisterPlan {
  if (!isJsonObject(body))
    throw ApiError.single(
      400,
      'INVALID_BODY',
      'send {"prefix": "raw/2024/", "field": "file_reference", "defaults": {...}, "dry_run": false, "max_keys": 10000}',
    );
  const unknown = Object.keys(body).filter((key) => !(BODY_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw ApiError.single(
      400,
      'INVALID_BODY',
      `unknown key "${unknown[0]}"; a register body has: ${BODY_KEYS.join(', ')}`,
      unknown[0]!,
    );

  const prefix = body.prefix;
  if (typeof prefix !== 'string' || prefix === '')
    throw invalid(
      'prefix is required: the start of the keys to register in the media bucket, e.g. "raw/2024/"',
      'prefix',
    );
  if (prefix.startsWith('/'))
    throw invalid('prefix is a key prefix inside the bucket and does not start with "/"', 'prefix');
  if (CONTROL.test(prefix)) throw invalid('prefix must not contain control characters', 'prefix');
  if (Buffer.byteLength(prefix) > MAX_PREFIX_LENGTH)
    throw invalid(`prefix must be at most ${MAX_PREFIX_LENGTH} bytes`, 'prefix');

  const candidates = mediaFields(entity);
  const names = candidates.map((f) => f.name).join(', ');
  let field: FieldAtPath | undefined;
  if (body.field === undefined) {
    if (candidates.length !== 1) throw invalid(`field is required: the media field to fill, one of ${names}`, 'field');
    field = candidates[0];
  } else {
    if (typeof body.field !== 'string') throw invalid(`field must be a string, one of ${names}`, 'field');
    field = fieldNamed(candidates, fieldIn(body.field));
    if (!field) throw invalid(`${body.field} is not a media field of ${entity.name}; use one of ${names}`, 'field');
  }

  const defaults = body.defaults ?? {};
  if (!isJsonObject(defaults))
    throw invalid('defaults must be an object: the values every registered record starts from', 'defaults');
  const filled = [field!.path[0]!, field!.field.media?.sizeField, field!.field.media?.etagField].filter(
    (name): name is string => name !== undefined,
  );
  const clash = filled.find((name) => Object.hasOwn(defaults, name));
  if (clash) throw invalid(`defaults may not set ${clash}: registering fills it from each object`, `defaults.${clash}`);

  if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean')
    throw invalid('dry_run must be true or false', 'dry_run');
  const maxKeys = body.max_keys ?? DEFAULT_REGISTER_KEYS;
  if (typeof maxKeys !== 'number' || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_REGISTER_KEYS) {
    throw ApiError.single(
      400,
      'INVALID_BODY',
      `max_keys must be an integer from 1 to ${MAX_REGISTER_KEYS} (default ${DEFAULT_REGISTER_KEYS}); register more in several runs`,
      'max_keys',
    );
  }
  return { entity, field: field!, prefix, defaults, dryRun: body.dry_run === true, maxKeys };
}

/** The create body for one object: the defaults, the URI in the field, its size and ETag. */
function recordValues(plan: RegisterPlan, uri: string, size: number, etag: string): Record<string, unknown> {
  return withFile(structuredClone(plan.defaults) as Record<string, unknown>, plan.field, uri, { size, etag });
}

class TrialDone extends Error {}

/** Not one key's fault: the run stops (and the request answers 503, or the stream's summary says so). */
const isSystemic = (error: unknown) =>
  error instanceof MediaUnavailable ||
  isDatabaseUnavailable(error) ||
  error instanceof RequestTimedOut ||
  error instanceof RequestAbandoned;

/**
 * Checks the defaults once, before anything is listed: a create from them (with a placeholder
 * URI) through the normal write path, rolled back. Bad defaults answer 422 with paths under
 * `defaults.`, so a run never fails every key for the same reason; a 403 stays a 403.
 */
export async function checkDefaults(plan: RegisterPlan, deps: RegisterDeps): Promise<void> {
  const placeholder = s3Uri(deps.storage.bucket, `${plan.prefix}register-check`);
  try {
    await transact(deps.pool, async (tx) => {
      await deps.actions.create(recordValues(plan, placeholder, 0, 'register-check'), tx, {
        ...deps.meta,
        verifiedMedia: new Set([placeholder]),
      });
      throw new TrialDone();
    });
  } catch (error) {
    if (error instanceof TrialDone) return;
    if (isSystemic(error) || !(error instanceof Error)) throw error;
    const known = deps.classify(error, 'POST');
    if (!known || known.status === 503) throw error;
    if (known.status === 403) throw new ApiError(403, known.problems);
    throw new ApiError(
      422,
      known.problems.map((p) => ({
        ...p,
        field: p.field ? `defaults.${p.field}` : 'defaults',
        message: `defaults: ${p.message}`,
      })),
    );
  }
}

/** The pages of a prefix (ListObjectsV2, following continuation tokens) up to max_keys objects. */
class PrefixListing {
  private token: string | undefined;
  private finished = false;
  /** Objects handed out so far. */
  count = 0;
  truncated = false;

  constructor(
    private readonly storage: MediaStorage,
    private readonly prefix: string,
    private readonly maxKeys: number,
  ) {}

  /** The next page's objects (folder markers dropped), or null at the end. */
  async next(): Promise<ObjectInfo[] | null> {
    while (!this.finished) {
      const page = await this.storage.listPage(this.storage.bucket, this.prefix, this.token);
      this.token = page.next;
      if (!page.next) this.finished = true;
      const objects = page.objects.filter((o) => !o.key.endsWith('/'));
      const room = this.maxKeys - this.count;
      if (objects.length > room) {
        this.truncated = true;
        this.finished = true;
      } else if (objects.length === room && page.next) {
        // More may follow; whether they do is only known by listing on, which max_keys forbids.
        this.truncated = true;
        this.finished = true;
      }
      const taken = objects.slice(0, room);
      this.count += taken.length;
      if (taken.length > 0) return taken;
    }
    return null;
  }
}

/** One run: `begin` lists the first page (S3 down → MediaUnavailable, before any answer), `run` does the keys. */
export class Registration {
  private readonly listing: PrefixListing;
  private first: ObjectInfo[] | null | undefined;
  readonly summary: RegisterSummary;

  constructor(
    private readonly plan: RegisterPlan,
    private readonly deps: RegisterDeps,
  ) {
    this.listing = new PrefixListing(deps.storage, plan.prefix, plan.maxKeys);
    this.summary = {
      prefix: plan.prefix,
      field: plan.field.name,
      dry_run: plan.dryRun,
      listed: 0,
      created: 0,
      exists: 0,
      would_create: 0,
      failed: 0,
      truncated: false,
    };
  }

  async begin(): Promise<void> {
    this.first = await this.listing.next();
  }

  /**
   * Registers every listed key, handing each outcome to `emit` in key order. `stopEarly` is
   * asked before each key (the JSON answer's deadline). A failure that is not one
   * key's throws RegistrationStopped with the summary so far.
   */
  async run(
    emit: (outcome: KeyOutcome) => Promise<void> | void,
    stopEarly: () => boolean = () => false,
  ): Promise<RegisterSummary> {
    try {
      let page = this.first === undefined ? await this.listing.next() : this.first;
      while (page) {
        // One key after another: a key's duplicate warnings see the records the keys before it made.
        for (const object of page) {
          if (stopEarly()) {
            this.summary.truncated = true;
            this.summary.truncated_by = 'deadline';
            return this.summary;
          }
          const outcome = await this.registerOne(object);
          this.count(outcome.status);
          await emit(outcome);
        }
        page = await this.listing.next();
      }
      if (this.listing.truncated) {
        this.summary.truncated = true;
        this.summary.truncated_by = 'max_keys';
      }
      return this.summary;
    } catch (error) {
      throw new RegistrationStopped(this.summary, error);
    }
  }

  private count(status: KeyStatus): void {
    this.summary.listed++;
    this.summary[status]++;
  }

  private async registerOne(object: ObjectInfo): Promise<KeyOutcome> {
    const uri = s3Uri(this.deps.storage.bucket, object.key);
    const base = { key: object.key, uri, size: object.size, etag: object.etag };
    try {
      if (this.plan.dryRun) {
        const id = await this.holderOf(uri, this.deps.pool);
        return id ? { ...base, status: 'exists', id } : { ...base, status: 'would_create' };
      }
      return await transact(this.deps.pool, async (tx) => {
        const { actions, actionsOf, meta } = this.deps;
        // Held until the transaction ends: a concurrent run for the same URI waits, then finds this record.
        await actions.lockMatches([{ [this.plan.field.name]: uri }], {
          tx,
          actionsOf: (name) => actionsOf.get(name)!,
          warnings: [],
          meta,
        });
        const id = await this.holderOf(uri, tx);
        if (id) return { ...base, status: 'exists' as const, id };
        const { record, warnings } = await actions.create(recordValues(this.plan, uri, object.size, object.etag), tx, {
          ...meta,
          verifiedMedia: new Set([uri]),
        });
        return { ...base, status: 'created' as const, id: record.id, ...(warnings.length > 0 ? { warnings } : {}) };
      });
    } catch (error) {
      if (isSystemic(error) || !(error instanceof Error)) throw error;
      const known = this.deps.classify(error, 'POST');
      if (!known) throw error;
      return { ...base, status: 'failed', errors: listedProblems(known.problems, MAX_KEY_ERRORS) };
    }
  }

  /** The first live record (in id order) whose field holds the URI. */
  private async holderOf(uri: string, db: DatabaseConnection): Promise<string | undefined> {
    const { field } = this.plan;
    const { store } = this.deps;
    if (field.path.length === 1 && field.field.storage === 'column') {
      const { ids } = await store.liveMatches({ [field.name]: uri }, '', 1, db);
      return ids[0];
    }
    // A field inside a JSONB object: the list query's equality on its path (read after the lock, so committed rows are seen).
    const params = new URLSearchParams({ [field.name]: uri, _limit: '1', _count: 'none', _fields: 'id' });
    const page = await store.list(parseListQuery(this.plan.entity, params.toString()));
    return page.records[0]?.id as string | undefined;
  }
}
