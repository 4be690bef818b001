// Media options of the registry: what an `s3_uri` field accepts as an upload (`media:`), and how an
// entity's thumbnails are made (`thumbnails:`). Compiled and checked here, so that making a field
// uploadable or giving an entity thumbnails is a YAML change, and a bad option fails codegen.
import type { FieldDef } from './model.ts';

export const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'data'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** The types a kind accepts when a field lists no `content_types` of its own. */
const KIND_TYPES: Readonly<Record<MediaKind, { prefixes: readonly string[]; exact: readonly string[] }>> = {
  image: { prefixes: ['image/'], exact: [] },
  video: { prefixes: ['video/'], exact: [] },
  audio: { prefixes: ['audio/'], exact: [] },
  document: {
    prefixes: [],
    exact: [
      'application/pdf',
      'text/plain',
      'text/markdown',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/rtf',
    ],
  },
  data: { prefixes: [], exact: ['application/json', 'text/csv', 'application/octet-stream', 'application/xml'] },
};

/** Placeholders every key template may use besides the entity's own column fields. */
export const KEY_PLACEHOLDERS = ['id', 'upload_id', 'filename', 'entity', 'plural', 'field', 'date'] as const;

/** S3's largest object (5 TiB). */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

export interface MediaDef {
  readonly kinds: readonly MediaKind[];
  /** Exact content types accepted; empty: any type of the kinds. */
  readonly contentTypes: readonly string[];
  readonly maxBytes: number;
  /** Where uploads land, e.g. `raw/{episode_id}/{upload_id}-{filename}`; see renderKey. */
  readonly key: string;
  /** The fixed start of every key (`raw/`): a key outside it is never made. */
  readonly prefix: string;
  /** A direct write of the field checks the object exists (HEAD); `verify: false` skips it. */
  readonly verify: boolean;
  /** A top-level integer field set to the object's size whenever the server sees the object. */
  readonly sizeField?: string;
  /** A top-level string field set to the object's ETag likewise. */
  readonly etagField?: string;
}

/** One way of getting a thumbnail's source image, tried in the order declared. */
export type ThumbnailSource =
  | { readonly kind: 'image'; readonly path: readonly string[] }
  | { readonly kind: 'frame'; readonly path: readonly string[]; readonly atSeconds: number }
  | { readonly kind: 'compose'; readonly over: readonly string[]; readonly under?: readonly string[] };

export interface ThumbnailSize {
  /** `1280x720`: the size's name in keys, statuses and URLs. */
  readonly label: string;
  readonly width: number;
  readonly height: number;
}

/** The sizes a thumbnail job makes (seed 8.12: 16:9, cover crop), largest first. */
export const THUMBNAIL_SIZES: readonly ThumbnailSize[] = Object.freeze([
  { label: '1280x720', width: 1280, height: 720 },
  { label: '640x360', width: 640, height: 360 },
  { label: '320x180', width: 320, height: 180 },
]);

export interface ThumbnailsDef {
  /** The read-only array of s3_uri the thumbnail job fills, largest first. */
  readonly field: string;
  /** The read-only object holding the job's state, source, error and images. */
  readonly status: string;
  readonly sources: readonly ThumbnailSource[];
}

const UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
export const BYTES_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|TB)$';

/** `50MB` → 52428800 (binary units: 1 MB = 1024 × 1024 bytes); an integer is bytes. */
export function parseBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = new RegExp(BYTES_PATTERN).exec(value.trim());
  if (!m) return Number.NaN;
  return Math.floor(
    Number(
      value
        .trim()
        .slice(0, value.trim().length - m[2]!.length)
        .trim(),
    ) * UNITS[m[2]!]!,
  );
}

/** Whether an upload of this type is allowed by the field's media options. */
export function acceptsContentType(media: MediaDef, contentType: string): boolean {
  const type = contentType.toLowerCase();
  if (media.contentTypes.length > 0) return media.contentTypes.includes(type);
  return media.kinds.some(
    (kind) =>
      KIND_TYPES[kind].exact.includes(type) ||
      KIND_TYPES[kind].prefixes.some((p) => type.startsWith(p) && type.length > p.length),
  );
}

/** What to tell a client whose type was refused. */
export function acceptedTypes(media: MediaDef): string {
  if (media.contentTypes.length > 0) return media.contentTypes.join(', ');
  return media.kinds
    .flatMap((kind) => [...KIND_TYPES[kind].prefixes.map((p) => `${p}*`), ...KIND_TYPES[kind].exact])
    .join(', ');
}

/** `{name}` placeholders of a key template, in order. */
export function keyPlaceholders(template: string): string[] {
  return [...template.matchAll(/\{([a-z][a-z0-9_]*)\}/g)].map((m) => m[1]!);
}

/**
 * A value put into a key: letters, digits and `._-` kept, anything else `_`, so a value can add
 * no `/` or `..` segment and the key stays under the template's prefix. Empty or null: `none`.
 */
export function keySegment(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = text
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/^\.+/, '_');
  return safe === '' ? 'none' : safe.slice(0, 200);
}

/** The key for these placeholder values (each made safe by keySegment). */
export function renderKey(media: MediaDef, values: ReadonlyMap<string, unknown>): string {
  return media.key.replace(/\{([a-z][a-z0-9_]*)\}/g, (_, name: string) => keySegment(values.get(name)));
}

/** Problems with a key template for fields that may fill it, as messages (empty: fine). */
export function keyTemplateProblems(template: string, placeholderFields: readonly FieldDef[]): string[] {
  const problems: string[] = [];
  const prefix = template.split('{')[0]!;
  if (prefix === '' || prefix.startsWith('/'))
    problems.push('the key must start with a fixed prefix such as "raw/" (not "/" or a placeholder)');
  if (template.split('/').some((segment) => segment === '..' || segment === '.' || segment === ''))
    problems.push('the key may not hold empty, "." or ".." segments');
  if (/[{}]/.test(template.replace(/\{[a-z][a-z0-9_]*\}/g, ''))) problems.push('a placeholder is written {name}');
  const allowed = new Set<string>([...KEY_PLACEHOLDERS, ...placeholderFields.map((f) => f.name)]);
  for (const name of keyPlaceholders(template)) {
    if (!allowed.has(name))
      problems.push(`unknown placeholder {${name}}; use ${[...allowed].map((n) => `{${n}}`).join(', ')}`);
  }
  return problems;
}

/** Fields whose values may fill a key template: the entity's top-level single-value columns. */
export function keyFields(fields: readonly FieldDef[]): FieldDef[] {
  return fields.filter(
    (f) =>
      f.path.length === 1 && f.storage === 'column' && ['string', 'enum', 'ref', 'integer', 'date'].includes(f.type),
  );
}
