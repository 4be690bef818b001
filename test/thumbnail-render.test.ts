// Thumbnail rendering, composition and frame capture on real images made with sharp and a real
// video made with the bundled ffmpeg: the outputs are read back with sharp and checked by pixel size,
// format and sampled colours. Frame capture is also run over real HTTP (a node:http server with
// Range support, the way ffmpeg reads a presigned S3 URL).
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeImage, NEUTRAL_CANVAS } from '../src/media/thumbnails/compose.ts';
import { MediaProcessingError } from '../src/media/thumbnails/errors.ts';
import { captureFrame, FrameCaptureUnavailableError } from '../src/media/thumbnails/frame.ts';
import { renderThumbnails, THUMBNAIL_SIZES } from '../src/media/thumbnails/render.ts';

type Rgb = readonly [number, number, number];
const RED: Rgb = [220, 20, 20];
const BLUE: Rgb = [20, 20, 220];
const GREEN: Rgb = [20, 200, 20];

function solid(width: number, height: number, [r, g, b]: Rgb): Sharp {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } });
}

function rect(width: number, height: number, [r, g, b]: Rgb): Promise<Buffer> {
  return solid(width, height, [r, g, b]).png().toBuffer();
}

/** The RGB at (x, y) of an encoded image. */
async function pixel(image: Buffer, x: number, y: number): Promise<Rgb> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at] ?? -1, data[at + 1] ?? -1, data[at + 2] ?? -1];
}

function near(actual: Rgb, expected: Rgb | { r: number; g: number; b: number }, tolerance = 30): boolean {
  const e = Array.isArray(expected)
    ? expected
    : [(expected as { r: number }).r, (expected as { g: number }).g, (expected as { b: number }).b];
  return actual.every((v, i) => Math.abs(v - (e[i] ?? 0)) <= tolerance);
}

async function rawPixels(image: Buffer): Promise<Buffer> {
  return sharp(image).raw().toBuffer();
}

