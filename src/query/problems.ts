// How the query parser reports bad input: every problem names the parameter and the valid choices.
export interface QueryProblem {
  readonly field: string;
  readonly message: string;
}

export class QueryError extends Error {
  readonly problems: readonly QueryProblem[];
  constructor(problems: readonly QueryProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.name = 'QueryError';
    this.problems = problems;
  }
}

export const MAX_CONDITIONS = 50;

/** Counts conditions across the query string and `filter=` so one request cannot ask for thousands. */
export class QueryBudget {
  private used = 0;
  count(): void {
    this.used += 1;
  }
  get problem(): QueryProblem | undefined {
    return this.used > MAX_CONDITIONS
      ? {
          field: 'query',
          message: `has ${this.used} conditions, more than ${MAX_CONDITIONS}; combine values with in (field[in]=a,b) or split the request`,
        }
      : undefined;
  }
}
