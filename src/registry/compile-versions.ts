// `versions` and `parts` name fields of other entities; this checks that they exist and fit.
import type { ParsedFile } from './load.ts';
import { findField, resolvePath, type EntityDef } from './model.ts';

type Report = (file: ParsedFile, path: string, message: string) => void;

export function checkVersionsAndParts(
  file: ParsedFile,
  entity: EntityDef,
  entities: readonly EntityDef[],
  report: Report,
): void {
  const versions = entity.versions;
  if (versions) {
    const child = entities.find((e) => e.name === versions.entity);
    const at = (key: string) => `versions.${key}`;
    if (!child) {
      report(file, at('entity'), `unknown entity "${versions.entity}"`);
    } else {
      const via = findField(child, versions.via);
      if (via?.type !== 'ref' || via.to !== entity.name)
        report(file, at('via'), `"${versions.via}" must be a ref of ${child.name} to ${entity.name}`);
      const number = findField(child, versions.number);
      if (number?.type !== 'integer' || number.sequence?.within.join() !== versions.via) {
        report(
          file,
          at('number'),
          `"${versions.number}" must be an integer field of ${child.name} with sequence: { within: [${versions.via}] }`,
        );
      }
      if (!['text', 'string'].includes(findField(child, versions.text)?.type ?? ''))
        report(file, at('text'), `"${versions.text}" must be a text field of ${child.name}`);
    }
    const active = findField(entity, versions.active);
    if (active?.type !== 'integer' || !active.readOnly)
      report(
        file,
        at('active'),
        `"${versions.active}" must be a read_only integer field of ${entity.name} (it is set through the active-version route)`,
      );
  }
  for (const part of entity.parts) {
    const at = `parts.${part.name}`;
    const target = entities.find((e) => e.name === part.entity);
    if (!target) {
      report(file, `${at}.entity`, `unknown entity "${part.entity}"`);
      continue;
    }
    const via = findField(target, part.via);
    if (via?.type !== 'ref' || via.to !== entity.name)
      report(file, `${at}.via`, `"${part.via}" must be a ref of ${target.name} to ${entity.name}`);
    for (const [name, value] of Object.entries(part.where)) {
      const field = findField(target, name);
      if (field?.type !== 'enum' || !field.values!.includes(value))
        report(
          file,
          `${at}.where.${name}`,
          `"${name}" must be an enum field of ${target.name} with the value "${value}"`,
        );
    }
    const keys = [part.via, ...Object.keys(part.where)].sort().join();
    if (!target.unique.some((set) => [...set].sort().join() === keys)) {
      report(
        file,
        at,
        `${target.name} needs unique: [[${[part.via, ...Object.keys(part.where)].join(', ')}]] so that a ${entity.name} has one ${part.name}`,
      );
    }
    if (entity.views.some((v) => v.name === part.name)) report(file, at, `"${part.name}" is also a view`);
    if (part.mirror) {
      const version = entities.find((e) => e.name === target.versions?.entity);
      const here = resolvePath(entity, part.mirror.field);
      if (!version) report(file, `${at}.mirror`, `${target.name} has no versions to mirror`);
      else {
        const to = findField(version, part.mirror.to);
        if (!here || !['s3_uri', 'string', 'text'].includes(here.type))
          report(
            file,
            `${at}.mirror.field`,
            `"${part.mirror.field.join('.')}" must be a text or s3_uri field of ${entity.name}`,
          );
        else if (to?.type !== here.type)
          report(file, `${at}.mirror.to`, `"${part.mirror.to}" must be a ${here.type} field of ${version.name}`);
        for (const [name, value] of Object.entries(part.mirror.set)) {
          const field = findField(version, name);
          if (field?.type !== 'enum' || !field.values!.includes(value))
            report(
              file,
              `${at}.mirror.set.${name}`,
              `"${name}" must be an enum field of ${version.name} with the value "${value}"`,
            );
        }
      }
    }
  }
}
