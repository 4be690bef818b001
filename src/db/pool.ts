// The slonik pool, with type parsers that give JSON-ready values: ISO strings for timestamps,
// plain 'YYYY-MM-DD' strings for dates, numbers for int8 and numeric.
import { createPool, type DatabasePool } from 'slonik';

export type { DatabasePool };

const iso = (value: string) => new Date(value).toISOString();

export async function createDatabasePool(databaseUrl: string, maximumPoolSize: number): Promise<DatabasePool> {
  return createPool(databaseUrl, {
    maximumPoolSize,
    // slonik's default runs DISCARD ALL each time a connection returns to the pool: a second
    // round trip per query, and it throws away cached plans. Nothing here sets session state
    // outside a transaction (SET LOCAL ends with its transaction), so there is nothing to reset.
    resetConnection: async () => undefined,
    typeParsers: [
      { name: 'timestamptz', parse: iso },
      { name: 'timestamp', parse: (value) => iso(`${value}Z`) },
      { name: 'date', parse: (value) => value },
      { name: 'int8', parse: (value) => Number(value) },
      { name: 'numeric', parse: (value) => Number(value) },
    ],
  });
}
