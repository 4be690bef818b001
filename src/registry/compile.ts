// Turns validated registry files into the Model, checking what a meta-schema cannot:
// references between files, name clashes, enum aliases and that defaults fit their fields.
import type { NormalizeMode } from './normalize.ts';
import { RegistryError, type RegistryProblem } from './errors.ts';
import type { ParsedFile } from './load.ts';
import {
  DEFAULT_PERMISSIONS,
  RESERVED_FIELD_NAMES,
  type Permissions,
  childRelations,
  findField,
  resolvePath,
  type ViewDef,
  type EntityDef,
  type FieldDef,
  type FieldType,
  type Model,
  type QueryAliasDef,
  type ScheduleDef,
  type ConversionDef,
  templateFields,
  type ExpiryDef,
  type PresetDef,
} from './model.ts';
import { fieldSchema } from './json-schema.ts';
import { junctionTableName } from './names.ts';
import { createAjv } from './ajv.ts';
import {
  checkReserved,
  compileApiVersions,
  compileUpgrades,
  formerlyWritable,
  type ReleaseVersions,
} from './compile-evolution.ts';
import { checkVersionsAndParts } from './compile-versions.ts';
import { checkBehaviours, compileBehaviours, type RawBehaviours } from './compile-behaviours.ts';
import { checkRules, compileRules } from './compile-rules.ts';
import {
  acceptsContentType,
  keyFields,
  keyTemplateProblems,
  MAX_OBJECT_BYTES,
  parseBytes,
  THUMBNAIL_SIZES,
  type MediaDef,
  type MediaKind,
  type ThumbnailSource,
  type ThumbnailsDef,
} from './media.ts';

/** A thumbnail job writes one file per size (seed 8.12). */
const THUMBNAIL_COUNT = THUMBNAIL_SIZES.length;

export interface RawRegistry {
  readonly registry: ParsedFile;
  readonly mixins: readonly ParsedFile[];
  readonly entities: readonly ParsedFile[];
  /** Released snapshots older API versions name, by registry version. */
  readonly releases?: ReadonlyMap<string, ReleaseVersions>;
}

interface RawField extends RawBehaviours {
  type: FieldType;
  description?: string;
  required?: boolean;
  default?: unknown;
  indexed?: boolean;
  searchable?: boolean;
  storage?: 'column' | 'document';
  deprecated?: boolean;
  read_only?: boolean;
  max_length?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  values?: string[];
  aliases?: Record<string, string>;
  transitions?: Record<string, string[]>;
  other_pattern?: string;
  normalize?: NormalizeMode;
  fields?: Record<string, RawField>;
  items?: RawField;
  max_items?: number;
  to?: string;
  sequence?: { within: string[]; max?: number };
  on_delete?: 'restrict' | 'cascade' | 'set_null';
  at_least?: string;
  role?: { required?: boolean; values?: string[]; max_length?: number; description?: string };
  count?: { entity: string; path: string };
  link_roles?: { entity: string; path: string };
  library?: { refs: string; match: string; name: string };
  media?: {
    kinds: MediaKind[];
    content_types?: string[];
    max_bytes: number | string;
    key: string;
    verify?: boolean;
    size_field?: string;
    etag_field?: string;
  };
}

/** A link's role is short text: a slot such as `main_closet` or a talent's name. */
const ROLE_MAX_LENGTH = 200;

type Report = (file: ParsedFile, path: string, message: string) => void;

