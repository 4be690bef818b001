// Asynchronous thumbnails end to end (issue 14, seed §8.12): the real service, the run's real S3
// server (s3rver behind the SigV4 check), pg-boss in the test's PostgreSQL. A write that sets a
// thumbnail source queues a job; the job renders 1280×720, 640×360 and 320×180 JPEGs into the
// thumbnail bucket and the record lists them. Also: frame capture from a real video (ffmpeg),
// composed images, a corrupt source failing once with its error, the S3 server stopped and started
// again mid-job, jobs queued by a service without a worker done by the next one, and two instances
// sharing the queue doing each job once.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/media/embedded-s3.ts';
import { MediaStorage, parseS3Uri } from '../src/media/storage.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { putTestObjects, testS3Server, testS3Settings, testStorage } from './support/s3.ts';
import { startTestService, type TestService, type Rec } from './support/service.ts';

interface Status {
  state: string;
  job_id: string;
  source?: string;
  error?: string;
  images?: { size: string; width: number; height: number; uri: string; content_type: string; bytes: number }[];
}

const jobs = { ...loadConfig({}).jobs, retryDelaySeconds: 1 };
const prefix = `thumbnails-test/${randomUUID()}`;
const uri = (name: string) => `s3://bucket/${prefix}/${name}`;

let db: TestDatabase;
let service: TestService;

beforeAll(async () => {
  db = await createTestDatabase();
  service = await startTestService({ databaseUrl: db.url, jobs });
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

/** A JPEG of this size: a gradient, so crops and frames differ from each other. */
async function jpeg(width: number, height: number, colour = { r: 200, g: 40, b: 90 }): Promise<Buffer> {
  const overlay = await sharp({
    create: {
      width: Math.round(width / 4),
      height: Math.round(height / 4),
      channels: 3,
      background: { r: 20, g: 220, b: 40 },
    },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .composite([{ input: overlay, gravity: 'northwest' }])
    .jpeg()
    .toBuffer();
}

async function png(width: number, height: number, colour: { r: number; g: number; b: number }): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { ...colour, alpha: 1 } } })
    .png()
    .toBuffer();
}

/** Polls the record until its thumbnail status satisfies `until` (bounded: fails after ~60 s). */
async function waitForStatus(
  svc: TestService,
  plural: string,
  id: string,
  until: (s: Status) => boolean,
): Promise<{ record: Rec; status: Status }> {
  let last: unknown;
  for (let i = 0; i < 300; i++) {
    const reply = await svc.request<Rec>('GET', `/api/v1/${plural}/${id}`);
    const status = reply.body.data?.thumbnail_status as Status | undefined;
    last = status;
    if (status && until(status)) return { record: reply.body.data, status };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${plural}/${id}: thumbnail status never matched; last ${JSON.stringify(last)}`);
}

const settled = (s: Status) => s.state === 'done' || s.state === 'failed';

async function readThumbnail(
  storage: MediaStorage,
  thumbnailUri: string,
): Promise<{ width?: number; height?: number; format?: string; bytes: Buffer }> {
  const parsed = parseS3Uri(thumbnailUri)!;
  const bytes = await storage.getObject(parsed.bucket, parsed.key, 10 * 1024 * 1024);
  expect(bytes, thumbnailUri).not.toBeNull();
  const meta = await sharp(bytes!).metadata();
  return { width: meta.width, height: meta.height, format: meta.format, bytes: bytes! };
}

/** The three sizes, in the thumbnail bucket at thumbnails/{plural}/{id}/{size}.jpg, exactly that many pixels. */
async function expectThumbnails(
  record: Rec,
  status: Status,
  plural: string,
  storage: MediaStorage = testStorage(),
): Promise<Buffer[]> {
  const expected = ['1280x720', '640x360', '320x180'].map(
    (size) => `s3://thumbnails/thumbnails/${plural}/${record.id}/${size}.jpg`,
  );
  expect(record.thumbnails).toEqual(expected);
  expect(status.images?.map((i) => i.uri)).toEqual(expected);
  const out: Buffer[] = [];
  for (const [index, [width, height]] of [
    [1280, 720],
    [640, 360],
    [320, 180],
  ].entries()) {
    const read = await readThumbnail(storage, expected[index]!);
    expect({ width: read.width, height: read.height, format: read.format }).toEqual({ width, height, format: 'jpeg' });
    expect(status.images![index]).toMatchObject({
      width,
      height,
      content_type: 'image/jpeg',
      bytes: read.bytes.length,
    });
    out.push(read.bytes);
  }
  return out;
}

