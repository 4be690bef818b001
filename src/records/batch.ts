// The batch write behind POST /{plural}/batch (FR-14): up to 1,000 creates, updates, replaces and
// deletes in one request, each answered with its own status. With ?atomic=true they run in one
// transaction and the first failure rolls all of them back.
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { transact } from '../db/work.ts';
import type { DatabaseConnection, DatabasePool } from 'slonik';
import type { Warning } from './duplicates.ts';
import { ApiError, listedProblems, type ApiProblem, type Classified } from './errors.ts';
import type { EntityActions } from './entity-actions.ts';
import type { Operation } from '../registry/model.ts';
import type { ErrorClassifier } from './failures.ts';
import type { WriteMeta } from '../audit/write-meta.ts';
import { isJsonObject } from '../registry/own.ts';

export const MAX_BATCH_OPERATIONS = 1000;
const OPERATIONS = ['create', 'update', 'replace', 'delete'] as const;
type OperationName = (typeof OPERATIONS)[number];

export interface BatchItemResult {
  readonly index: number;
  readonly op: OperationName | null;
  readonly status: number;
  readonly id: string | null;
  readonly data?: unknown;
  readonly errors?: readonly ApiProblem[];
  /** Possible duplicates of a created or updated record (the operation still succeeded). */
  readonly warnings?: readonly Warning[];
}

export type BatchOutcome =
  | { readonly applied: true; readonly results: readonly BatchItemResult[] }
  | { readonly applied: false; readonly failure: Classified };

/** The operations of a batch body, or a 400 for the request as a whole. */
export function readOperations(body: unknown): unknown[] {
  const operations = isJsonObject(body) ? body.operations : undefined;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ApiError.single(
      400,
      'INVALID_BODY',
      'send {"operations": [{"op": "create", "data": {...}}, {"op": "update", "id": "...", "data": {...}}, ...]}',
      'operations',
    );
  }
  if (operations.length > MAX_BATCH_OPERATIONS) {
    throw ApiError.single(
      400,
      'INVALID_BODY',
      `a batch holds at most ${MAX_BATCH_OPERATIONS} operations (got ${operations.length}); split it`,
      'operations',
    );
  }
  return operations;
}

/** A malformed operation (op, id, data, if_match, hard, reason): its field is the operation's, not the record's. */
class InvalidOperation extends ApiError {}

interface Runner {
  readonly actions: EntityActions;
  /** Throws when the caller may not do this operation (a 403 for that item). */
  readonly permit: (operation: Operation) => void;
  readonly actor: string | null;
  readonly meta: WriteMeta;
}

type ItemSuccess = { status: number; id: string; data: unknown; warnings?: readonly Warning[] };

/** A write's answer, with its warnings only when there are some. */
const written = (
  status: number,
  { record, warnings }: { record: { id: string }; warnings: readonly Warning[] },
): ItemSuccess => ({
  status,
  id: record.id,
  data: record,
  ...(warnings.length > 0 ? { warnings } : {}),
});

async function runOne(runner: Runner, raw: unknown, db: DatabaseConnection): Promise<ItemSuccess> {
  const bad = (message: string, field: string | null = null) =>
    new InvalidOperation(400, [{ code: 'INVALID_OPERATION', message, field }]);
  if (!isJsonObject(raw)) throw bad('an operation is an object such as {"op": "create", "data": {...}}');
  const op = raw.op;
  if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op))
    throw bad(`op must be one of: ${OPERATIONS.join(', ')}`, 'op');
  if (op !== 'create' && typeof raw.id !== 'string') throw bad(`${op} needs the record's "id"`, 'id');
  if (op !== 'delete' && raw.data === undefined) throw bad(`${op} needs "data", the record's fields`, 'data');
  if (raw.if_match !== undefined && typeof raw.if_match !== 'string')
    throw bad('if_match must be a string: the ETag the record had when it was read', 'if_match');
  if (op === 'create' && raw.if_match !== undefined)
    throw bad('if_match applies to update, replace and delete', 'if_match');
  const { actions } = runner;
  runner.permit(
    op === 'create' ? 'create' : op === 'delete' ? (raw.hard === true ? 'hard_delete' : 'delete') : 'update',
  );
  // An item's expected version works as the If-Match header of a single write.
  const meta: WriteMeta = { ...runner.meta, ifMatch: (raw.if_match as string | undefined) ?? null };
  switch (op as OperationName) {
    case 'create':
      return written(201, await actions.create(raw.data, db, meta));
    case 'update':
    case 'replace':
      return written(
        200,
        await actions.update(raw.id as string, raw.data, op === 'replace' ? 'replace' : 'patch', db, meta),
      );
    case 'delete': {
      if (raw.hard !== undefined && typeof raw.hard !== 'boolean') throw bad('hard must be true or false', 'hard');
      if (raw.reason !== undefined && raw.reason !== null && typeof raw.reason !== 'string')
        throw bad('reason must be a string', 'reason');
      const result = await actions.remove(
        raw.id as string,
        { hard: raw.hard === true, reason: (raw.reason as string | undefined) ?? null, actor: runner.actor },
        db,
        meta,
      );
      return { status: 200, id: result.id, data: result };
    }
  }
}