export function compileModel(raw: RawRegistry): Model {
  const problems: RegistryProblem[] = [];
  const report: Report = (file, path, message) =>
    problems.push({ file: file.file, path, message, line: file.lineOf(path) });

  const mixinFields = new Map<string, { file: ParsedFile; fields: FieldDef[] }>();
  for (const file of raw.mixins) {
    const name = file.data.name as string;
    checkFileName(file, name, report);
    const fields = compileFields(file, file.data.fields as Record<string, RawField>, [], 'fields', report);
    mixinFields.set(name, { file, fields });
  }

  const entities: EntityDef[] = [];
  for (const file of raw.entities) {
    const data = file.data;
    const name = data.name as string;
    checkFileName(file, name, report);
    const own = compileFields(file, data.fields as Record<string, RawField>, [], 'fields', report).map((field) =>
      field.type === 'refs' ? { ...field, junction: junctionTableName(data.plural as string, field.name) } : field,
    );
    const fields = [...own];
    const mixins = (data.mixins as string[] | undefined) ?? [];
    mixins.forEach((mixinName, index) => {
      const mixin = mixinFields.get(mixinName);
      if (!mixin) {
        report(
          file,
          `mixins.${index}`,
          `unknown mixin "${mixinName}"; known: ${[...mixinFields.keys()].join(', ') || 'none'}`,
        );
        return;
      }
      for (const field of mixin.fields) {
        if (fields.some((f) => f.name === field.name)) {
          report(file, `fields.${field.name}`, `clashes with field "${field.name}" of mixin "${mixinName}"`);
        } else {
          fields.push(field);
        }
      }
    });
    for (const field of own) {
      if ((RESERVED_FIELD_NAMES as readonly string[]).includes(field.name)) {
        report(
          file,
          `fields.${field.name}`,
          `"${field.name}" is reserved for the platform (reserved: ${RESERVED_FIELD_NAMES.join(', ')})`,
        );
      }
    }
    for (const field of fields.filter((f) => f.atLeast)) {
      const other = fields.find((f) => f.name === field.atLeast);
      const at = `${field.source.path}.at_least`;
      if (!other) report(file, at, `unknown field "${field.atLeast}"; fields: ${fields.map((f) => f.name).join(', ')}`);
      else if (other === field || other.type !== field.type)
        report(file, at, `"${field.atLeast}" must be another ${field.type} field`);
    }
    for (const field of fields.filter((f) => f.sequence)) {
      const at = `${field.source.path}.sequence.within`;
      if (field.storage === 'document') report(file, at, 'a sequence field is stored in a column');
      for (const scope of field.sequence!.within) {
        const other = fields.find((f) => f.name === scope);
        if (!other) report(file, at, `unknown field "${scope}"; fields: ${fields.map((f) => f.name).join(', ')}`);
        else if (other.type === 'object' || other.type === 'array' || other.storage === 'document' || other === field) {
          report(file, at, `"${scope}" cannot scope a sequence; use column fields with single values`);
        }
      }
    }
    const unique = checkFieldSets(file, 'unique', data.unique, fields, report);
    const duplicateWarnings = checkFieldSets(file, 'duplicate_warnings', data.duplicate_warnings, fields, report);
    const enforced = (data.enforce_transitions as string[] | undefined) ?? [];
    enforced.forEach((fieldName, index) => {
      if (!fields.find((f) => f.name === fieldName)?.transitions)
        report(file, `enforce_transitions.${index}`, `"${fieldName}" is not a field that declares transitions`);
    });
    const entity: EntityDef = {
      name,
      unique,
      duplicateWarnings,
      plural: data.plural as string,
      route: (data.plural as string).replace(/_/g, '-'),
      idPrefix: data.id_prefix as string,
      table: data.plural as string,
      schemaVersion: data.schema_version as number,
      description: data.description as string | undefined,
      mixins,
      fields: fields.map((f) => (enforced.includes(f.name) ? { ...f, transitionsEnforced: true } : f)),
      file: file.file,
      presets: [],
      queryAliases: [],
      views: [],
      reserved: (data.reserved as string[] | undefined) ?? [],
      versions: data.versions as EntityDef['versions'],
      parts: Object.entries((data.parts as Record<string, RawPart> | undefined) ?? {}).map(([name, part]) => ({
        name,
        entity: part.entity,
        via: part.via,
        where: part.where ?? {},
        ...(part.mirror
          ? { mirror: { field: part.mirror.field.split('.'), to: part.mirror.to, set: part.mirror.set ?? {} } }
          : {}),
      })),
      upgrades: [],
      rules: compileRules(data.rules),
      permissions: {
        ...DEFAULT_PERMISSIONS,
        ...(raw.registry.data.permissions as Partial<Permissions> | undefined),
        ...(data.permissions as Partial<Permissions> | undefined),
      },
    };
    checkReserved(file, entity, report);
    checkBehaviours(file, entity, report);
    checkMediaKeys(file, entity, report);
    entities.push({
      ...entity,
      ...(data.thumbnails
        ? { thumbnails: compileThumbnails(file, entity, data.thumbnails as RawThumbnails, report) }
        : {}),
      presets: compilePresets(file, data.presets),
      queryAliases: compileQueryAliases(file, data.query_aliases),
      ...(data.schedule ? { schedule: compileSchedule(file, entity, data.schedule as RawSchedule, report) } : {}),
      ...(data.expiry ? { expiry: compileExpiry(file, entity, data.expiry as ExpiryDef, report) } : {}),
      ...(data.conversion ? { conversion: compileConversion(file, data.conversion as RawConversion) } : {}),
      views: compileViews(file, entity, data.views, report),
      upgrades: compileUpgrades(file, entity, data.upgrades, report),
      formerlyWritable: formerlyWritable(entity, raw.releases ?? new Map()),
    });
  }

  checkUnique(raw.entities, entities, 'plural', (e) => e.plural, report);
  checkUnique(raw.entities, entities, 'id_prefix', (e) => e.idPrefix, report);
  for (const [index, entity] of entities.entries()) {
    const file = raw.entities[index]!;
    for (const field of walkFields(entity.fields)) {
      if ((field.type === 'ref' || field.type === 'refs') && !entities.some((e) => e.name === field.to)) {
        report(file, `${field.source.path}.to`, unknownEntity(String(field.to), entities));
      }
    }
  }
  entities.forEach((entity, index) => checkRelations(raw.entities[index]!, entity, entities, report));
  entities.forEach((entity, index) => checkConversion(raw.entities[index]!, entity, entities, report));
  entities.forEach((entity, index) => checkVersionsAndParts(raw.entities[index]!, entity, entities, report));
  entities.forEach((entity, index) => checkRules(raw.entities[index]!, entity, entities, report));
  if (problems.length === 0) checkDefaults(raw, entities, mixinFields, report);
  const model: Model = {
    registryVersion: raw.registry.data.registry_version as string,
    apiVersions: compileApiVersions(
      raw.registry,
      raw.registry.data.api_versions as [],
      entities,
      raw.releases ?? new Map(),
      report,
    ),
    entities,
  };
  if (problems.length === 0) checkViewRoutes(raw, model, report);
  if (problems.length > 0) throw new RegistryError(problems);
  return model;
}

