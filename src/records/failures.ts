// What a failure means to the client: errors that classify themselves (ApiError, media's S3
// errors) keep their status; database errors a client caused (a dangling ref, a taken unique set,
// a value PostgreSQL cannot hold) become 4xx with a message naming the field. Anything else is
// unexpected (a 500, logged).
import {
  CheckIntegrityConstraintViolationError,
  ForeignKeyIntegrityConstraintViolationError,
  InvalidInputError,
  NotNullIntegrityConstraintViolationError,
  StatementTimeoutError,
  UniqueIntegrityConstraintViolationError,
} from 'slonik';
import { withArticle, type Model } from '../registry/model.ts';
import { foreignKeyName, uniqueIndexName } from '../registry/names.ts';
import { QueryError } from '../query/problems.ts';
import { SequenceFull } from '../db/records.ts';
import { RETRY_AFTER_SECONDS, RequestAbandoned, isDatabaseUnavailable } from '../db/unavailable.ts';
import { sqlState } from '../db/sql-state.ts';
import {
  CommitUnconfirmed,
  RequestTimedOut,
  WorkLimitExceeded,
  deadlinePassed,
  isTransactionConflict,
} from '../db/work.ts';
import { ClassifiedError, type Classified } from './errors.ts';

/** Unique index name → its entity and fields, for a 409 that names them. */
function uniqueSets(model: Model) {
  const sets = new Map<string, { entity: string; fields: readonly string[] }>();
  for (const entity of model.entities)
    for (const set of entity.unique) sets.set(uniqueIndexName(entity, set), { entity: entity.name, fields: set });
  return sets;
}

/** Foreign-key constraint name → the ref field it guards. */
function foreignKeys(model: Model) {
  const keys = new Map<string, { entity: string; plural: string; field: string; target: string }>();
  for (const entity of model.entities) {
    for (const field of entity.fields) {
      if (field.type === 'ref' && field.storage === 'column') {
        keys.set(foreignKeyName(entity.table, field.name), {
          entity: entity.name,
          plural: entity.plural,
          field: field.name,
          target: field.to!,
        });
      }
      if (field.type === 'refs') {
        keys.set(foreignKeyName(field.junction!, 'target_id'), {
          entity: entity.name,
          plural: entity.plural,
          field: field.name,
          target: field.to!,
        });
      }
    }
  }
  return keys;
}

/** PostgreSQL's detail names the missing key: `Key (target_id)=(out_x) is not present in table "outfits".` */
function missingId(detail: string): string {
  const id = /^Key \([a-z_]+\)=\((.*)\) is not present/.exec(detail)?.[1];
  return id ? ` (${id})` : '';
}

