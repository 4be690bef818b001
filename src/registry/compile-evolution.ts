// The registry's evolution options: `reserved` names, per-version `upgrades` steps, and the API
// versions served side by side. Checked against the current entity so a step that points at a
// field that does not exist is a registry error, not a surprise when an old record is read.
import type { ParsedFile } from './load.ts';
import {
  resolvePath,
  type ApiVersionDef,
  type EntityDef,
  type FieldPath,
  type UpgradeDef,
  type UpgradeStep,
} from './model.ts';

type Report = (file: ParsedFile, path: string, message: string) => void;

/** What the compiler needs of a released snapshot (registry/releases/<version>.json). */
export interface ReleaseVersions {
  readonly registry_version: string;
  readonly entities: Readonly<
    Record<
      string,
      { readonly schema_version: number; readonly fields?: Readonly<Record<string, { readonly read_only?: true }>> }
    >
  >;
}

/**
 * The entity's read-only top-level fields that a release had writable: clients of that release
 * may still send them, and a write says it did not store them (records/read-only-writes.ts).
 */
export function formerlyWritable(entity: EntityDef, releases: ReadonlyMap<string, ReleaseVersions>): string[] {
  return entity.fields
    .filter((field) => field.readOnly)
    .map((field) => field.name)
    .filter((name) =>
      [...releases.values()].some((release) => {
        const fields = Object.hasOwn(release.entities, entity.name) ? release.entities[entity.name]!.fields : undefined;
        return fields !== undefined && Object.hasOwn(fields, name) && !fields[name]!.read_only;
      }),
    );
}

type RawStep = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

const toPath = (dotted: unknown): FieldPath => String(dotted).split('.');
const dotted = (path: FieldPath) => path.join('.');

/** A step in its YAML form (`{ rename: { from, to } }`) → UpgradeStep. */
export function parseStep(raw: RawStep): UpgradeStep {
  const [kind, args] = Object.entries(raw)[0]!;
  switch (kind) {
    case 'rename':
    case 'move':
      return { kind, from: toPath(args.from), to: toPath(args.to) };
    case 'set_default':
      return { kind, field: toPath(args.field), value: args.value };
    case 'split':
      return {
        kind,
        from: toPath(args.from),
        to: (args.to as string[]).map(toPath),
        separator: args.separator as string,
      };
    case 'join':
      return {
        kind,
        from: (args.from as string[]).map(toPath),
        to: toPath(args.to),
        separator: args.separator as string,
      };
    case 'map_values':
      return { kind, field: toPath(args.field), map: args.map as Record<string, string> };
    default:
      return { kind: 'remove', field: toPath(args.field) };
  }
}

/** The paths a step writes (which must exist once all later steps have run). */
export function stepTargets(step: UpgradeStep): FieldPath[] {
  switch (step.kind) {
    case 'rename':
    case 'move':
    case 'join':
      return [step.to];
    case 'split':
      return [...step.to];
    case 'set_default':
    case 'map_values':
      return [step.field];
    case 'remove':
      return [];
  }
}

/** The paths a step takes away. */
export function stepSources(step: UpgradeStep): FieldPath[] {
  switch (step.kind) {
    case 'rename':
    case 'move':
    case 'split':
      return [step.from];
    case 'join':
      return [...step.from];
    case 'remove':
      return [step.field];
    default:
      return [];
  }
}