function compileMedia(
  raw: NonNullable<RawField['media']>,
  problem: (option: string, message: string) => void,
): MediaDef {
  const maxBytes = parseBytes(raw.max_bytes);
  if (!Number.isFinite(maxBytes) || maxBytes < 1 || maxBytes > MAX_OBJECT_BYTES)
    problem('media.max_bytes', `must be from 1 byte to 5TB (S3's largest object); got ${raw.max_bytes}`);
  const contentTypes = (raw.content_types ?? []).map((t) => t.toLowerCase());
  const media: MediaDef = {
    kinds: raw.kinds,
    contentTypes,
    maxBytes,
    key: raw.key,
    prefix: raw.key.split('{')[0]!,
    verify: raw.verify ?? true,
    ...(raw.size_field ? { sizeField: raw.size_field } : {}),
    ...(raw.etag_field ? { etagField: raw.etag_field } : {}),
  };
  for (const type of contentTypes)
    if (!acceptsContentType({ ...media, contentTypes: [] }, type))
      problem('media.content_types', `"${type}" is not a type of ${raw.kinds.join(', ')}`);
  return media;
}

/** Key templates may use the built-in placeholders and the entity's single-value column fields. */
function checkMediaKeys(file: ParsedFile, entity: EntityDef, report: Report): void {
  const fields = keyFields(entity.fields);
  for (const field of walkFields(entity.fields)) {
    if (!field.media) continue;
    for (const message of keyTemplateProblems(field.media.key, fields))
      report(file, `${field.source.path}.media.key`, message);
    const companion = (name: string | undefined, option: string, type: FieldType) => {
      if (name === undefined) return;
      const target = entity.fields.find((f) => f.name === name);
      if (target?.type !== type || target.storage !== 'column' || target.readOnly)
        report(
          file,
          `${field.source.path}.media.${option}`,
          `"${name}" must be a writable top-level ${type} field of ${entity.name}`,
        );
    };
    companion(field.media.sizeField, 'size_field', 'integer');
    companion(field.media.etagField, 'etag_field', 'string');
  }
}

type RawThumbnails = {
  field: string;
  status: string;
  sources: { image?: string; frame?: string; at_seconds?: number; compose?: { over: string; under?: string } }[];
};

