// What s3rver 3.7 leaves out of S3's multipart protocol, filled in front of it so the embedded
// server behaves as S3 does for presigned multipart uploads: AbortMultipartUpload (s3rver answers
// 405), a part PUT or complete for an upload that does not exist (s3rver creates it or fails
// with 500: S3 answers 404 NoSuchUpload), and a complete whose part ETags differ from the parts
// stored (s3rver joins them anyway: S3 answers 400 InvalidPart). Everything else goes to s3rver.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sendS3Error } from './s3-xml.ts';

// s3rver keeps a bucket's multipart uploads in DATA/<bucket>/._S3rver_uploads/<UploadId>/.
const UPLOADS_DIR = '._S3rver_uploads';
const SAFE_ID = /^[A-Za-z0-9._-]{1,200}$/;
const MAX_COMPLETE_BODY = 2 * 1024 * 1024;

function refuse(res: ServerResponse, status: number, code: string, message: string): null {
  sendS3Error(res, status, code, message);
  return null;
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_COMPLETE_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request again with the body already read, for s3rver to read once more. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const again = Readable.from([body]) as unknown as IncomingMessage;
  return Object.assign(again, {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
  });
}

/** `<Part><ETag>…</ETag><PartNumber>n</PartNumber></Part>` (either order) → number and unquoted ETag. */
function partsOf(xml: string): { number: number; etag: string }[] {
  return [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
    number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]!)?.[1] ?? 'NaN'),
    etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]!)?.[1] ?? '').replace(/&quot;|&#34;|"/g, '').trim(),
  }));
}

/**
 * Serves what s3rver lacks and answers null, or returns the request s3rver should serve (the
 * same one, or a replay of it when its body was read here).
 */
export async function multipartGaps(
  dataDir: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<IncomingMessage | null> {
  const url = new URL(req.url ?? '/', 'http://s3.local');
  const uploadId = url.searchParams.get('uploadId');
  if (uploadId === null) return req;
  const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
  if (!SAFE_ID.test(uploadId) || !SAFE_ID.test(bucket))
    return refuse(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  const dir = path.join(dataDir, bucket, UPLOADS_DIR, uploadId);
  const exists = existsSync(path.join(dir, 'key'));
  if (req.method === 'DELETE') {
    if (!exists) return refuse(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    await rm(dir, { recursive: true, force: true });
    req.resume();
    res.writeHead(204);
    res.end();
    return null;
  }
  if (!exists && (req.method === 'PUT' || req.method === 'POST')) {
    req.resume();
    return refuse(
      res,
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    );
  }
  if (req.method !== 'POST') return req;
  const body = await readBody(req);
  if (body === null) return refuse(res, 400, 'MalformedXML', 'The CompleteMultipartUpload body is too large.');
  for (const part of partsOf(body.toString('utf8'))) {
    const md5 = await readFile(path.join(dir, `${part.number}.md5`), 'utf8').catch(() => null);
    if (md5 === null || md5.trim() !== part.etag) {
      return refuse(
        res,
        400,
        'InvalidPart',
        `One or more of the specified parts could not be found or its entity tag did not match the part's (part ${part.number}).`,
      );
    }
  }
  return replay(req, body);
}