export function compileUpgrades(file: ParsedFile, entity: EntityDef, raw: unknown, report: Report): UpgradeDef[] {
  const declared = Object.entries((raw as Record<string, RawStep[]> | undefined) ?? {})
    .map(([version, steps]) => ({ version: Number(version), steps: steps.map(parseStep) }))
    .sort((a, b) => a.version - b.version);
  for (const { version } of declared) {
    if (version < 2 || version > entity.schemaVersion) {
      report(
        file,
        `upgrades.${version}`,
        `upgrades lead to versions 2..${entity.schemaVersion} (schema_version is ${entity.schemaVersion})`,
      );
    }
  }
  const all = declared.flatMap(({ version, steps }) => steps.map((step, index) => ({ version, index, step })));
  all.forEach(({ version, index, step }, position) => {
    const at = `upgrades.${version}.${index}.${step.kind}`;
    if (step.kind === 'rename' && dotted(step.from.slice(0, -1)) !== dotted(step.to.slice(0, -1))) {
      report(file, at, `a rename stays within one object ("${dotted(step.from)}" → "${dotted(step.to)}"); use move`);
    }
    const later = all.slice(position + 1).map((s) => s.step);
    for (const target of stepTargets(step)) {
      const takenAway = later.some((s) => stepSources(s).some((source) => dotted(source) === dotted(target)));
      const field = resolvePath(entity, target);
      if (!field && !takenAway) report(file, at, `"${dotted(target)}" is not a field of ${entity.name}`);
      if (field && step.kind === 'map_values' && field.type === 'enum' && !takenAway) {
        const unknown = Object.values(step.map).filter((value) => !field.values!.includes(value));
        if (unknown.length > 0)
          report(
            file,
            at,
            `maps to ${unknown.map((v) => `"${v}"`).join(', ')}, not values of ${dotted(target)} (${field.values!.join(', ')})`,
          );
      }
    }
  });
  return declared;
}

export function checkReserved(file: ParsedFile, entity: EntityDef, report: Report): void {
  for (const name of entity.reserved) {
    if (entity.fields.some((f) => f.name === name)) {
      report(
        file,
        `fields.${name}`,
        `"${name}" is reserved: it was a removed field's name, and reusing it would misread old records`,
      );
    }
  }
}

type RawApiVersion = string | { name: string; release?: string; deprecation?: string; sunset?: string };

/**
 * The last API version listed is the current one. Each older version names the release whose
 * record shapes it keeps; an entity newer than that release is served in its current shape.
 */
export function compileApiVersions(
  file: ParsedFile,
  raw: readonly RawApiVersion[],
  entities: readonly EntityDef[],
  releases: ReadonlyMap<string, ReleaseVersions>,
  report: Report,
): ApiVersionDef[] {
  const current = Object.fromEntries(entities.map((e) => [e.name, e.schemaVersion]));
  const seen = new Set<string>();
  return raw.map((item, index) => {
    const def = typeof item === 'string' ? { name: item } : item;
    const at = `api_versions.${index}`;
    if (seen.has(def.name)) report(file, at, `"${def.name}" is listed twice`);
    seen.add(def.name);
    const last = index === raw.length - 1;
    if (last && def.release)
      report(
        file,
        `${at}.release`,
        'the last API version listed is the current one: it speaks the current registry, not a release',
      );
    if (!last && (!def.release || !def.deprecation || !def.sunset)) {
      report(
        file,
        at,
        `"${def.name}" is older than the current version: give the release whose shapes it keeps, and its deprecation and sunset dates ({ name, release: x.y.z, deprecation: YYYY-MM-DD, sunset: YYYY-MM-DD })`,
      );
    }
    const release = def.release ? releases.get(def.release) : undefined;
    if (def.release && !release)
      report(
        file,
        `${at}.release`,
        `no released snapshot registry/releases/${def.release}.json; run \`npm run registry:release\` when releasing`,
      );
    const schemaVersions = { ...current };
    for (const entity of entities) {
      const released = release?.entities[entity.name]?.schema_version;
      if (released === undefined) continue;
      if (released > entity.schemaVersion) {
        report(
          file,
          `${at}.release`,
          `release ${def.release} has ${entity.name} at schema_version ${released}, newer than the current ${entity.schemaVersion}`,
        );
      }
      schemaVersions[entity.name] = released;
    }
    return { name: def.name, release: def.release, deprecation: def.deprecation, sunset: def.sunset, schemaVersions };
  });
}
