// The bench's settings come from BENCH_* environment variables; these read and check them.

export function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
}

export function envInts(name: string, fallback: readonly number[], min: number): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const values = raw.split(',').map((part) => Number(part.trim().replace(/_/g, '')));
  if (values.some((v) => !Number.isInteger(v) || v < min))
    throw new Error(`${name} must be a comma-separated list of integers ≥ ${min} (got "${raw}")`);
  return [...new Set(values)];
}