describe('renderThumbnails', () => {
  it('renders a 3840×2160 JPEG into the three 16:9 JPEG sizes, metadata stripped', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="3840" height="2160"><defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/></linearGradient></defs>' +
        '<rect width="100%" height="100%" fill="url(#g)"/><circle cx="1920" cy="1080" r="500" fill="#0f0"/></svg>',
    );
    const source = await sharp(svg)
      .jpeg()
      .withMetadata({ density: 300 })
      .withExif({ IFD0: { Copyright: 'someone' } })
      .toBuffer();
    expect((await sharp(source).metadata()).exif).toBeDefined();

    const thumbnails = await renderThumbnails(source);

    expect(thumbnails.map((t) => t.size)).toEqual(['1280x720', '640x360', '320x180']);
    expect(THUMBNAIL_SIZES.map((s) => [s.label, s.width, s.height])).toEqual([
      ['1280x720', 1280, 720],
      ['640x360', 640, 360],
      ['320x180', 320, 180],
    ]);
    for (const t of thumbnails) {
      const meta = await sharp(t.body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', t.width, t.height]);
      expect([t.contentType, t.extension]).toEqual(['image/jpeg', 'jpg']);
      expect(meta.exif).toBeUndefined();
      // The green circle stays in the centre at every size.
      expect(near(await pixel(t.body, t.width / 2, t.height / 2), [0, 255, 0], 40)).toBe(true);
    }
  });

  it('cover-crops: a 4:3 source loses its top band at 16:9 and keeps the full width', async () => {
    // 1600×1200 blue with a 100 px red band on top and a 60 px green band on the left.
    const source = await solid(1600, 1200, BLUE)
      .composite([
        { input: await rect(1600, 100, RED), top: 0, left: 0 },
        { input: await rect(60, 1200, GREEN), top: 0, left: 0 },
      ])
      .jpeg()
      .toBuffer();
    const [largest] = await renderThumbnails(source);
    if (!largest) throw new Error('no thumbnail');
    // Scaled by 0.8 to 1280×960, 120 px cut top and bottom: the 80 px red band is gone...
    expect(near(await pixel(largest.body, 640, 2), BLUE)).toBe(true);
    // ...and the left band (48 px after scaling) is kept: no side was cropped, no bars added.
    expect(near(await pixel(largest.body, 10, 360), GREEN)).toBe(true);
    expect(near(await pixel(largest.body, 1270, 360), BLUE)).toBe(true);
  });

  it('turns an EXIF-rotated JPEG upright before cropping', async () => {
    // Stored 800×400, left half red and right half blue; orientation 6 shows it turned 90° clockwise
    // (400×800, red on top, blue below).
    const stored = await solid(800, 400, BLUE)
      .composite([{ input: await rect(400, 400, RED), top: 0, left: 0 }])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(stored).metadata()).orientation).toBe(6);
    const [largest] = await renderThumbnails(stored);
    if (!largest) throw new Error('no thumbnail');
    const meta = await sharp(largest.body).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([1280, 720, undefined]);
    expect(near(await pixel(largest.body, 300, 100), RED)).toBe(true);
    expect(near(await pixel(largest.body, 300, 620), BLUE)).toBe(true);
  });

  it('flattens a PNG with alpha onto white in the JPEG', async () => {
    const transparent = await sharp({
      create: { width: 1600, height: 900, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .composite([{ input: await rect(400, 400, RED), gravity: 'centre' }])
      .png()
      .toBuffer();
    const [largest] = await renderThumbnails(transparent);
    if (!largest) throw new Error('no thumbnail');
    const meta = await sharp(largest.body).metadata();
    expect([meta.format, meta.channels, meta.hasAlpha]).toEqual(['jpeg', 3, false]);
    expect(near(await pixel(largest.body, 20, 20), [255, 255, 255], 5)).toBe(true);
    expect(near(await pixel(largest.body, 640, 360), RED)).toBe(true);
  });

  it('throws MediaProcessingError for bytes that are not an image, and for a broken JPEG', async () => {
    const garbage = Buffer.from('this is not an image at all, just text pretending to be one');
    await expect(renderThumbnails(garbage)).rejects.toThrow(MediaProcessingError);
    await expect(renderThumbnails(garbage)).rejects.toThrow(/not an image sharp can read/);
    const jpeg = await solid(1600, 900, RED).jpeg().toBuffer();
    const truncated = jpeg.subarray(0, 400);
    const error = await renderThumbnails(truncated).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MediaProcessingError);
    expect((error as Error).name).toBe('MediaProcessingError');
  });
});

