// Facts about the committed registry and migrations, so tests do not hard-code what the next
// registry change will alter (the migration count, the registry version).
import { tableSpecs } from '../../src/codegen/table-spec.ts';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { shippedModel } from './fixtures.ts';

/** Committed migrations as `0001_create_shows_episodes`, in order. */
export const MIGRATION_LABELS: readonly string[] = readdirSync(path.join(PROJECT_ROOT, 'migrations'))
  .filter((f) => f.endsWith('.up.sql'))
  .map((f) => f.replace(/\.up\.sql$/, ''))
  .sort();

/** The number the next generated migration gets, e.g. `0003`. */
export const NEXT_MIGRATION = String(MIGRATION_LABELS.length + 1).padStart(4, '0');

const model = shippedModel();
export const REGISTRY_VERSION = model.registryVersion;

/** The tables a fully migrated database holds, sorted as information_schema lists them. */
export const MIGRATED_TABLES: readonly string[] = [
  ...tableSpecs(model).map((t) => t.name),
  'reelmeta_migrations',
].sort();
