// The error half of the envelope (seed 7.4.2): `{code, message, field}` with dotted field paths,
// and the errors the records layer (and the api above it) throws to answer with them.

export interface ApiProblem {
  readonly code: string;
  readonly message: string;
  /** Dotted path such as `wardrobe.shoes.color` or `tags[2]`; null when no field is at fault. */
  readonly field: string | null;
}

/**
 * What a failure means to the client. The status is an HTTP status number (the records layer
 * speaks in them; api/ sends them), and nothing here depends on an HTTP library.
 */
export type Classified = {
  status: 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 415 | 422 | 503;
  problems: readonly ApiProblem[];
  /** Sent as Retry-After (seconds) when trying again later should work. */
  retryAfter?: number;
};

/**
 * An error that says itself what it means to the client. Layers above records (media's S3 errors)
 * extend it, so the classifier (failures.ts) answers their errors without importing them.
 */
export abstract class ClassifiedError extends Error {
  abstract readonly classified: Classified;
}

/** A failure whose status and problems are known where it is thrown: a refused write, a missing record, a bad body. */
export class ApiError extends ClassifiedError {
  readonly status: number;
  readonly problems: readonly ApiProblem[];

  constructor(status: number, problems: readonly ApiProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.problems = problems;
  }

  get classified(): Classified {
    return { status: this.status as Classified['status'], problems: this.problems };
  }

  static single(status: number, code: string, message: string, field: string | null = null): ApiError {
    return new ApiError(status, [{ code, message, field }]);
  }
}

export const notFound = (what: string, id: string) => ApiError.single(404, 'NOT_FOUND', `${what} ${id} not found`);

/** An answer lists at most this many problems; the rest are counted (see listedProblems). */
export const MAX_ERRORS_LISTED = 100;

/**
 * The first `max` problems, and when there were more, a last one that counts them: a body with
 * 100,000 bad items answers a few kilobytes, not megabytes.
 */
export function listedProblems(problems: readonly ApiProblem[], max = MAX_ERRORS_LISTED): readonly ApiProblem[] {
  if (problems.length <= max) return problems;
  const more = problems.length - max;
  return [
    ...problems.slice(0, max),
    {
      code: 'TOO_MANY_ERRORS',
      message: `and ${more} more problem${more === 1 ? '' : 's'} not listed (${problems.length} in all)`,
      field: null,
    },
  ];
}