/** `thumbnails:` names a read-only s3_uri list, a read-only status object and sources that are s3_uri fields. */
function compileThumbnails(file: ParsedFile, entity: EntityDef, raw: RawThumbnails, report: Report): ThumbnailsDef {
  const top = (name: string) => entity.fields.find((f) => f.name === name);
  const list = top(raw.field);
  if (
    list?.type !== 'array' ||
    list.items?.type !== 's3_uri' ||
    !list.readOnly ||
    (list.maxItems ?? 0) < THUMBNAIL_COUNT
  ) {
    report(
      file,
      'thumbnails.field',
      `"${raw.field}" must be a read_only array of s3_uri with max_items of at least ${THUMBNAIL_COUNT}`,
    );
  }
  const status = top(raw.status);
  const state = status?.fields?.find((f) => f.name === 'state');
  if (status?.type !== 'object' || !status.readOnly || (status.fields && state?.type !== 'enum')) {
    report(
      file,
      'thumbnails.status',
      `"${raw.status}" must be a read_only object field (the job's state), open or with a \`state\` enum`,
    );
  }
  const uri = (path: string, at: string): string[] => {
    const segments = path.split('.');
    const def = resolvePath(entity, segments);
    if (def?.type !== 's3_uri') report(file, at, `"${path}" must be an s3_uri field of ${entity.name}`);
    return segments;
  };
  const sources = raw.sources.map((source, index): ThumbnailSource => {
    const at = `thumbnails.sources.${index}`;
    const kinds = ['image', 'frame', 'compose'].filter((k) => Object.hasOwn(source, k));
    if (kinds.length !== 1) report(file, at, 'a source is one of image, frame (with at_seconds) or compose');
    if (source.at_seconds !== undefined && !source.frame)
      report(file, `${at}.at_seconds`, 'only a frame source takes at_seconds');
    if (source.frame)
      return { kind: 'frame', path: uri(source.frame, `${at}.frame`), atSeconds: source.at_seconds ?? 1 };
    if (source.compose) {
      return {
        kind: 'compose',
        over: uri(source.compose.over, `${at}.compose.over`),
        ...(source.compose.under ? { under: uri(source.compose.under, `${at}.compose.under`) } : {}),
      };
    }
    return { kind: 'image', path: uri(source.image ?? '', `${at}.image`) };
  });
  return { field: raw.field, status: raw.status, sources };
}

/** `unique` and `duplicate_warnings` name sets of top-level fields that hold one value in a column. */
function checkFieldSets(
  file: ParsedFile,
  key: string,
  raw: unknown,
  fields: readonly FieldDef[],
  report: Report,
): string[][] {
  const sets = (raw as string[][] | undefined) ?? [];
  sets.forEach((set, index) => {
    for (const fieldName of set) {
      const field = fields.find((f) => f.name === fieldName);
      if (!field)
        report(
          file,
          `${key}.${index}`,
          `unknown field "${fieldName}"; fields: ${fields.map((f) => f.name).join(', ')}`,
        );
      else if (field.type === 'object' || field.type === 'array' || field.storage === 'document') {
        report(
          file,
          `${key}.${index}`,
          `"${fieldName}" is ${field.storage === 'document' ? 'stored in the document' : `an ${field.type}`}; ${key} sets take column fields with single values`,
        );
      }
    }
  });
  return sets;
}

/** `presets: { name: { description, filter } }` as declared; src/query/presets.ts parses and checks them. */
function compilePresets(file: ParsedFile, raw: unknown): PresetDef[] {
  const declared = (raw as Record<string, { description?: string; filter: Record<string, unknown> }> | undefined) ?? {};
  return Object.entries(declared).map(([name, { description, filter }]) => ({
    name,
    description,
    filter,
    source: { file: file.file, path: `presets.${name}`, lineOf: file.lineOf },
  }));
}

interface RawConversion {
  user: string;
  hand_over: { entity: string; where: Record<string, string>; set: string }[];
}

function compileConversion(file: ParsedFile, raw: RawConversion): ConversionDef {
  return {
    user: raw.user,
    handOver: raw.hand_over.map((h) => ({ entity: h.entity, where: h.where, set: h.set })),
    source: { file: file.file, path: 'conversion', lineOf: file.lineOf },
  };
}

/**
 * The user field is a writable string column of the entity; each hand-over names an entity, a
 * writable string field of it to set, and templates over the entity's top-level fields (the
 * `where` paths are resolved by the query layer: query/conversions.ts).
 */
function checkConversion(file: ParsedFile, entity: EntityDef, entities: readonly EntityDef[], report: Report): void {
  const conversion = entity.conversion;
  if (!conversion) return;
  const writableString = (e: EntityDef, name: string) => {
    const def = findField(e, name);
    return def?.storage === 'column' && def.type === 'string' && !def.readOnly && !def.deprecated;
  };
  if (!writableString(entity, conversion.user))
    report(file, 'conversion.user', `"${conversion.user}" must be a writable string field of ${entity.name}`);
  conversion.handOver.forEach((handOver, index) => {
    const at = `conversion.hand_over.${index}`;
    const target = entities.find((e) => e.name === handOver.entity);
    if (!target) {
      report(file, `${at}.entity`, unknownEntity(handOver.entity, entities));
      return;
    }
    if (!writableString(target, handOver.set))
      report(file, `${at}.set`, `"${handOver.set}" must be a writable string field of ${target.name}`);
    for (const [path, template] of Object.entries(handOver.where)) {
      for (const name of templateFields(template)) {
        if (name !== 'id' && !findField(entity, name))
          report(file, `${at}.where.${path}`, `"{${name}}" is not a field of ${entity.name}`);
      }
    }
  });
}