describe('composeImage', () => {
  // A 400×400 transparent foreground with an opaque green 200×200 square in the middle.
  let outfit: Buffer;
  beforeAll(async () => {
    outfit = await sharp({
      create: { width: 400, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .composite([{ input: await rect(200, 200, GREEN), gravity: 'centre' }])
      .png()
      .toBuffer();
  });

  it('puts the foreground, fitted and centred, over the cover-cropped background, keeping transparency', async () => {
    const background = await solid(1920, 1200, BLUE)
      .composite([{ input: await rect(1920, 40, RED), top: 0, left: 0 }])
      .jpeg()
      .toBuffer();
    const composed = await composeImage(outfit, background);
    const meta = await sharp(composed).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1280, 720]);
    expect(near(await pixel(composed, 640, 360), GREEN)).toBe(true);
    expect(near(await pixel(composed, 5, 715), BLUE)).toBe(true);
    // Inside the foreground's box (648×648 from y 36) but in its transparent part: background shows.
    expect(near(await pixel(composed, 640, 90), BLUE)).toBe(true);
    // The background was cover-cropped (1920×1200 → 1280×800, 40 px cut top): the red band is gone.
    expect(near(await pixel(composed, 640, 1), BLUE)).toBe(true);
  });

  it('uses a neutral canvas without a background, and the background alone without a foreground', async () => {
    const onCanvas = await composeImage(outfit, null);
    expect(near(await pixel(onCanvas, 5, 5), NEUTRAL_CANVAS, 2)).toBe(true);
    expect(near(await pixel(onCanvas, 640, 360), GREEN)).toBe(true);

    const alone = await composeImage(null, await solid(640, 360, RED).jpeg().toBuffer());
    const meta = await sharp(alone).metadata();
    expect([meta.width, meta.height]).toEqual([1280, 720]);
    expect(near(await pixel(alone, 640, 360), RED)).toBe(true);
  });

  it('throws MediaProcessingError with nothing to compose or an unreadable image', async () => {
    await expect(composeImage(null, null)).rejects.toThrow(MediaProcessingError);
    await expect(composeImage(Buffer.from('nope'), null)).rejects.toThrow(/not an image sharp can read/);
  });
});

describe('captureFrame', () => {
  let dir: string;
  let video: string;
  let server: Server;
  let baseUrl: string;
  const rangeRequests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reelmeta-frames-'));
    video = path.join(dir, 'testsrc.mp4');
    const made = spawnSync(ffmpegInstaller.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=1280x720:rate=25',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      '-y',
      video,
    ]);
    expect(made.status, made.stderr.toString()).toBe(0);
    writeFileSync(path.join(dir, 'broken.mp4'), Buffer.from('definitely not a video file '.repeat(200)));

    // A static file server with single-range support, like S3 answering a presigned GET.
    server = createServer((req, res) => {
      const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
      if (name !== 'testsrc.mp4' && name !== 'broken.mp4') {
        res.writeHead(404).end('missing');
        return;
      }
      const file = path.join(dir, name);
      const size = statSync(file).size;
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        rangeRequests.push(req.headers.range ?? '');
        const start = range[1] ? Number(range[1]) : size - Number(range[2]);
        const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, {
          'content-length': end - start + 1,
          'content-range': `bytes ${start}-${end}/${size}`,
          'accept-ranges': 'bytes',
          'content-type': 'video/mp4',
        });
        createReadStream(file, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes', 'content-type': 'video/mp4' });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('captures a PNG frame at the time asked; testsrc moves, so 2 s differs from 0 s', async () => {
    const atZero = await captureFrame(video, 0);
    const atTwo = await captureFrame(video, 2);
    for (const frame of [atZero, atTwo]) {
      const meta = await sharp(frame).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 1280, 720]);
    }
    expect((await rawPixels(atZero)).equals(await rawPixels(atTwo))).toBe(false);
    // The frame feeds the thumbnail renderer.
    const thumbnails = await renderThumbnails(atTwo);
    expect(thumbnails.map((t) => t.size)).toEqual(['1280x720', '640x360', '320x180']);
  });

  it('falls back to the first frame when the time is past the end', async () => {
    const past = await captureFrame(video, 60);
    const first = await captureFrame(video, 0);
    expect((await rawPixels(past)).equals(await rawPixels(first))).toBe(true);
  });

  it('reads the video over http(s) with range requests, the way a presigned URL is read', async () => {
    const overHttp = await captureFrame(`${baseUrl}/testsrc.mp4?X-Amz-Signature=secret`, 2);
    const fromFile = await captureFrame(video, 2);
    expect((await rawPixels(overHttp)).equals(await rawPixels(fromFile))).toBe(true);
    expect(rangeRequests.length).toBeGreaterThan(0);
  });

  it('throws MediaProcessingError for a file or URL that is not a video, without the URL query in the message', async () => {
    await expect(captureFrame(path.join(dir, 'broken.mp4'), 1)).rejects.toThrow(MediaProcessingError);
    await expect(captureFrame(path.join(dir, 'no-such-file.mp4'), 1)).rejects.toThrow(MediaProcessingError);
    const error = await captureFrame(`${baseUrl}/broken.mp4?X-Amz-Signature=secret`, 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MediaProcessingError);
    expect((error as Error).message).toContain('/broken.mp4');
    expect((error as Error).message).not.toContain('secret');
    await expect(captureFrame('concat:/etc/passwd', 0)).rejects.toThrow(MediaProcessingError);
  });

  it('throws a retryable FrameCaptureUnavailableError when the server is down', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const error = await captureFrame(`http://127.0.0.1:${port}/testsrc.mp4`, 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FrameCaptureUnavailableError);
    expect(error).not.toBeInstanceOf(MediaProcessingError);
  });
});