function classify(
  error: Error,
  refs: ReturnType<typeof foreignKeys>,
  unique: ReturnType<typeof uniqueSets>,
  method: string,
): Classified | undefined {
  // ApiError, and the errors of layers records does not import (media), say what they mean.
  if (error instanceof ClassifiedError) return error.classified;
  // A statement cut short because the request's deadline came (work.ts) is the request's timeout.
  if (error instanceof RequestTimedOut || (error instanceof StatementTimeoutError && deadlinePassed(50))) {
    return {
      status: 503,
      retryAfter: 1,
      problems: [
        {
          code: 'REQUEST_TIMEOUT',
          message:
            'the request took longer than REQUEST_TIMEOUT_MS and was stopped; nothing it was writing was kept. Try again, or send less at once',
          field: null,
        },
      ],
    };
  }
  if (error instanceof WorkLimitExceeded)
    return { status: 413, problems: [{ code: 'WORK_LIMIT_EXCEEDED', message: error.message, field: null }] };
  if (isTransactionConflict(error)) {
    return {
      status: 503,
      retryAfter: 1,
      problems: [
        {
          code: 'TRANSACTION_CONFLICT',
          message:
            'concurrent writes to the same records kept conflicting; nothing was changed by this request, try again',
          field: null,
        },
      ],
    };
  }
  if (error instanceof StatementTimeoutError) {
    return {
      status: 503,
      problems: [
        {
          code: 'TIMEOUT',
          message: 'the database took too long to answer (DB_STATEMENT_TIMEOUT_MS); try again, or narrow the query',
          field: null,
        },
      ],
    };
  }
  if (error instanceof CommitUnconfirmed) {
    return {
      status: 503,
      retryAfter: RETRY_AFTER_SECONDS,
      problems: [{ code: 'COMMIT_UNCONFIRMED', message: error.message, field: null }],
    };
  }
  // Nobody reads this answer (the client has gone); it is what the log and metrics record.
  if (error instanceof RequestAbandoned)
    return { status: 503, problems: [{ code: 'REQUEST_ABANDONED', message: error.message, field: null }] };
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      retryAfter: RETRY_AFTER_SECONDS,
      problems: [
        {
          code: 'DATABASE_UNAVAILABLE',
          message: 'the database cannot be reached right now; nothing was changed by this request, try again shortly',
          field: null,
        },
      ],
    };
  }
  if (error instanceof SequenceFull)
    return { status: 409, problems: [{ code: 'CONFLICT', message: error.message, field: error.field }] };
  if (error instanceof QueryError) {
    return {
      status: 400,
      problems: error.problems.map((p) => ({
        code: 'INVALID_QUERY',
        message: `${p.field}: ${p.message}`,
        field: p.field,
      })),
    };
  }
  if (error instanceof ForeignKeyIntegrityConstraintViolationError) {
    const ref = refs.get(error.constraint ?? '');
    const detail = String((error.cause as { detail?: string } | undefined)?.detail ?? '');
    if (ref && detail.includes('still referenced')) {
      return {
        status: 409,
        problems: [
          {
            code: 'CONFLICT',
            message: `still referenced by ${ref.plural} (${ref.field}); delete or reassign those first`,
            field: null,
          },
        ],
      };
    }
    return {
      status: 409,
      problems: [
        {
          code: 'CONFLICT',
          message: `${ref?.field ?? 'a reference'} refers to ${withArticle(ref?.target ?? 'record')} that does not exist${missingId(detail)}`,
          field: ref?.field ?? null,
        },
      ],
    };
  }
  if (error instanceof UniqueIntegrityConstraintViolationError) {
    const set = unique.get(error.constraint ?? '');
    if (set) {
      const names =
        set.fields.length > 1 ? `${set.fields.slice(0, -1).join(', ')} and ${set.fields.at(-1)}` : set.fields[0];
      return {
        status: 409,
        problems: [
          {
            code: 'CONFLICT',
            message: `another ${set.entity} already has the same ${names}`,
            field: set.fields.length === 1 ? set.fields[0]! : null,
          },
        ],
      };
    }
    return {
      status: 409,
      problems: [
        {
          code: 'CONFLICT',
          message: `a record with these values already exists (${error.constraint ?? 'unique'})`,
          field: null,
        },
      ],
    };
  }
  if (
    error instanceof CheckIntegrityConstraintViolationError ||
    error instanceof NotNullIntegrityConstraintViolationError
  ) {
    return {
      status: 422,
      problems: [
        {
          code: 'VALIDATION_ERROR',
          message: `the database refused the values (${error.constraint ?? 'constraint'})`,
          field: null,
        },
      ],
    };
  }
  // Class 22, data exception: a value PostgreSQL cannot hold that validation let through. The
  // driver turns 22P02 (invalid text representation) into InvalidInputError without the SQLSTATE.
  if (sqlState(error)?.startsWith('22') || isInvalidInput(error)) {
    const detail = (error.cause instanceof Error ? error.cause.message : error.message).split('\n')[0];
    return method === 'GET'
      ? {
          status: 400,
          problems: [{ code: 'INVALID_QUERY', message: `a query value cannot be used: ${detail}`, field: null }],
        }
      : {
          status: 422,
          problems: [{ code: 'VALIDATION_ERROR', message: `a value cannot be stored: ${detail}`, field: null }],
        };
  }
  return undefined;
}

/** slonik's InvalidInputError is also its refusal of several statements in one query: that is our bug, not the client's. */
const isInvalidInput = (error: Error) =>
  error instanceof InvalidInputError && !/multiple statements/i.test(error.message);

export type ErrorClassifier = (error: Error, method: string) => Classified | undefined;

/** A classifier that knows the model's constraint names. */
export function createClassifier(model: Model): ErrorClassifier {
  const refs = foreignKeys(model);
  const unique = uniqueSets(model);
  return (error, method) => classify(error, refs, unique, method);
}