function compileExpiry(file: ParsedFile, entity: EntityDef, raw: ExpiryDef, report: Report): ExpiryDef {
  const column = (name: string) => {
    const def = findField(entity, name);
    return def?.storage === 'column' ? def : undefined;
  };
  if (column(raw.at)?.type !== 'datetime')
    report(file, 'expiry.at', `"${raw.at}" must be a datetime field of ${entity.name} stored in a column`);
  const stamp = column(raw.stamp);
  if (stamp?.type !== 'datetime' || !stamp.readOnly)
    report(file, 'expiry.stamp', `"${raw.stamp}" must be a read_only datetime field of ${entity.name}`);
  raw.erase.forEach((name, index) => {
    const def = column(name);
    if (!def || def.required || def.readOnly)
      report(
        file,
        `expiry.erase.${index}`,
        `"${name}" must be an optional, writable field of ${entity.name} stored in a column`,
      );
  });
  return { at: raw.at, erase: raw.erase, stamp: raw.stamp };
}

interface RawSchedule {
  title: string;
  events: Record<string, string>;
}

function compileSchedule(file: ParsedFile, entity: EntityDef, raw: RawSchedule, report: Report): ScheduleDef {
  const title = findField(entity, raw.title);
  if (!title || !['string', 'text'].includes(title.type) || title.storage !== 'column')
    report(file, 'schedule.title', `"${raw.title}" must be a text field of ${entity.name} stored in a column`);
  const events = Object.entries(raw.events).map(([name, field]) => {
    const def = findField(entity, field);
    if (def?.type !== 'date' || def.storage !== 'column')
      report(file, `schedule.events.${name}`, `"${field}" must be a date field of ${entity.name} stored in a column`);
    return { name, field };
  });
  return { title: raw.title, events };
}

interface RawPart {
  entity: string;
  via: string;
  where?: Record<string, string>;
  mirror?: { field: string; to: string; set?: Record<string, string> };
}

function compileQueryAliases(file: ParsedFile, raw: unknown): QueryAliasDef[] {
  type Raw = { description?: string; paths: string[]; values?: Record<string, Record<string, unknown>> };
  const declared = (raw as Record<string, Raw> | undefined) ?? {};
  return Object.entries(declared).map(([name, { description, paths, values }]) => ({
    name,
    description,
    paths,
    values: values ?? {},
    source: { file: file.file, path: `query_aliases.${name}`, lineOf: file.lineOf },
  }));
}

/** The message for a name that is no entity of the registry, listing those that are. */
const unknownEntity = (name: string, entities: readonly EntityDef[]): string =>
  `unknown entity "${name}"; known: ${entities.map((e) => e.name).join(', ')}`;

function checkFileName(file: ParsedFile, name: string, report: Report): void {
  if (!file.file.endsWith(`/${name}.yaml`)) {
    report(file, 'name', `"${name}" does not match the file name`);
  }
}

function checkUnique(
  files: readonly ParsedFile[],
  entities: readonly EntityDef[],
  key: string,
  pick: (e: EntityDef) => string,
  report: Report,
): void {
  const seen = new Map<string, string>();
  entities.forEach((entity, index) => {
    const value = pick(entity);
    const other = seen.get(value);
    if (other) report(files[index]!, key, `"${value}" is already used by entity "${other}"`);
    else seen.set(value, entity.name);
  });
}

function compileFields(
  file: ParsedFile,
  raw: Record<string, RawField>,
  parentPath: readonly string[],
  yamlPath: string,
  report: Report,
): FieldDef[] {
  return Object.entries(raw).map(([name, def]) =>
    compileField(file, name, def, [...parentPath, name], `${yamlPath}.${name}`, report, false),
  );
}