let video: Buffer | undefined;
/** A 3 s 1280×720 test video (ffmpeg's testsrc: each frame shows its time), made once. */
async function testVideo(): Promise<Buffer> {
  if (video) return video;
  const dir = await mkdtemp(path.join(tmpdir(), 'reelmeta-video-'));
  const file = path.join(dir, 'clip.mp4');
  await promisify(execFile)(ffmpegInstaller.path, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=1280x720:rate=25',
    '-t',
    '3',
    '-pix_fmt',
    'yuv420p',
    '-y',
    file,
  ]);
  video = await readFile(file);
  await rm(dir, { recursive: true, force: true });
  return video;
}

describe('thumbnails from a custom image', () => {
  it('a 3840×2160 custom_thumbnail becomes the three sizes, listed on the record', async () => {
    const source = uri('custom/4k.jpg');
    await putTestObjects([source], await jpeg(3840, 2160), 'image/jpeg');
    const created = await service.request<Rec>('POST', '/api/v1/episodes', {
      body: { title: 'Custom thumbnail', custom_thumbnail: source },
    });
    expect(created.status).toBe(201);
    // The write itself says a job is queued (so its ETag already covers that).
    expect(created.body.data.thumbnail_status).toMatchObject({ state: 'queued', job_id: expect.any(String) });
    const { record, status } = await waitForStatus(service, 'episodes', created.body.data.id, settled);
    expect(status).toMatchObject({ state: 'done', source: 'image:custom_thumbnail' });
    const files = await expectThumbnails(record, status, 'episodes');
    // Downloadable: the record's thumbnail route redirects to a presigned GET of the same bytes.
    const redirect = await fetch(`${service.url}/api/v1/episodes/${record.id}/thumbnails/640x360`, {
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    const served = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer());
    expect(served.equals(files[1]!)).toBe(true);
    const job = await service.request<Record<string, unknown>>('GET', `/api/v1/jobs/${status.job_id}`);
    expect(job.status).toBe(200);
    expect(job.body.data).toMatchObject({
      id: status.job_id,
      name: 'thumbnails',
      state: 'completed',
      retry_count: 0,
      data: { entity: 'episode', id: record.id },
    });
  });

  it('a write that does not touch a source queues nothing; one that does queues a new job', async () => {
    const first = uri('custom/again-1.jpg');
    const second = uri('custom/again-2.jpg');
    await putTestObjects([first], await jpeg(1600, 900), 'image/jpeg');
    await putTestObjects([second], await jpeg(1600, 900, { r: 10, g: 10, b: 200 }), 'image/jpeg');
    const created = await service.request<Rec>('POST', '/api/v1/outfits', {
      body: { name: 'Look', custom_thumbnail: first },
    });
    const done = await waitForStatus(service, 'outfits', created.body.data.id, settled);
    const renamed = await service.request<Rec>('PATCH', `/api/v1/outfits/${created.body.data.id}`, {
      body: { name: 'Renamed look' },
    });
    expect(renamed.status).toBe(200);
    expect((renamed.body.data.thumbnail_status as Status).job_id).toBe(done.status.job_id);
    const changed = await service.request<Rec>('PATCH', `/api/v1/outfits/${created.body.data.id}`, {
      body: { custom_thumbnail: second },
    });
    const next = (changed.body.data.thumbnail_status as Status).job_id;
    expect(next).not.toBe(done.status.job_id);
    const after = await waitForStatus(service, 'outfits', created.body.data.id, (s) => s.job_id === next && settled(s));
    expect(after.status.state).toBe('done');
    expect(after.record.name).toBe('Renamed look'); // the job's writes kept the client's
  });
});

describe('thumbnails from a video frame', () => {
  it('a clip is captured at its declared time; POST …/thumbnails?at=2 makes new ones from 2 s', async () => {
    const file = uri('video/clip.mp4');
    await putTestObjects([file], await testVideo(), 'video/mp4');
    const created = await service.request<Rec>('POST', '/api/v1/clips', {
      body: { talent_source: 'Lala', file_reference: file },
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    const first = await waitForStatus(service, 'clips', id, settled);
    expect(first.status).toMatchObject({ state: 'done', source: 'frame:file_reference' });
    const before = await expectThumbnails(first.record, first.status, 'clips');

    const again = await service.request<{ job_id: string; state: string }>(
      'POST',
      `/api/v1/clips/${id}/thumbnails?at=2`,
    );
    expect(again.status).toBe(202);
    expect(again.body.data).toMatchObject({ state: 'queued' });
    expect(again.body.data.job_id).not.toBe(first.status.job_id);
    expect(again.headers.get('location')).toBe(`/api/v1/jobs/${again.body.data.job_id}`);
    const second = await waitForStatus(service, 'clips', id, (s) => s.job_id === again.body.data.job_id && settled(s));
    expect(second.status).toMatchObject({ state: 'done', source: 'frame:file_reference' });
    const after = await expectThumbnails(second.record, second.status, 'clips');
    // testsrc draws a moving pattern and the time: the frame at 2 s is another picture.
    expect(after[0]!.equals(before[0]!)).toBe(false);
    const job = await service.request<Record<string, unknown>>('GET', `/api/v1/jobs/${again.body.data.job_id}`);
    expect(job.body.data).toMatchObject({ state: 'completed', data: { entity: 'clip', id, at_seconds: 2 } });
  });

  it('refuses a bad frame time, a missing record, and methods other than POST', async () => {
    const file = uri('video/for-errors.mp4');
    await putTestObjects([file], await testVideo(), 'video/mp4');
    const created = await service.request<Rec>('POST', '/api/v1/clips', {
      body: { talent_source: 'Lala', file_reference: file },
    });
    const id = created.body.data.id;
    const bad = await service.request('POST', `/api/v1/clips/${id}/thumbnails?at=soon`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ code: 'INVALID_QUERY', field: 'at' });
    const negative = await service.request('POST', `/api/v1/clips/${id}/thumbnails`, { body: { at_seconds: -1 } });
    expect(negative.status).toBe(422);
    expect(negative.body.errors[0]).toMatchObject({ field: 'at_seconds' });
    const missing = await service.request('POST', '/api/v1/clips/clip_20250101_nothere000/thumbnails');
    expect(missing.status).toBe(404);
    const get = await service.request('GET', `/api/v1/clips/${id}/thumbnails`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await service.request('GET', `/api/v1/jobs/${randomUUID()}`)).status).toBe(404);
    expect((await service.request('GET', '/api/v1/jobs/not-a-uuid')).status).toBe(404);
    await waitForStatus(service, 'clips', id, settled);
  });
});

describe('composed thumbnails', () => {
  it('an outfit with only overall_image gets the composed image', async () => {
    const over = uri('compose/outfit.png');
    await putTestObjects([over], await png(600, 1000, { r: 250, g: 0, b: 0 }), 'image/png');
    const created = await service.request<Rec>('POST', '/api/v1/outfits', {
      body: { name: 'Red', overall_image: over },
    });
    const { record, status } = await waitForStatus(service, 'outfits', created.body.data.id, settled);
    expect(status).toMatchObject({ state: 'done', source: 'compose' });
    const [large] = await expectThumbnails(record, status, 'outfits');
    // The outfit photo in the middle, the neutral canvas at the edge.
    const { data } = await sharp(large!).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * 1280 + x) * 3, (y * 1280 + x) * 3 + 3)];
    expect(at(640, 360)[0]).toBeGreaterThan(200);
    expect(at(640, 360)[1]).toBeLessThan(60);
    expect(at(5, 5).every((v) => v > 200)).toBe(true);
  });

  it('an episode composes wardrobe.main_outfit.overall_image over backgrounds.main_closet', async () => {
    const over = uri('compose/main-outfit.png');
    const under = uri('compose/closet.jpg');
    await putTestObjects([over], await png(400, 700, { r: 0, g: 0, b: 250 }), 'image/png');
    await putTestObjects([under], await jpeg(1920, 1080, { r: 0, g: 200, b: 0 }), 'image/jpeg');
    const created = await service.request<Rec>('POST', '/api/v1/episodes', {
      body: {
        title: 'Composed',
        wardrobe: { main_outfit: { overall_image: over } },
        backgrounds: { main_closet: under },
      },
    });
    expect(created.status).toBe(201);
    const { record, status } = await waitForStatus(service, 'episodes', created.body.data.id, settled);
    expect(status).toMatchObject({ state: 'done', source: 'compose' });
    const [large] = await expectThumbnails(record, status, 'episodes');
    const { data } = await sharp(large!).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * 1280 + x) * 3, (y * 1280 + x) * 3 + 3)];
    expect(at(640, 360)[2]).toBeGreaterThan(200); // the outfit (blue) in the middle
    expect(at(1270, 700)[1]).toBeGreaterThan(150); // the closet (green) at the edge
    expect(at(1270, 700)[2]).toBeLessThan(80);
  });

  it('a record whose sources are all missing fails with "no source image"', async () => {
    const created = await service.request<Rec>('POST', '/api/v1/outfits', { body: { name: 'Nothing yet' } });
    expect(created.body.data.thumbnail_status ?? null).toBeNull(); // no source, no job
    const asked = await service.request<{ job_id: string }>(
      'POST',
      `/api/v1/outfits/${created.body.data.id}/thumbnails`,
    );
    expect(asked.status).toBe(202);
    const { status } = await waitForStatus(
      service,
      'outfits',
      created.body.data.id,
      (s) => s.job_id === asked.body.data.job_id && settled(s),
    );
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/^no source image: /);
    const job = await service.request<Record<string, unknown>>('GET', `/api/v1/jobs/${asked.body.data.job_id}`);
    expect(job.body.data).toMatchObject({
      state: 'failed',
      retry_count: 0,
      error: expect.stringMatching(/^no source image/),
    });
  });
});

