// The model as the service and the CLI load it: the released snapshots (src/evolution), the
// registry's files compiled (src/registry), then the checks of the layers above the registry that
// must stop codegen and startup as registry problems (src/query: presets, query aliases and conversions' hand-overs).
import { readReleases } from './evolution/releases.ts';
import { checkAliases } from './query/aliases.ts';
import { checkConversions } from './query/conversions.ts';
import { checkPresets } from './query/presets.ts';
import { loadRegistry } from './registry/load.ts';
import type { Model } from './registry/model.ts';

/** Loads the registry in `registryDir` and checks it whole. Throws RegistryError (`file: path: message`). */
export function loadModel(registryDir: string): Model {
  const releases = readReleases(registryDir).map((r) => r.contract);
  return checkConversions(checkAliases(checkPresets(loadRegistry(registryDir, releases))));
}