function compileField(
  file: ParsedFile,
  name: string,
  def: RawField,
  path: readonly string[],
  yamlPath: string,
  report: Report,
  insideArray: boolean,
  isElement = false,
): FieldDef {
  const topLevel = path.length === 1 && !insideArray;
  const problem = (option: string, message: string) => report(file, `${yamlPath}.${option}`, message);

  if (def.storage !== undefined && !topLevel) problem('storage', 'only top-level fields choose their storage');
  if (def.sequence && !topLevel) problem('sequence', 'only top-level fields can be sequences');
  if (def.at_least && !topLevel) problem('at_least', 'only top-level fields can be compared with each other');
  if (def.on_delete && (!topLevel || def.storage === 'document'))
    problem('on_delete', 'only top-level column refs choose what deleting their target does');
  if (def.on_delete === 'set_null' && def.required)
    problem('on_delete', 'a required ref cannot be set to null; use restrict or cascade');
  if (def.indexed && insideArray) problem('indexed', 'fields inside arrays cannot be indexed; index the array itself');
  if (def.indexed && def.type === 'object') problem('indexed', 'index a field inside the object instead');
  if (def.searchable && !['string', 'text'].includes(def.type))
    problem('searchable', 'only string and text fields are searchable');
  if (def.searchable && insideArray) problem('searchable', 'fields inside arrays cannot be searchable');
  if (def.indexed && def.type === 'datetime' && !topLevel) {
    problem(
      'indexed',
      'a datetime inside an object cannot be indexed (its cast from JSON text is not immutable); use a date, or a top-level field',
    );
  }
  if (def.read_only && def.required) problem('read_only', 'a server-owned field cannot also be required');
  if (def.read_only && def.storage === 'document') problem('storage', 'server-owned fields are stored in columns');
  if (def.deprecated && def.required) problem('deprecated', 'a deprecated field cannot be required');
  if (def.minimum !== undefined && def.maximum !== undefined && def.minimum > def.maximum) {
    problem('minimum', `minimum ${def.minimum} is greater than maximum ${def.maximum}`);
  }
  for (const option of ['pattern', 'other_pattern'] as const) {
    if (def[option] === undefined) continue;
    try {
      new RegExp(def[option], 'u');
    } catch (error) {
      problem(option, `not a valid regular expression: ${(error as Error).message}`);
    }
  }
  if (def.type === 'enum') {
    for (const [alias, target] of Object.entries(def.aliases ?? {})) {
      if (!def.values?.includes(target)) problem(`aliases.${alias}`, `"${target}" is not one of the values`);
      if (def.values?.includes(alias)) problem(`aliases.${alias}`, `"${alias}" is already a canonical value`);
    }
    if (def.transitions && !topLevel) problem('transitions', 'only top-level enums can declare transitions');
    for (const [from, targets] of Object.entries(def.transitions ?? {})) {
      if (!def.values?.includes(from))
        problem(`transitions.${from}`, `"${from}" is not one of the values: ${def.values?.join(', ')}`);
      for (const to of targets) {
        if (!def.values?.includes(to))
          problem(`transitions.${from}`, `"${to}" is not one of the values: ${def.values?.join(', ')}`);
      }
    }
  }
  if (def.type === 'refs') {
    if (!topLevel) problem('type', 'refs are top-level fields (their links live in a junction table)');
    if (def.storage === 'document') problem('storage', 'refs live in a junction table, not in the document');
    if (def.required) problem('required', 'refs cannot be required; an empty list is allowed');
    if (def.default !== undefined) problem('default', 'refs have no default');
    if (def.indexed) problem('indexed', 'links are always indexed both ways');
  }
  if (def.count) {
    if (!topLevel) problem('count', 'only top-level fields can be counts');
    if (def.required || def.default !== undefined || def.storage !== undefined)
      problem('count', 'a count is computed: no required, default or storage');
  }
  if (def.link_roles) {
    if (!topLevel) problem('link_roles', 'only top-level fields can hold link roles');
    if (def.items?.type !== 'string') problem('link_roles', 'link roles are strings: items: { type: string }');
    if (def.required || def.default !== undefined || def.storage !== undefined)
      problem('link_roles', 'link roles are computed: no required, default or storage');
  }
  if (def.library && !topLevel) problem('library', 'only top-level objects mirror a library');
  const media = def.media && compileMedia(def.media, problem);
  if (media && insideArray) problem('media', 'fields inside arrays cannot take uploads; use a field of an object');
  if (isElement && (def.required || def.default !== undefined)) {
    problem('required', 'an array element cannot be required or have a default; use the array field');
  }

  const fields =
    def.type === 'object' && def.fields
      ? Object.entries(def.fields).map(([childName, child]) =>
          compileField(
            file,
            childName,
            child,
            [...path, childName],
            `${yamlPath}.fields.${childName}`,
            report,
            insideArray,
          ),
        )
      : undefined;
  const items =
    def.type === 'array' && def.items
      ? compileField(file, 'items', def.items, path, `${yamlPath}.items`, report, true, true)
      : undefined;

  return {
    name,
    path,
    type: def.type,
    description: def.description,
    required: def.required ?? false,
    default: def.default,
    minimum: def.minimum,
    maximum: def.maximum,
    maxLength: def.max_length,
    maxItems: def.max_items,
    pattern: def.pattern,
    normalize: def.normalize,
    indexed: def.indexed ?? false,
    searchable: def.searchable ?? false,
    storage: def.type === 'refs' ? 'links' : def.count || def.link_roles ? 'computed' : (def.storage ?? 'column'),
    deprecated: def.deprecated ?? false,
    readOnly: (def.read_only ?? false) || def.count !== undefined || def.link_roles !== undefined,
    values: def.values,
    aliases: def.aliases,
    transitions: def.transitions,
    otherPattern: def.other_pattern,
    fields,
    items,
    to: def.to,
    role: def.role && {
      required: def.role.required ?? false,
      values: def.role.values,
      maxLength: def.role.max_length ?? ROLE_MAX_LENGTH,
      description: def.role.description,
    },
    count: def.count && { entity: def.count.entity, path: def.count.path.split('.') },
    linkRoles: def.link_roles && { entity: def.link_roles.entity, path: [def.link_roles.path] },
    library: def.library,
    ...(media ? { media } : {}),
    ...compileBehaviours(def, topLevel, problem),
    sequence: def.sequence,
    atLeast: def.at_least,
    onDelete: def.type === 'ref' || def.type === 'refs' ? (def.on_delete ?? 'restrict') : undefined,
    source: { file: file.file, path: yamlPath },
  };
}

