// One value of a record as a CSV cell of an export (export.ts).

/** What a spreadsheet would run as a formula at the start of a cell (OWASP, "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * CSV cells: objects and lists as JSON, missing values empty. Text that starts like a formula is
 * prefixed with a single quote, so a spreadsheet shows it instead of running it. Numbers of
 * numeric fields (a season of -1) are values, not formulas, and are written as they are.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}
