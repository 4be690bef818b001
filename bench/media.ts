// The media line of the bench: thumbnails per second for a 3840×2160 JPEG into the three sizes
// (the thumbnail job's CPU work, in this process, as many at once as there are cores), and
// presigned upload requests per second against the running server (POST /api/v1/uploads, each
// one validated, signed and recorded as an upload row).
import os from 'node:os';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { renderThumbnails } from '../src/media/thumbnails/render.ts';

export interface MediaFigures {
  readonly lines: readonly string[];
}

/** A 3840×2160 photo-like JPEG: gradients and noise, so it does not compress to nothing. */
async function sourceImage(): Promise<Buffer> {
  const width = 3840;
  const height = 2160;
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 20261202;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = seed % 32;
      const i = (y * width + x) * 3;
      pixels[i] = ((x * 255) / width + noise) & 0xff;
      pixels[i + 1] = ((y * 255) / height + noise) & 0xff;
      pixels[i + 2] = (((x + y) * 128) / (width + height) + noise) & 0xff;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function thumbnailRate(
  seconds: number,
): Promise<{ perSecond: number; count: number; workers: number; sourceBytes: number }> {
  const source = await sourceImage();
  await renderThumbnails(source); // warm-up: libvips loads its codecs once
  const workers = Math.max(1, os.cpus().length);
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const out = await renderThumbnails(source);
        if (out.length !== 3) throw new Error(`renderThumbnails made ${out.length} images`);
        count += 1;
      }
    }),
  );
  return { perSecond: count / ((performance.now() - started) / 1000), count, workers, sourceBytes: source.length };
}

async function presignRate(
  baseUrl: string,
  episodeId: string,
  connections: number,
  seconds: number,
): Promise<autocannon.Result> {
  const body = JSON.stringify({
    entity: 'episode',
    id: episodeId,
    field: 'custom_thumbnail',
    filename: 'poster.jpg',
    content_type: 'image/jpeg',
    size_bytes: 2_000_000,
  });
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: baseUrl,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/uploads',
            headers: { 'content-type': 'application/json', 'x-actor': 'bench' },
            body,
          },
        ],
      },
      (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
  });
}

export async function benchMedia(
  baseUrl: string,
  episodeId: string,
  options: { connections: number; seconds: number },
  log: (line: string) => void,
): Promise<MediaFigures> {
  log(`media: thumbnails of a 3840×2160 JPEG for ${options.seconds} s ...`);
  const thumbs = await thumbnailRate(options.seconds);
  log(
    `      ${thumbs.perSecond.toFixed(1)} source images/s into 1280×720, 640×360 and 320×180 (${thumbs.workers} at once)`,
  );
  log(`media: POST /api/v1/uploads (presign) for ${options.seconds} s, ${options.connections} connections ...`);
  const presign = await presignRate(baseUrl, episodeId, options.connections, options.seconds);
  const presignRps = presign.requests.average;
  const bad = presign.non2xx + presign.errors;
  log(
    `      ${presignRps.toFixed(0)} req/s, p50 ${presign.latency.p50} ms, p97.5 ${presign.latency.p97_5} ms${bad > 0 ? `  ⚠ ${presign.non2xx} non-2xx, ${presign.errors} errors` : ''}`,
  );
  return {
    lines: [
      `thumbnails: ${thumbs.perSecond.toFixed(1)} source images/s, each a ${(thumbs.sourceBytes / 1e6).toFixed(1)} MB 3840×2160 JPEG into 1280×720, 640×360 and 320×180 JPEGs (sharp; ${thumbs.workers} at once in one process; ${thumbs.count} in ${options.seconds} s; decoding and encoding only, S3 writes not included)`,
      `presign: ${presignRps.toFixed(0)} POST /api/v1/uploads per second (p50 ${presign.latency.p50} ms, p97.5 ${presign.latency.p97_5} ms, ${options.connections} connections, ${options.seconds} s; each validates the request, signs a PUT URL and inserts an upload row)${bad > 0 ? ` ⚠ ${presign.non2xx} non-2xx, ${presign.errors} errors` : ''}`,
    ],
  };
}
