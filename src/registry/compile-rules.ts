// An entity's `rules:` name domain rules of registry/rule-catalog.ts and, for each parameter, the
// field it uses. This compiles them and checks, once every entity is compiled, that each rule is
// known and that the fields it names (and those it reaches through them) are what it needs.
import type { ParsedFile } from './load.ts';
import { findField, withArticle, type EntityDef, type FieldDef, type RuleUse } from './model.ts';
import { RULE_CATALOG, type FieldNeed } from './rule-catalog.ts';

type Report = (file: ParsedFile, path: string, message: string) => void;

export function compileRules(raw: unknown): RuleUse[] {
  const declared = (raw ?? {}) as Record<string, Record<string, string>>;
  return Object.entries(declared).map(([name, fields]) => ({ name, fields: new Map(Object.entries(fields)) }));
}

export function checkRules(file: ParsedFile, entity: EntityDef, entities: readonly EntityDef[], report: Report): void {
  for (const rule of entity.rules) {
    const at = `rules.${rule.name}`;
    const spec = RULE_CATALOG.get(rule.name);
    if (!spec) {
      report(file, at, `unknown rule "${rule.name}"; known: ${[...RULE_CATALOG.keys()].join(', ')}`);
      continue;
    }
    const parameters = new Map(Object.entries(spec.parameters));
    for (const given of rule.fields.keys()) {
      if (!parameters.has(given))
        report(
          file,
          `${at}.${given}`,
          `unknown parameter "${given}"; ${rule.name} takes ${[...parameters.keys()].join(', ')}`,
        );
    }
    for (const [parameter, need] of parameters) {
      const name = rule.fields.get(parameter);
      if (name === undefined) {
        report(file, at, `missing parameter "${parameter}": the ${describe(need)} field it uses`);
        continue;
      }
      const field = findField(entity, name);
      const problems = field
        ? unmet(field, need, entities, name)
        : [`unknown field "${name}" of ${entity.name}; fields: ${entity.fields.map((f) => f.name).join(', ')}`];
      for (const problem of problems) report(file, `${at}.${parameter}`, problem);
    }
  }
}

const describe = (need: FieldNeed) => need.type.join(' or ');

/** What `field` lacks of `need`, each as a message naming its path from the parameter's field. */
function unmet(field: FieldDef, need: FieldNeed, entities: readonly EntityDef[], at: string): string[] {
  if (!need.type.includes(field.type))
    return [`"${at}" must be ${withArticle(`${describe(need)} field`)} (it is ${withArticle(field.type)})`];
  const problems: string[] = [];
  const missing = (need.values ?? []).filter((v) => !field.values?.includes(v));
  if (missing.length > 0) problems.push(`"${at}" must accept the values ${missing.join(', ')}`);
  if (!need.fields) return problems;
  if (field.type === 'object') {
    for (const [name, inner] of Object.entries(need.fields)) {
      const child = field.fields?.find((f) => f.name === name);
      if (!child) problems.push(`"${at}" needs a field "${name}" (${describe(inner)})`);
      else problems.push(...unmet(child, inner, entities, `${at}.${name}`));
    }
    return problems;
  }
  const target = entities.find((e) => e.name === field.to);
  if (!target) return problems; // reported as an unknown entity already
  for (const [name, inner] of Object.entries(need.fields)) {
    const other = findField(target, name);
    if (!other) problems.push(`${target.name} (through "${at}") needs a field "${name}" (${describe(inner)})`);
    else problems.push(...unmet(other, inner, entities, `${at} → ${target.name}.${name}`));
  }
  if (need.creates) {
    const filled = new Set(Object.keys(need.fields));
    const required = target.fields.filter((f) => f.required && f.default === undefined && !filled.has(f.name));
    if (required.length > 0)
      problems.push(
        `${target.name} requires ${required.map((f) => f.name).join(', ')}, which the rule cannot fill when it creates one`,
      );
  }
  return problems;
}
