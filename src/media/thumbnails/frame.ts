// A still frame of a video, the thumbnail source for clips: the ffmpeg binary that ships inside the
// @ffmpeg-installer npm package (so `npm install` is the whole set-up), run without a shell, seeking
// before the input (`-ss` before `-i`, fast) and writing one PNG to stdout. The input is a file path
// or an http(s) URL: the caller passes a presigned GET URL and ffmpeg fetches only the byte ranges it
// needs instead of the whole video being downloaded first.
import { spawn } from 'node:child_process';
import path from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { MediaProcessingError } from './errors.ts';

export interface CaptureOptions {
  /** Kill ffmpeg after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Another ffmpeg binary (default: the one inside @ffmpeg-installer). */
  readonly ffmpegPath?: string;
}

/** ffmpeg could not be run or reach the input (a timeout, the server down): worth retrying later. */
export class FrameCaptureUnavailableError extends Error {
  override readonly name = 'FrameCaptureUnavailableError';
}

const DEFAULT_TIMEOUT_MS = 60_000;
const STDERR_KEPT = 4096;
const MAX_FRAME_BYTES = 128 * 1024 * 1024;
// What ffmpeg says when a network input failed rather than the bytes being unreadable.
const TRANSIENT_STDERR =
  /Connection refused|Connection reset|Connection timed out|timed out|Server returned 5\d\d|Network is unreachable|No route to host|Failed to resolve hostname|Input\/output error|End of file/i;

interface Run {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** A PNG of the frame at `atSeconds` of `input` (a file path or an http(s) URL); the first frame when `atSeconds` is past the end. */
export async function captureFrame(input: string, atSeconds: number, options: CaptureOptions = {}): Promise<Buffer> {
  if (!Number.isFinite(atSeconds) || atSeconds < 0)
    throw new RangeError(`atSeconds must be a finite number ≥ 0, not ${atSeconds}`);
  const source = frameSource(input);
  const at = await runCapture(source, atSeconds, options);
  if (at.length > 0) return at;
  // Past the end ffmpeg exits 0 with nothing encoded: fall back to the first frame.
  const first = await runCapture(source, 0, options);
  if (first.length > 0) return first;
  throw new MediaProcessingError(`the video has no frame ffmpeg can decode: ${source.shown}`);
}

interface FrameSource {
  readonly arg: string;
  readonly protocols: string;
  readonly remote: boolean;
  /** How the input appears in messages: a URL without its query (a presigned URL's signature stays out of logs). */
  readonly shown: string;
}

function frameSource(input: string): FrameSource {
  if (/^https?:\/\//i.test(input)) {
    const url = new URL(input);
    return {
      arg: url.toString(),
      protocols: 'http,https,tls,tcp',
      remote: true,
      shown: `${url.origin}${url.pathname}`,
    };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(input) && !/^[a-z]:[\\/]/i.test(input)) {
    throw new MediaProcessingError(
      `only a file path or an http(s) URL can be a frame source, not ${input.split(':')[0]}:`,
    );
  }
  // An absolute path never starts with '-' (an ffmpeg option) nor names a protocol; the whitelist keeps
  // a playlist-like file from pulling in other protocols.
  const resolved = path.resolve(input);
  return { arg: `file:${resolved}`, protocols: 'file', remote: false, shown: path.basename(resolved) };
}

async function runCapture(source: FrameSource, atSeconds: number, options: CaptureOptions): Promise<Buffer> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-protocol_whitelist', source.protocols];
  if (source.remote) args.push('-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '2');
  if (atSeconds > 0) args.push('-ss', atSeconds.toFixed(3));
  args.push('-i', source.arg, '-frames:v', '1', '-an', '-sn', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1');
  const run = await runFfmpeg(
    options.ffmpegPath ?? ffmpegInstaller.path,
    args,
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
  const said = scrub(run.stderr, source).trim().split('\n').slice(-3).join(' | ');
  if (run.timedOut)
    throw new FrameCaptureUnavailableError(`ffmpeg did not capture a frame of ${source.shown} in time (killed)`);
  if (run.code !== 0) {
    const message = `the video is not one ffmpeg can read (${source.shown}): ${said || `exit code ${run.code}`}`;
    if (source.remote && TRANSIENT_STDERR.test(run.stderr)) throw new FrameCaptureUnavailableError(message);
    throw new MediaProcessingError(message);
  }
  return run.stdout;
}

/** The URL with its signature never appears in an error. */
function scrub(text: string, source: FrameSource): string {
  return source.remote ? text.split(source.arg).join(source.shown) : text;
}

function runFfmpeg(binary: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let timedOut = false;
    let tooLarge = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_FRAME_BYTES) {
        tooLarge = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT); // only the tail: ffmpeg can be chatty
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new FrameCaptureUnavailableError(`ffmpeg could not be started: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (tooLarge) {
        reject(new MediaProcessingError(`the frame is larger than ${MAX_FRAME_BYTES} bytes`));
        return;
      }
      resolve({ code, stdout: Buffer.concat(chunks), stderr, timedOut });
    });
  });
}
