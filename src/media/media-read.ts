// What a download redirect needs to know, without HTTP: whether a URI lies in a bucket this
// service manages (only those it presigns), the thumbnail sizes, and which image of a record's
// thumbnail status serves a size. Used by api/media-access-routes.ts.
import { parseS3Uri } from './storage.ts';
import { isJsonObject } from '../registry/own.ts';
import type { ThumbnailSize } from '../registry/media.ts';

/** A presigned download lives this long at most: the redirect is followed at once. */
export const MAX_READ_URL_SECONDS = 300;

export interface ManagedObject {
  readonly bucket: string;
  readonly key: string;
  /** The key's last segment, the name a browser saves it under. */
  readonly filename: string;
}

/** The object behind an s3:// URI in one of `buckets`, or null when the URI points elsewhere (or is not an s3:// URI). */
export function managedObject(uri: string, buckets: readonly string[]): ManagedObject | null {
  const parsed = parseS3Uri(uri);
  if (!parsed || !buckets.includes(parsed.bucket)) return null;
  return { ...parsed, filename: parsed.key.split('/').at(-1) || parsed.key };
}

/**
 * The URI of the image of `size` in a thumbnail status (`{state, images: [{size, width, height, uri}]}`),
 * or the state it is in when there is none (`none` when the record never had a job).
 */
export function thumbnailUri(status: unknown, size: ThumbnailSize): { uri: string } | { state: string } {
  const state = isJsonObject(status) && typeof status.state === 'string' ? status.state : 'none';
  const images = isJsonObject(status) && Array.isArray(status.images) ? status.images : [];
  const image = images.find(
    (i): i is Record<string, unknown> =>
      isJsonObject(i) &&
      typeof i.uri === 'string' &&
      (i.size === size.label || (i.width === size.width && i.height === size.height)),
  );
  return image ? { uri: image.uri as string } : { state };
}