/** A view may not take the name of a list under the record (`/shows/{id}/episodes`). */
function checkViewRoutes(raw: RawRegistry, model: Model, report: Report): void {
  model.entities.forEach((entity, index) => {
    const children = model.entities.filter((child) =>
      childRelations(model, child).some((relation) => relation.parent === entity),
    );
    for (const view of entity.views) {
      if (children.some((child) => child.route === view.name))
        report(
          raw.entities[index]!,
          `views.${view.name}`,
          `"${view.name}" is already a sub-resource listing related records`,
        );
    }
  });
}

type RawView = { description?: string; field?: string; fields?: Record<string, string> };

/** Views' paths must name writable fields; names must not shadow the routes every record has. */
function compileViews(file: ParsedFile, entity: EntityDef, raw: unknown, report: Report): ViewDef[] {
  const views: ViewDef[] = [];
  for (const [name, view] of Object.entries((raw ?? {}) as Record<string, RawView>)) {
    const at = `views.${name}`;
    if (['restore', 'media', 'thumbnails'].includes(name) || name.startsWith('next-'))
      report(file, at, `"${name}" is taken by a built-in route`);
    const check = (path: string, where: string): string[] => {
      const segments = path.split('.');
      const def = resolvePath(entity, segments);
      const top = entity.fields.find((f) => f.name === segments[0]);
      if (!def) report(file, where, `unknown field "${path}" of ${entity.name}`);
      else if (top?.readOnly || top?.storage === 'links' || top?.storage === 'computed')
        report(file, where, `"${path}" is not writable`);
      return segments;
    };
    views.push({
      name,
      description: view.description,
      ...(view.field ? { field: check(view.field, `${at}.field`) } : {}),
      ...(view.fields
        ? {
            fields: Object.fromEntries(
              Object.entries(view.fields).map(([key, path]) => [key, check(path, `${at}.fields.${key}`)]),
            ),
          }
        : {}),
    });
  }
  return views;
}

