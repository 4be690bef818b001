// The direct-write check of media fields: a create, replace, patch or batch item that sets an s3_uri
// field declaring `media:` names an object that must exist in the media bucket (HEAD), within the
// field's size and types, unless the field says `verify: false`. It runs before the write's
// transaction (S3 is never called while rows are locked) and fills the field's size_field and
// etag_field from what it saw, when the body does not set them.
import type { EntityDef, FieldDef } from '../registry/model.ts';
import { acceptedTypes, acceptsContentType } from '../registry/media.ts';
import { mediaFields } from './media-fields.ts';
import { parseS3Uri, type MediaStorage, type ObjectInfo } from './storage.ts';
import { isJsonObject, valueAtPath } from '../registry/own.ts';
import { ClassifiedError, type Classified } from '../records/errors.ts';
import type { MediaCheck, SkipMedia } from '../records/media-check.ts';

/** A problem with one media value, as the API reports it (422). */
export interface MediaProblem {
  readonly code: 'MEDIA_NOT_IN_BUCKET' | 'MEDIA_NOT_FOUND' | 'MEDIA_TOO_LARGE' | 'MEDIA_TYPE_NOT_ALLOWED';
  readonly message: string;
  readonly field: string;
}

export class MediaCheckFailed extends ClassifiedError {
  override readonly name = 'MediaCheckFailed';
  constructor(readonly problems: readonly MediaProblem[]) {
    super(problems.map((p) => p.message).join('; '));
  }

  get classified(): Classified {
    return { status: 422, problems: this.problems };
  }
}

/** Types an object may carry when whoever stored it named none; they say nothing about the file. */
const UNTYPED = new Set(['application/octet-stream', 'binary/octet-stream']);

/** HEADs run a few at a time: a record has few media fields, a batch may have many. */
const PARALLEL_HEADS = 8;

/** The URIs `body` sets on checked media fields, with their fields (a value `skip` returns true for is left out). */
function mediaValues(
  entity: EntityDef,
  body: unknown,
  skip: SkipMedia = () => false,
): { field: FieldDef; uri: string }[] {
  return mediaFields(entity)
    .filter((target) => target.media.verify)
    .map((target) => ({ field: target.field, uri: isJsonObject(body) ? valueAtPath(body, target.path) : undefined }))
    .filter((v): v is { field: FieldDef; uri: string } => typeof v.uri === 'string' && !skip(v.uri, v.field));
}

export class MediaWriteCheck implements MediaCheck {
  constructor(private readonly storage: MediaStorage) {}

  sets(entity: EntityDef, body: unknown, skip?: SkipMedia): boolean {
    return mediaValues(entity, body, skip).length > 0;
  }

  lacksCompanions(entity: EntityDef, body: unknown): boolean {
    if (!isJsonObject(body)) return false;
    return mediaFields(entity).some(({ field, path }) => {
      const { sizeField, etagField } = field.media!;
      return (
        typeof valueAtPath(body, path) === 'string' &&
        [sizeField, etagField].some((name) => name !== undefined && !Object.hasOwn(body, name))
      );
    });
  }

  keepCompanions(entity: EntityDef, body: unknown, current: Readonly<Record<string, unknown>>): unknown {
    if (!isJsonObject(body)) return body;
    const out: Record<string, unknown> = { ...body };
    for (const { field, path } of mediaFields(entity)) {
      const uri = valueAtPath(body, path);
      if (typeof uri !== 'string' || uri !== valueAtPath(current, path)) continue;
      for (const name of [field.media!.sizeField, field.media!.etagField])
        if (name !== undefined && !Object.hasOwn(out, name) && current[name] !== undefined) out[name] = current[name];
    }
    return out;
  }

  /**
   * Checks every media URI `body` sets (those `skip` passes over excepted) and answers the body with
   * size/etag companions filled from the objects seen. Throws MediaCheckFailed (422), or
   * MediaUnavailable (503) when S3 cannot be asked.
   */
  async check(entity: EntityDef, body: unknown, skip: SkipMedia = () => false): Promise<unknown> {
    const values = mediaValues(entity, body, skip);
    if (values.length === 0) return body;
    const problems: MediaProblem[] = [];
    const seen: { field: FieldDef; info: ObjectInfo }[] = [];
    for (let start = 0; start < values.length; start += PARALLEL_HEADS) {
      const checked = await Promise.all(
        values.slice(start, start + PARALLEL_HEADS).map((value) => this.checkOne(value.field, value.uri)),
      );
      for (const [index, outcome] of checked.entries()) {
        if ('problem' in outcome) problems.push(outcome.problem);
        else seen.push({ field: values[start + index]!.field, info: outcome.info });
      }
    }
    if (problems.length > 0) throw new MediaCheckFailed(problems);
    return withCompanions(body, seen);
  }

  private async checkOne(field: FieldDef, uri: string): Promise<{ info: ObjectInfo } | { problem: MediaProblem }> {
    const at = field.path.join('.');
    const media = field.media!;
    const location = parseS3Uri(uri);
    // A value that is no s3:// URI at all is the schema's to refuse, with its own message.
    if (!location) return { info: { bucket: '', key: '', size: 0, contentType: null, etag: '', lastModified: null } };
    if (location.bucket !== this.storage.bucket) {
      return {
        problem: {
          code: 'MEDIA_NOT_IN_BUCKET',
          field: at,
          message: `${at}: ${uri} is not in the media bucket; media files live under s3://${this.storage.bucket}/ (upload with POST /api/v1/uploads, or register existing keys)`,
        },
      };
    }
    const info = await this.storage.head(location.bucket, location.key);
    if (!info)
      return {
        problem: {
          code: 'MEDIA_NOT_FOUND',
          field: at,
          message: `${at}: there is no object at ${uri}; upload it first (POST /api/v1/uploads) or name an existing key`,
        },
      };
    if (info.size > media.maxBytes)
      return {
        problem: {
          code: 'MEDIA_TOO_LARGE',
          field: at,
          message: `${at}: ${uri} is ${info.size} bytes, more than the ${media.maxBytes} this field takes`,
        },
      };
    if (
      info.contentType &&
      !UNTYPED.has(info.contentType) &&
      !acceptsContentType(media, info.contentType.split(';')[0]!.trim())
    ) {
      return {
        problem: {
          code: 'MEDIA_TYPE_NOT_ALLOWED',
          field: at,
          message: `${at}: ${uri} is ${info.contentType}; this field takes ${acceptedTypes(media)}`,
        },
      };
    }
    return { info };
  }
}

/** The body with each seen object's size and ETag in its field's companions, where the body left them out. */
function withCompanions(body: unknown, seen: readonly { field: FieldDef; info: ObjectInfo }[]): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const { field, info } of seen) {
    if (!info.key) continue;
    const { sizeField, etagField } = field.media!;
    if (sizeField && !Object.hasOwn(out, sizeField)) out[sizeField] = info.size;
    if (etagField && !Object.hasOwn(out, etagField) && info.etag) out[etagField] = info.etag;
  }
  return out;
}
