// Registry problems are reported as `file: path: message`, never as a stack trace.

export interface RegistryProblem {
  readonly file: string;
  /** Dotted path inside the file, e.g. `fields.title.type`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
}

export class RegistryError extends Error {
  readonly problems: readonly RegistryProblem[];

  constructor(problems: readonly RegistryProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'RegistryError';
    this.problems = problems;
  }
}

export function formatProblem(p: RegistryProblem): string {
  const where = p.line === undefined ? '' : ` (line ${p.line})`;
  return `${p.file}: ${p.path || '(root)'}: ${p.message}${where}`;
}