/** Checks what needs every entity compiled: counts' and link roles' paths, library mirrors, junction names. */
function checkRelations(file: ParsedFile, entity: EntityDef, entities: readonly EntityDef[], report: Report): void {
  const names = (e: EntityDef) => e.fields.map((f) => f.name).join(', ');
  for (const field of entity.fields) {
    if (field.junction && entities.some((e) => e.table === field.junction)) {
      report(
        file,
        field.source.path,
        `its junction table "${field.junction}" has the name of an entity's table; rename the field`,
      );
    }
    if (field.count) {
      const at = `${field.source.path}.count`;
      let current = entities.find((e) => e.name === field.count!.entity);
      if (!current) {
        report(file, `${at}.entity`, unknownEntity(field.count.entity, entities));
        continue;
      }
      for (const segment of field.count.path) {
        const hop: FieldDef | undefined = current?.fields.find((f) => f.name === segment);
        if (!hop || (hop.type !== 'ref' && hop.type !== 'refs') || hop.storage === 'document') {
          report(
            file,
            `${at}.path`,
            `"${segment}" is not a ref or refs field of ${current?.name}; fields: ${current ? names(current) : ''}`,
          );
          current = undefined;
          break;
        }
        current = entities.find((e) => e.name === hop.to);
      }
      if (current && current.name !== entity.name)
        report(file, `${at}.path`, `the path ends at ${current.name}, not at ${entity.name}`);
    }
    if (field.linkRoles) {
      const at = `${field.source.path}.link_roles`;
      const from = entities.find((e) => e.name === field.linkRoles!.entity);
      const refs = from?.fields.find((f) => f.name === field.linkRoles!.path[0]);
      if (!from) {
        report(file, `${at}.entity`, unknownEntity(field.linkRoles.entity, entities));
      } else if (refs?.type !== 'refs' || refs.to !== entity.name || !refs.role) {
        report(
          file,
          `${at}.path`,
          `"${field.linkRoles.path[0]}" is not a refs field of ${from.name} pointing at ${entity.name} with a role`,
        );
      }
    }
    if (field.library) {
      const at = `${field.source.path}.library`;
      const refs = entity.fields.find((f) => f.name === field.library!.refs);
      if (refs?.type !== 'refs' || !refs.readOnly) {
        report(
          file,
          `${at}.refs`,
          `"${field.library.refs}" must be a read_only refs field of ${entity.name} (the mirror owns its links)`,
        );
        continue;
      }
      const library = entities.find((e) => e.name === refs.to);
      const match = library?.fields.find((f) => f.name === field.library!.match);
      const name = library?.fields.find((f) => f.name === field.library!.name);
      if (match?.type !== 's3_uri' || match.storage !== 'column')
        report(file, `${at}.match`, `"${field.library.match}" must be an s3_uri column field of ${refs.to}`);
      if (name?.type !== 'string' || name.storage !== 'column')
        report(file, `${at}.name`, `"${field.library.name}" must be a string column field of ${refs.to}`);
      const otherRequired =
        library?.fields.filter((f) => f.required && f.default === undefined && f !== match && f !== name) ?? [];
      if (otherRequired.length > 0)
        report(
          file,
          at,
          `${refs.to} requires ${otherRequired.map((f) => f.name).join(', ')}, which a mirrored URI cannot fill`,
        );
      // The mirror links every URI the object holds: its refs must have room for all of them.
      const most = mostUris(field.fields ?? []);
      if (refs.maxItems !== undefined && refs.maxItems < most) {
        report(
          file,
          `${at}.refs`,
          `${refs.name} has max_items ${refs.maxItems}, but ${field.name} can hold ${most} S3 URIs (each one a link); raise it to at least ${most}`,
        );
      }
    }
  }
}

/** The most S3 URIs a value of these fields can hold (each array at its max_items). */
function mostUris(fields: readonly FieldDef[]): number {
  const of = (field: FieldDef): number => {
    if (field.type === 's3_uri') return 1;
    if (field.type === 'object') return mostUris(field.fields ?? []);
    if (field.type === 'array' && field.items) return (field.maxItems ?? 0) * of(field.items);
    return 0;
  };
  return fields.reduce((sum, field) => sum + of(field), 0);
}

/** Every field, nested ones and array elements included. */
export function* walkFields(fields: readonly FieldDef[]): Generator<FieldDef> {
  for (const field of fields) {
    yield field;
    if (field.fields) yield* walkFields(field.fields);
    if (field.items) yield* walkFields([field.items]);
  }
}

function checkDefaults(
  raw: RawRegistry,
  entities: readonly EntityDef[],
  mixins: Map<string, { file: ParsedFile; fields: FieldDef[] }>,
  report: Report,
): void {
  const ajv = createAjv();
  const prefixes = new Map(entities.map((e) => [e.name, e.idPrefix]));
  const check = (file: ParsedFile, fields: readonly FieldDef[]) => {
    for (const field of walkFields(fields)) {
      if (field.default === undefined) continue;
      const { default: _ignored, ...schema } = fieldSchema(field, prefixes);
      const validate = ajv.compile(schema);
      if (!validate(structuredClone(field.default))) {
        const reason = validate.errors?.[0]?.message ?? 'is invalid';
        report(file, `${field.source.path}.default`, `default ${JSON.stringify(field.default)} ${reason}`);
      }
    }
  };
  for (const { file, fields } of mixins.values()) check(file, fields);
  raw.entities.forEach((file, index) =>
    check(
      file,
      entities[index]!.fields.filter((f) => f.source.file === file.file),
    ),
  );
}
