// The body of POST /api/v1/uploads, checked against the registry: which entity and media field
// the file is for, and a file name, type and size that field takes. Everything a client sends is
// checked here before anything is signed or stored; what it may not send gets a 422 that says
// what it may.
import { acceptedTypes, acceptsContentType } from '../registry/media.ts';
import type { EntityDef, Model } from '../registry/model.ts';
import { ownValue, isJsonObject } from '../registry/own.ts';
import { hasLoneSurrogate, LONE_SURROGATE_MESSAGE } from '../registry/text.ts';
import { UploadRefused } from './upload-refused.ts';
import { mediaFields, type MediaField } from './media-fields.ts';

/** S3's largest single PUT (5 GiB); larger files are multipart. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

export const UPLOAD_BODY_KEYS = [
  'entity',
  'id',
  'field',
  'filename',
  'content_type',
  'size_bytes',
  'sha256',
  'defaults',
] as const;

export interface UploadRequest {
  readonly entity: EntityDef;
  readonly target: MediaField;
  /** The record the file is for; null: completing creates it from `defaults`. */
  readonly id: string | null;
  readonly filename: string;
  /** Lower-cased, as signed into the URL. */
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly sha256: string | null;
  readonly defaults: Record<string, unknown> | null;
}

/** The entities with at least one media field. */
export function uploadEntities(model: Model): EntityDef[] {
  return model.entities.filter((entity) => mediaFields(entity).length > 0);
}

// C0 controls, DEL and C1 controls: never part of a file name a person typed.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a file name cannot be used, or undefined when it can. */
export function filenameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length < 1 || length > 255) return `must be 1 to 255 characters long (it is ${length})`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (name.includes('/') || name.includes('\\')) return 'must be a file name, not a path: no "/" or "\\"';
  if (CONTROL.test(name)) return 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)';
  if (hasLoneSurrogate(name)) return LONE_SURROGATE_MESSAGE;
  return undefined;
}

// type "/" subtype, with the characters RFC 6838 allows in names; parameters are not part of it.
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

const SHA256 = /^[0-9a-f]{64}$/;

const invalid = (field: string, message: string, code = 'VALIDATION_ERROR') =>
  new UploadRefused(422, code, message, field);

function findEntity(model: Model, name: string): EntityDef | undefined {
  return model.entities.find((e) => e.name === name || e.plural === name);
}

/** The body of POST /uploads as an UploadRequest, or the refusal that says what is wrong. */
export function parseUploadRequest(model: Model, body: unknown): UploadRequest {
  if (!isJsonObject(body))
    throw new UploadRefused(
      400,
      'INVALID_BODY',
      `the request body must be a JSON object with ${UPLOAD_BODY_KEYS.join(', ')}`,
    );
  const unknown = Object.keys(body).filter((key) => !(UPLOAD_BODY_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw invalid(unknown[0]!, `${unknown[0]} is not part of an upload request; send ${UPLOAD_BODY_KEYS.join(', ')}`);
  const value = (key: string) => ownValue(body, key);

  const takers = uploadEntities(model).map((e) => e.name);
  const entityName = value('entity');
  if (typeof entityName !== 'string' || entityName === '')
    throw invalid('entity', `entity is required: one of ${takers.join(', ')}`);
  const entity = findEntity(model, entityName);
  if (!entity || !takers.includes(entity.name))
    throw invalid(
      'entity',
      `${entityName} is not an entity that takes uploads; use one of ${takers.join(', ')}`,
      'UNKNOWN_ENTITY',
    );

  const fields = mediaFields(entity);
  const fieldName = value('field');
  const listed = fields.map((f) => f.name).join(', ');
  if (typeof fieldName !== 'string' || fieldName === '')
    throw invalid('field', `field is required: a media field of ${entity.plural} (${listed})`);
  const target = fields.find((f) => f.name === fieldName);
  if (!target)
    throw invalid(
      'field',
      `${fieldName} is not a media field of ${entity.plural}; its media fields are: ${listed}`,
      'UNKNOWN_FIELD',
    );

  const id = value('id') ?? null;
  if (id !== null && (typeof id !== 'string' || id === ''))
    throw invalid(
      'id',
      `id must be the id of the ${entity.name} the file is for (or left out to create one on complete)`,
    );
  const defaults = value('defaults') ?? null;
  if (defaults !== null && !isJsonObject(defaults))
    throw invalid('defaults', `defaults must be an object: the other fields of the ${entity.name} completing creates`);
  if (defaults !== null && id !== null)
    throw invalid(
      'defaults',
      `defaults are for an upload that creates its ${entity.name} (no id); with an id, the record is updated`,
    );
  if (defaults !== null && Object.hasOwn(defaults, target.path[0]!) && target.path.length === 1) {
    throw invalid(`defaults.${target.name}`, `defaults must not set ${target.name}: the upload sets it`);
  }

  const filename = value('filename');
  if (typeof filename !== 'string')
    throw invalid('filename', 'filename is required: the name of the file, e.g. "take-1.mp4"', 'INVALID_FILENAME');
  const problem = filenameProblem(filename);
  if (problem) throw invalid('filename', `filename ${problem}`, 'INVALID_FILENAME');

  const rawType = value('content_type');
  if (typeof rawType !== 'string' || rawType === '')
    throw invalid('content_type', `content_type is required: one of ${acceptedTypes(target.media)}`);
  const contentType = rawType.trim().toLowerCase();
  if (!CONTENT_TYPE.test(contentType) || !acceptsContentType(target.media, contentType)) {
    throw invalid(
      'content_type',
      `${target.name} does not take ${JSON.stringify(rawType)}; it takes ${acceptedTypes(target.media)}`,
      'MEDIA_TYPE_NOT_ALLOWED',
    );
  }

  const size = value('size_bytes');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1)
    throw invalid('size_bytes', 'size_bytes must be the file size in bytes, an integer of at least 1');
  if (size > target.media.maxBytes) {
    throw invalid(
      'size_bytes',
      `the file is ${size} bytes; ${target.name} takes at most ${target.media.maxBytes} bytes (${formatBytes(target.media.maxBytes)})`,
      'MEDIA_TOO_LARGE',
    );
  }

  const sha = value('sha256') ?? null;
  if (sha !== null && (typeof sha !== 'string' || !SHA256.test(sha.toLowerCase())))
    throw invalid('sha256', 'sha256 must be the SHA-256 of the file as 64 hex characters');

  return {
    entity,
    target,
    id,
    filename,
    contentType,
    sizeBytes: size,
    sha256: sha === null ? null : (sha as string).toLowerCase(),
    defaults,
  };
}

/** 53687091200 → "50 GiB": for messages. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && Number.isInteger(value / 1024)) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}
