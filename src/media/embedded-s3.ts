// The zero-setup default object store: a real S3-compatible server (s3rver) with its files in
// DATA_DIR/s3, the media buckets made at start. It is fronted by a Signature V4 check
// (signature-check.ts) so presigned URLs behave as on S3: signed length and type are enforced,
// expired or edited URLs refused. Its access key is made on first start and kept beside the data.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import S3rver from 's3rver';
import { checkSignature, type SigningKey } from './signature-check.ts';
import { multipartGaps } from './embedded-multipart.ts';
import { listObjectsV2Bucket, serveListObjectsV2, type ListingStore } from './list-objects-v2.ts';
import { s3ErrorXml } from './s3-xml.ts';

export interface EmbeddedS3 {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  readonly credentials: SigningKey;
  stop(): Promise<void>;
}

export interface EmbeddedS3Options {
  /** Holds `data/` (the objects) and `credentials.json`. */
  readonly directory: string;
  readonly buckets: readonly string[];
  /** 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
}

interface AccountModule {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

function credentials(directory: string): SigningKey {
  const file = path.join(directory, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SigningKey;
  const made: SigningKey = {
    accessKeyId: `RM${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(made), { mode: 0o600 });
  chmodSync(file, 0o600);
  return made;
}

/**
 * Browsers upload straight to the presigned URLs (seed 8.19: "asset upload via API/UI"), so the
 * embedded buckets answer CORS preflights from any origin and expose the ETag a multipart
 * complete needs. A real bucket gets its CORS rules from whoever runs it.
 */
const CORS_XML = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

export async function startEmbeddedS3({
  directory,
  buckets,
  port = 0,
  host = '127.0.0.1',
}: EmbeddedS3Options): Promise<EmbeddedS3> {
  mkdirSync(path.join(directory, 'data'), { recursive: true });
  const key = credentials(directory);
  const s3rver = new S3rver({
    directory: path.join(directory, 'data'),
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [CORS_XML] })),
    vhostBuckets: false,
  });
  // s3rver looks the access key up in its own account registry before serving.
  const { createRequire } = await import('node:module');
  const accounts = createRequire(import.meta.url)('s3rver/lib/models/account') as AccountModule;
  accounts.DUMMY_ACCOUNT.createKeyPair(key.accessKeyId, key.secretAccessKey);
  await s3rver.configureBuckets();
  const serveS3 = s3rver.getMiddleware();
  const keyFor = (id: string) => (id === key.accessKeyId ? key : undefined);
  const server: Server = createServer((req, res) => {
    // A CORS preflight carries no signature (as on S3): the bucket's CORS rules answer it.
    if (req.method === 'OPTIONS') return serveS3(req, res);
    checkSignature({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, keyFor)
      .then((refusal) => {
        if (!refusal) {
          // s3rver's own ListObjectsV2 fails past one page on Node 20 (see list-objects-v2.ts).
          const listing = listObjectsV2Bucket(req.method ?? 'GET', req.url ?? '/');
          if (listing)
            return serveListObjectsV2(
              (s3rver as unknown as { store: ListingStore }).store,
              listing.bucket,
              listing.query,
              res,
            );
          // What s3rver lacks of multipart uploads (abort, NoSuchUpload, part ETags) is served first.
          return multipartGaps(path.join(directory, 'data'), req, res).then(
            (request) => request && serveS3(request, res),
          );
        }
        res.writeHead(403, { 'content-type': 'application/xml', connection: 'close' });
        res.end(s3ErrorXml(refusal.code, refusal.message));
        // The body the client is still sending is not read.
        req.resume();
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end(s3ErrorXml('InternalError', error instanceof Error ? error.message : String(error)));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${bound}`,
    port: bound,
    credentials: key,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
