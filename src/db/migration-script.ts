// How the migrator reads a migration file. A plain file is SQL that runs as one transaction. An
// online file (written by codegen for changes to existing tables, see src/codegen/migration.ts)
// starts with the `no-transaction` directive and is a list of steps:
//
//   -- reelmeta: no-transaction
//   -- reelmeta: step
//   ALTER TABLE …;                      ← statements of one step run in one transaction
//   -- reelmeta: step outside-transaction
//   DROP INDEX CONCURRENTLY IF EXISTS …;
//   -- reelmeta: statement
//   CREATE INDEX CONCURRENTLY …;        ← sent one at a time, with no transaction around them
//
// The markers are whole lines; files are generator output, so statements never contain them.

export const ONLINE_DIRECTIVE = '-- reelmeta: no-transaction';
export const STEP_MARKER = '-- reelmeta: step';
export const STATEMENT_MARKER = '-- reelmeta: statement';

export interface ScriptStep {
  readonly statements: readonly string[];
  readonly outsideTransaction: boolean;
}

export interface MigrationScript {
  /** false: run the whole text as one transaction (`steps` holds it as one step). */
  readonly online: boolean;
  readonly steps: readonly ScriptStep[];
}

export class MigrationScriptError extends Error {
  override readonly name = 'MigrationScriptError';
}

const DIRECTIVE_LINE = /^-- reelmeta:.*$/gm;
const STEP_LINE = /^-- reelmeta: step(?: (outside-transaction))?[ \t]*$/m;

const onlyComments = (text: string) =>
  text.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'));

export function parseMigrationScript(text: string): MigrationScript {
  const sqlText = text.replace(/\r\n/g, '\n');
  const directives: string[] = sqlText.match(DIRECTIVE_LINE) ?? [];
  if (!directives.includes(ONLINE_DIRECTIVE)) {
    if (directives.length > 0)
      throw new MigrationScriptError(`"${directives[0]}" without "${ONLINE_DIRECTIVE}" at the top`);
    return { online: false, steps: [{ statements: [sqlText], outsideTransaction: false }] };
  }
  for (const line of directives) {
    if (line !== ONLINE_DIRECTIVE && line !== STATEMENT_MARKER && !STEP_LINE.test(line))
      throw new MigrationScriptError(`unknown directive "${line}"`);
  }
  const parts = sqlText.split(new RegExp(STEP_LINE.source, 'm'));
  const [head, ...rest] = parts;
  if (!onlyComments(head!)) throw new MigrationScriptError(`SQL before the first "${STEP_MARKER}"`);
  if (head!.split('\n').filter((line) => line === ONLINE_DIRECTIVE).length !== 1) {
    throw new MigrationScriptError(`"${ONLINE_DIRECTIVE}" belongs at the top, before the first step`);
  }
  const steps: ScriptStep[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const outsideTransaction = rest[i] === 'outside-transaction';
    const body = rest[i + 1] ?? '';
    if (!outsideTransaction && body.includes(STATEMENT_MARKER)) {
      throw new MigrationScriptError(
        `"${STATEMENT_MARKER}" in a step that is one transaction; mark the step outside-transaction`,
      );
    }
    const statements = (outsideTransaction ? body.split(STATEMENT_MARKER) : [body])
      .map((s) => s.trim())
      .filter((s) => s !== '' && !onlyComments(s));
    if (statements.length > 0) steps.push({ statements, outsideTransaction });
  }
  return { online: true, steps };
}