/** An item lists fewer problems than a whole answer may, so 1,000 failed items stay a bounded answer. */
export const MAX_ITEM_ERRORS_LISTED = 10;

/** Field paths of an item's problems, as seen from the request body (the first few; the rest counted). */
function located(index: number, problems: readonly ApiProblem[]): ApiProblem[] {
  return listedProblems(problems, MAX_ITEM_ERRORS_LISTED).map((p) =>
    p.code === 'TOO_MANY_ERRORS' ? p : { ...p, field: `operations[${index}]${p.field ? `.${p.field}` : ''}` },
  );
}

class RollBack extends Error {}

export async function runBatch(
  operations: readonly unknown[],
  options: {
    atomic: boolean;
    actions: EntityActions;
    permit: Runner['permit'];
    actor: string | null;
    meta: WriteMeta;
    pool: DatabasePool;
    classify: ErrorClassifier;
    /** How the caller names the record's fields in problems (an older API version's names); default as they are. */
    problemOut?: (problem: ApiProblem) => ApiProblem;
  },
): Promise<BatchOutcome> {
  const runner: Runner = { actions: options.actions, permit: options.permit, actor: options.actor, meta: options.meta };
  const failureOf = (error: unknown): Classified => {
    // Not one operation's fault: the whole request answers 503 (see failures.ts).
    if (isDatabaseUnavailable(error)) throw error;
    if (error instanceof ApiError) return error.classified;
    const known = error instanceof Error ? options.classify(error, 'POST') : undefined;
    if (!known) throw error;
    return known;
  };
  /** An item's problems, with record fields named as the caller names them. */
  const problemsOf = (error: unknown): Classified => {
    const failure = failureOf(error);
    const { problemOut } = options;
    if (!problemOut || error instanceof InvalidOperation) return failure;
    return { ...failure, problems: failure.problems.map(problemOut) };
  };
  const opName = (raw: unknown) =>
    isJsonObject(raw) && (OPERATIONS as readonly unknown[]).includes(raw.op) ? (raw.op as OperationName) : null;
  const results: BatchItemResult[] = [];

  if (!options.atomic) {
    for (const [index, raw] of operations.entries()) {
      try {
        results.push({ index, op: opName(raw), ...(await runOne(runner, raw, options.pool)) });
      } catch (error) {
        const failure = problemsOf(error);
        const id = isJsonObject(raw) && typeof raw.id === 'string' ? raw.id : null;
        results.push({ index, op: opName(raw), status: failure.status, id, errors: located(index, failure.problems) });
      }
    }
    return { applied: true, results };
  }

  let failure: Classified | undefined;
  try {
    await transact(options.pool, async (tx) => {
      for (const [index, raw] of operations.entries()) {
        try {
          results.push({ index, op: opName(raw), ...(await runOne(runner, raw, tx)) });
        } catch (error) {
          const item = problemsOf(error);
          failure = {
            status: item.status,
            problems: located(index, item.problems).map((p) => ({
              ...p,
              message: `operation ${index} failed, so none was applied: ${p.message}`,
            })),
          };
          throw new RollBack();
        }
      }
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  return failure ? { applied: false, failure } : { applied: true, results };
}
