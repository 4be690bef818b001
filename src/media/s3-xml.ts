// The XML pieces the embedded S3 server's own handlers answer with (signature check, multipart,
// ListObjectsV2): one escape and one S3 error document, as S3 writes them.
import type { ServerResponse } from 'node:http';

export const escapeXml = (text: string): string => text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** An S3 `<Error>` document. */
export const s3ErrorXml = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;

/** Answers with an S3 error document. */
export function sendS3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(s3ErrorXml(code, message));
}