describe('a corrupt source', () => {
  it('fails its job at once with the error recorded, and the service keeps serving', async () => {
    const broken = uri('custom/broken.jpg');
    const good = await jpeg(800, 450);
    await putTestObjects([broken], Buffer.concat([good.subarray(0, 20), Buffer.alloc(2000, 0x41)]), 'image/jpeg');
    const created = await service.request<Rec>('POST', '/api/v1/episodes', {
      body: { title: 'Broken thumbnail', custom_thumbnail: broken },
    });
    expect(created.status, JSON.stringify(created.body.errors)).toBe(201);
    const { status } = await waitForStatus(service, 'episodes', created.body.data.id, settled);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/image|decode|sharp/i);
    const job = await service.request<Record<string, unknown>>('GET', `/api/v1/jobs/${status.job_id}`);
    expect(job.status).toBe(200);
    // One try, not retryLimit + 1 of them: a corrupt image fails the same way every time.
    expect(job.body.data).toMatchObject({ state: 'failed', retry_count: 0, error: status.error });
    expect((await service.request('GET', '/health')).status).toBe(200);
    const metrics = await fetch(`${service.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/jobs_failed_total\{queue="thumbnails"\} [1-9]/);
  });
});

describe('/metrics', () => {
  it('shows the queue depth, job durations and failures', async () => {
    const text = await fetch(`${service.url}/metrics`).then((r) => r.text());
    expect(text).toMatch(/job_queue_jobs\{queue="thumbnails",state="(created|completed|failed)"\} \d+/);
    expect(text).toMatch(/job_duration_seconds_count\{queue="thumbnails",state="completed"\} [1-9]/);
  });
});

/** A port nobody listens on now (the S3 server comes back on it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForJob(
  svc: TestService,
  jobId: string,
  until: (job: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  let last: unknown;
  for (let i = 0; i < 300; i++) {
    const reply = await svc.request<Record<string, unknown>>('GET', `/api/v1/jobs/${jobId}`);
    last = reply.body?.data;
    if (reply.status === 200 && until(reply.body.data)) return reply.body.data;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`job ${jobId} never matched; last ${JSON.stringify(last)}`);
}

describe('the S3 server stopped and started again', () => {
  let own:
    | { s3: EmbeddedS3; directory: string; port: number; db: TestDatabase; service: TestService; storage: MediaStorage }
    | undefined;

  afterAll(async () => {
    await own?.service.stop();
    await own?.s3.stop();
    await own?.db.drop();
    if (own) await rm(own.directory, { recursive: true, force: true });
  });

  it('a job that meets it down is retried with backoff and completes once it is back', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'reelmeta-own-s3-'));
    await mkdir(directory, { recursive: true });
    // The same keys as the run's server: the service finds them in the environment (the SDK's chain).
    const shared = testS3Server();
    await writeFile(
      path.join(directory, 'credentials.json'),
      JSON.stringify({ accessKeyId: shared.accessKeyId, secretAccessKey: shared.secretAccessKey }),
    );
    const port = await freePort();
    const start = () => startEmbeddedS3({ directory, buckets: ['bucket', 'thumbnails'], port });
    const s3 = await start();
    const ownDb = await createTestDatabase();
    const ownService = await startTestService({
      databaseUrl: ownDb.url,
      jobs,
      s3: testS3Settings({ endpoint: s3.endpoint }),
    });
    const storage = new MediaStorage({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: shared,
      bucket: 'bucket',
      thumbnailBucket: 'thumbnails',
      presignExpiresSeconds: 300,
    });
    own = { s3, directory, port, db: ownDb, service: ownService, storage };

    const source = 's3://bucket/outage/custom.jpg';
    await storage.putObject('bucket', 'outage/custom.jpg', await jpeg(1920, 1080), 'image/jpeg');
    const created = await ownService.request<Rec>('POST', '/api/v1/episodes', {
      body: { title: 'Through an outage', custom_thumbnail: source },
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    await waitForStatus(ownService, 'episodes', id, (s) => s.state === 'done');

    await own.s3.stop();
    const asked = await ownService.request<{ job_id: string }>('POST', `/api/v1/episodes/${id}/thumbnails`);
    expect(asked.status).toBe(202);
    const jobId = asked.body.data.job_id;
    const retrying = await waitForJob(ownService, jobId, (job) => job.state === 'retry');
    expect(String(retrying.error)).toMatch(/S3|object store|unavailable|ECONNREFUSED/i);
    const { status: during } = await waitForStatus(
      ownService,
      'episodes',
      id,
      (s) => s.job_id === jobId && s.state === 'retrying',
    );
    expect(during.error).toBeTruthy();

    own.s3 = await start();
    expect(own.s3.port).toBe(port);
    const completed = await waitForJob(ownService, jobId, (job) => job.state === 'completed' || job.state === 'failed');
    expect(completed.state).toBe('completed');
    expect(completed.retry_count).toBeGreaterThanOrEqual(1);
    const { record, status } = await waitForStatus(ownService, 'episodes', id, (s) => s.job_id === jobId && settled(s));
    expect(status).toMatchObject({ state: 'done', source: 'image:custom_thumbnail' });
    expect(status.error).toBeUndefined();
    await expectThumbnails(record, status, 'episodes', storage);
  });
});

describe('jobs and restarts', () => {
  it('jobs queued by a service without a worker are done by the next service started with one, lost sends included', async () => {
    const ownDb = await createTestDatabase();
    try {
      const sources = [0, 1, 2].map((n) => uri(`restart/${n}.jpg`));
      for (const source of sources) await putTestObjects([source], await jpeg(1280, 720), 'image/jpeg');
      const idle = await startTestService({ databaseUrl: ownDb.url, jobs: { ...jobs, worker: false } });
      const queued: { id: string; job: string }[] = [];
      try {
        for (const source of sources) {
          const created = await idle.request<Rec>('POST', '/api/v1/episodes', {
            body: { title: `Queued ${source}`, custom_thumbnail: source },
          });
          expect(created.status).toBe(201);
          queued.push({ id: created.body.data.id, job: (created.body.data.thumbnail_status as Status).job_id });
        }
        for (const { job } of queued) expect((await waitForJob(idle, job, () => true)).state).toBe('created');
      } finally {
        await idle.stop();
      }
      // A write whose job never reached the queue (the send failed after the commit): status
      // queued with a job id pg-boss does not know. The next start's sweep sends it under that id.
      const lost = queued[2]!;
      const lostJob = randomUUID();
      await ownDb.query(
        `UPDATE episodes SET thumbnail_status = jsonb_build_object('state', 'queued', 'job_id', $1::text, 'requested_at', now()) WHERE id = $2`,
        [lostJob, lost.id],
      );
      queued[2] = { id: lost.id, job: lostJob };
      const worker = await startTestService({ databaseUrl: ownDb.url, jobs });
      try {
        for (const { id, job } of queued) {
          const { record, status } = await waitForStatus(worker, 'episodes', id, settled);
          expect(status).toMatchObject({ state: 'done', job_id: job });
          expect(record.thumbnails).toHaveLength(3);
        }
        // The job the lost one replaced found itself superseded and did nothing.
        expect((await waitForJob(worker, lost.job, (j) => j.state === 'completed')).output).toMatchObject({
          skipped: expect.stringContaining('superseded'),
        });
      } finally {
        await worker.stop();
      }
    } finally {
      await ownDb.drop();
    }
  });

  it('two instances sharing the queue do every job exactly once', async () => {
    const ownDb = await createTestDatabase();
    // One after the other: the second finds the migrations applied (starting together is not this test's subject).
    const one = await startTestService({ databaseUrl: ownDb.url, jobs });
    const two = await startTestService({ databaseUrl: ownDb.url, jobs }).catch(async (error: unknown) => {
      await one.stop();
      throw error;
    });
    try {
      const n = 12;
      const image = await jpeg(1280, 720);
      const made: { id: string; job: string }[] = [];
      for (let i = 0; i < n; i++) {
        const source = uri(`shared/${i}.jpg`);
        await putTestObjects([source], image, 'image/jpeg');
        const svc = i % 2 === 0 ? one : two;
        const created = await svc.request<Rec>('POST', '/api/v1/episodes', {
          body: { title: `Shared ${i}`, custom_thumbnail: source },
        });
        expect(created.status).toBe(201);
        made.push({ id: created.body.data.id, job: (created.body.data.thumbnail_status as Status).job_id });
      }
      for (const { id, job } of made) {
        const { status } = await waitForStatus(one, 'episodes', id, settled);
        expect(status).toMatchObject({ state: 'done', job_id: job });
      }
      // Each job ran once: one `running` status write (from queued) and one `done` (from running) per
      // record in the audit trail, and pg-boss has
      // each job completed on its first try.
      const writes = await ownDb.query<{ record_id: string; running: number; done: number }>(
        `SELECT record_id,
                count(*) FILTER (WHERE before->'thumbnail_status'->>'state' = 'queued')::int AS running,
                count(*) FILTER (WHERE before->'thumbnail_status'->>'state' = 'running')::int AS done
           FROM audit_entries WHERE actor = 'reelmeta-thumbnails' GROUP BY record_id`,
      );
      expect(writes).toHaveLength(n);
      for (const row of writes) expect({ running: row.running, done: row.done }).toEqual({ running: 1, done: 1 });
      const runs = await ownDb.query<{ id: string; state: string; retry_count: number }>(
        `SELECT id::text, state::text, retry_count FROM pgboss.job WHERE name = 'thumbnails'`,
      );
      expect(runs.map((r) => r.id).sort()).toEqual(made.map((m) => m.job).sort());
      for (const run of runs)
        expect({ state: run.state, retry_count: run.retry_count }).toEqual({ state: 'completed', retry_count: 0 });
    } finally {
      await Promise.all([one.stop(), two.stop()]);
      await ownDb.drop();
    }
  });
});
