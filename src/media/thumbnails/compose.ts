// The seed's "composed image (wardrobe + background)", the thumbnail source for episodes and
// outfits that have no custom thumbnail: the background cover-cropped to 1280×720 (a neutral solid
// canvas without one) with the wardrobe/outfit photo fitted inside it, centred, its transparency kept.
// The result is a PNG at 1280×720 that renderThumbnails then turns into the three sizes.
import sharp from 'sharp';
import { MediaProcessingError, messageOf } from './errors.ts';
import { readImageHeader } from './render.ts';

export const COMPOSED_WIDTH = 1280;
export const COMPOSED_HEIGHT = 720;
/** The foreground's share of the canvas height (and at most of its width). */
const FOREGROUND_SHARE = 0.9;
/** A neutral grey canvas when there is no background. */
export const NEUTRAL_CANVAS = { r: 236, g: 236, b: 236 } as const;

/** `over` (foreground) on `under` (background); at least one is non-null. */
export async function composeImage(over: Buffer | null, under: Buffer | null): Promise<Buffer> {
  if (!over && !under)
    throw new MediaProcessingError('nothing to compose: neither a foreground nor a background image');
  if (over) await readImageHeader(over);
  if (under) await readImageHeader(under);
  try {
    const canvas = under
      ? await sharp(under)
          .rotate()
          .resize(COMPOSED_WIDTH, COMPOSED_HEIGHT, { fit: 'cover', position: 'centre' })
          .flatten({ background: NEUTRAL_CANVAS })
          .png()
          .toBuffer()
      : await sharp({
          create: { width: COMPOSED_WIDTH, height: COMPOSED_HEIGHT, channels: 3, background: NEUTRAL_CANVAS },
        })
          .png()
          .toBuffer();
    if (!over) return canvas;
    const foreground = await sharp(over)
      .rotate()
      .resize(Math.round(COMPOSED_WIDTH * FOREGROUND_SHARE), Math.round(COMPOSED_HEIGHT * FOREGROUND_SHARE), {
        fit: 'inside',
        withoutEnlargement: false,
      })
      .ensureAlpha()
      .png()
      .toBuffer();
    // composite() centres the overlay by default (gravity centre).
    return await sharp(canvas)
      .composite([{ input: foreground, gravity: 'centre' }])
      .png()
      .toBuffer();
  } catch (error) {
    throw new MediaProcessingError(`the images could not be composed: ${messageOf(error)}`, { cause: error });
  }
}
