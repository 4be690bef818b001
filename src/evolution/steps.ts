// Declarative upgrade steps applied to plain JSON records. Forwards, they take a stored record (or a
// request in an older API version's shape) to the current shape; backwards, they answer an older
// API version in the shape it knows. Pure functions: no database, no HTTP.
import { stepTargets } from '../registry/compile-evolution.ts';
import type { FieldPath, UpgradeDef, UpgradeStep } from '../registry/model.ts';
import { ownValue } from '../registry/own.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at `path`: undefined when absent, null when it or an object on the way is null. */
function getAt(record: Json, path: FieldPath): unknown {
  let value: unknown = record;
  for (const key of path) {
    if (value === null) return null;
    if (!isObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

function setAt(record: Json, path: FieldPath, value: unknown): void {
  let node = record;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path.at(-1)!] = value;
}

/** Removes the value at `path`, and the objects that removing it left empty. */
function deleteAt(record: Json, path: FieldPath): void {
  const parents: Json[] = [record];
  for (const key of path.slice(0, -1)) {
    const next = parents.at(-1)![key];
    if (!isObject(next)) return;
    parents.push(next);
  }
  delete parents.at(-1)![path.at(-1)!];
  for (let depth = parents.length - 1; depth > 0 && Object.keys(parents[depth]!).length === 0; depth--) {
    delete parents[depth - 1]![path[depth - 1]!];
  }
}

/** Moves a value; a null never overwrites a value already there (it only says "unset"). */
function move(record: Json, from: FieldPath, to: FieldPath): void {
  const value = getAt(record, from);
  if (value === undefined) return;
  deleteAt(record, from);
  const existing = getAt(record, to);
  if (value !== null || existing === undefined || existing === null) setAt(record, to, value);
}

function mapValue(value: unknown, map: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return ownValue(map, value) ?? value;
  if (Array.isArray(value)) return value.map((item) => mapValue(item, map));
  return value;
}

/** The map backwards, for the values only one old value maps to (a merge of values cannot be undone). */
function invert(map: Readonly<Record<string, string>>): Record<string, string> {
  const inverse: Record<string, string> = {};
  const targets = Object.values(map);
  for (const [from, to] of Object.entries(map)) if (targets.filter((t) => t === to).length === 1) inverse[to] = from;
  return inverse;
}

function split(record: Json, from: FieldPath, to: readonly FieldPath[], separator: string): void {
  const value = getAt(record, from);
  if (value === undefined) return;
  deleteAt(record, from);
  if (typeof value !== 'string') {
    for (const path of to) setAt(record, path, null);
    return;
  }
  const parts = value.split(separator);
  const head = parts.slice(0, to.length - 1);
  const rest = parts.slice(to.length - 1).join(separator);
  [...head, rest].forEach((part, index) => setAt(record, to[index]!, part === '' ? null : part));
  for (const path of to.slice(head.length + 1)) setAt(record, path, null);
}

function join(record: Json, from: readonly FieldPath[], to: FieldPath, separator: string): void {
  const values = from.map((path) => getAt(record, path));
  if (values.every((v) => v === undefined)) return;
  for (const path of from) deleteAt(record, path);
  const parts = values.filter(
    (v): v is string | number => (typeof v === 'string' && v !== '') || typeof v === 'number',
  );
  setAt(record, to, parts.length > 0 ? parts.join(separator) : null);
}

function forward(record: Json, step: UpgradeStep): void {
  switch (step.kind) {
    case 'rename':
    case 'move':
      return move(record, step.from, step.to);
    case 'set_default': {
      const value = getAt(record, step.field);
      if (value === undefined || value === null) setAt(record, step.field, structuredClone(step.value));
      return;
    }
    case 'split':
      return split(record, step.from, step.to, step.separator);
    case 'join':
      return join(record, step.from, step.to, step.separator);
    case 'map_values': {
      const value = getAt(record, step.field);
      if (value !== undefined) setAt(record, step.field, mapValue(value, step.map));
      return;
    }
    case 'remove':
      return deleteAt(record, step.field);
  }
}

/** The inverse where there is one; a default or a removal cannot be undone and is skipped. */
function backward(record: Json, step: UpgradeStep): void {
  switch (step.kind) {
    case 'rename':
    case 'move':
      return move(record, step.to, step.from);
    case 'split':
      return join(record, step.to, step.from, step.separator);
    case 'join':
      return split(record, step.to, step.from, step.separator);
    case 'map_values': {
      const value = getAt(record, step.field);
      if (value !== undefined) setAt(record, step.field, mapValue(value, invert(step.map)));
      return;
    }
    default:
      return;
  }
}

/** The steps between two versions, oldest first: those producing versions in (from, to]. */
function stepsBetween(upgrades: readonly UpgradeDef[], from: number, to: number): UpgradeStep[] {
  return upgrades.filter((u) => u.version > from && u.version <= to).flatMap((u) => u.steps);
}

/** A copy of `record` taken from schema_version `from` to the later `to`. */
export function upgradeRecord(record: Json, upgrades: readonly UpgradeDef[], from: number, to: number): Json {
  const copy = structuredClone(record);
  for (const step of stepsBetween(upgrades, from, to)) forward(copy, step);
  return copy;
}

/** A copy of `record` taken from schema_version `from` back to the earlier `to`. */
export function downgradeRecord(record: Json, upgrades: readonly UpgradeDef[], from: number, to: number): Json {
  const copy = structuredClone(record);
  for (const step of stepsBetween(upgrades, to, from).reverse()) backward(copy, step);
  return copy;
}

const startsWith = (path: FieldPath, prefix: FieldPath) =>
  prefix.length <= path.length && prefix.every((key, i) => path[i] === key);

export type PathTranslation = { readonly path: FieldPath } | { readonly error: string };

/**
 * Where a field of schema_version `from` lives at the later `to`: renames and moves carry it
 * along; a field that was split, joined or removed has no single place (an error says why).
 */
export function pathForward(
  path: FieldPath,
  upgrades: readonly UpgradeDef[],
  from: number,
  to: number,
): PathTranslation {
  let current = path;
  for (const step of stepsBetween(upgrades, from, to)) {
    if ((step.kind === 'rename' || step.kind === 'move') && startsWith(current, step.from)) {
      current = [...step.to, ...current.slice(step.from.length)];
    } else if (step.kind === 'split' && startsWith(current, step.from)) {
      return { error: `was split into ${step.to.map((p) => p.join('.')).join(' and ')}` };
    } else if (step.kind === 'join' && step.from.some((p) => startsWith(current, p))) {
      return { error: `was joined into ${step.to.join('.')}` };
    } else if (step.kind === 'remove' && startsWith(current, step.field)) {
      return { error: 'was removed' };
    }
  }
  return { path: current };
}

/** Where a field of the later schema_version `from` was at the earlier `to` (renames and moves undone). */
export function pathBackward(path: FieldPath, upgrades: readonly UpgradeDef[], from: number, to: number): FieldPath {
  let current = path;
  for (const step of stepsBetween(upgrades, to, from).reverse()) {
    if ((step.kind === 'rename' || step.kind === 'move') && startsWith(current, step.to)) {
      current = [...step.from, ...current.slice(step.to.length)];
    }
  }
  return current;
}

/** The paths an older version does not have: where steps since then put renamed, moved, split or joined values. */
export function pathsIntroduced(upgrades: readonly UpgradeDef[], since: number, to: number): FieldPath[] {
  return stepsBetween(upgrades, since, to)
    .filter((step) => step.kind !== 'set_default' && step.kind !== 'map_values')
    .flatMap(stepTargets);
}
