// The error half of the envelope (seed 7.4.2): `{code, message, field}` with dotted field paths.

export interface ApiProblem {
  readonly code: string;
  readonly message: string;
  /** Dotted path such as `wardrobe.shoes.color` or `tags[2]`; null when no field is at fault. */
  readonly field: string | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problems: readonly ApiProblem[];

  constructor(status: number, problems: readonly ApiProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.problems = problems;
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
