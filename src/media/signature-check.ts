// Checks AWS Signature Version 4 on a request to the embedded S3 server, as S3 itself does:
// s3rver 3.7 accepts any V4 signature (its V4 check is unimplemented), so a presigned PUT's signed
// Content-Length and Content-Type would not be enforced. The signature is computed again with
// @smithy/signature-v4 (the SDK's own signer) from the headers the request names as signed, so a
// larger body, another type, an edited URL or an expired one is refused.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';

export interface SigningKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignedRequest {
  readonly method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** Why a request is refused, in S3's own error codes. */
export interface Refusal {
  readonly code:
    | 'AccessDenied'
    | 'SignatureDoesNotMatch'
    | 'InvalidAccessKeyId'
    | 'RequestTimeTooSkewed'
    | 'AuthorizationQueryParametersError';
  readonly message: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** S3 refuses header-signed requests whose date is further than this from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** `20261202T030331Z` → a Date, or null. */
function amzDate(value: string | undefined): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return null;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** `AKID/20261202/us-east-1/s3/aws4_request` → its parts. */
function credentialScope(value: string): { accessKeyId: string; region: string; service: string } | null {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return null;
  return { accessKeyId: parts[0]!, region: parts[2]!, service: parts[3]! };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The request as the signer sees it: only the signed headers, the query as sent. */
function toHttpRequest(
  request: SignedRequest,
  signedHeaders: readonly string[],
  dropQuery: ReadonlySet<string>,
): HttpRequest {
  const target = new URL(request.url, 'http://placeholder');
  const query: QueryParameterBag = {};
  for (const [name, value] of target.searchParams) {
    if (dropQuery.has(name)) continue;
    const before = query[name];
    query[name] =
      typeof before === 'string'
        ? [before, value]
        : Array.isArray(before)
          ? [...before.filter((v): v is string => v !== null), value]
          : value;
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = headerValue(request.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const host = headerValue(request.headers, 'host') ?? '';
  return {
    method: request.method,
    protocol: 'http:',
    hostname: host.replace(/:\d+$/, ''),
    path: target.pathname,
    query,
    headers,
    body: undefined,
  } as HttpRequest;
}

function signerFor(key: SigningKey, region: string, service: string): SignatureV4 {
  // S3 signs the path as sent (no second encoding), like the SDK's S3 client.
  return new SignatureV4({
    credentials: key,
    region,
    service,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** null when the signature holds; else why not. An unsigned request is refused (buckets are private). */
export async function checkSignature(
  request: SignedRequest,
  keyFor: (accessKeyId: string) => SigningKey | undefined,
  now = new Date(),
): Promise<Refusal | null> {
  const target = new URL(request.url, 'http://placeholder');
  const params = target.searchParams;
  const authorization = headerValue(request.headers, 'authorization');
  if (params.has('X-Amz-Algorithm')) return checkPresigned(request, params, keyFor, now);
  if (authorization) return checkHeaderSigned(request, authorization, keyFor, now);
  return { code: 'AccessDenied', message: 'Access Denied: the request is not signed' };
}

async function checkPresigned(
  request: SignedRequest,
  params: URLSearchParams,
  keyFor: (id: string) => SigningKey | undefined,
  now: Date,
): Promise<Refusal | null> {
  const scope = credentialScope(params.get('X-Amz-Credential') ?? '');
  const date = amzDate(params.get('X-Amz-Date') ?? undefined);
  const expires = Number(params.get('X-Amz-Expires'));
  const signed = (params.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
  const given = params.get('X-Amz-Signature') ?? '';
  if (
    params.get('X-Amz-Algorithm') !== ALGORITHM ||
    !scope ||
    !date ||
    !Number.isInteger(expires) ||
    expires < 1 ||
    expires > MAX_PRESIGN_SECONDS ||
    !signed.includes('host') ||
    !given
  ) {
    return {
      code: 'AuthorizationQueryParametersError',
      message:
        'X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature must all be valid',
    };
  }
  const key = keyFor(scope.accessKeyId);
  if (!key)
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  if (now.getTime() > date.getTime() + expires * 1000) return { code: 'AccessDenied', message: 'Request has expired' };
  if (date.getTime() > now.getTime() + MAX_SKEW_MS)
    return { code: 'AccessDenied', message: 'Request is not valid yet' };
  // The payload hash travels in the query (hoisted from a header when signed): the signer reads it from the header.
  const payloadHash = params.get('X-Amz-Content-Sha256');
  const toSign = toHttpRequest(request, signed, new Set(['X-Amz-Signature', 'X-Amz-Content-Sha256']));
  if (payloadHash !== null) toSign.headers['X-Amz-Content-Sha256'] = payloadHash;
  const presigned = await signerFor(key, scope.region, scope.service).presign(toSign, {
    signingDate: date,
    expiresIn: expires,
    signableHeaders: new Set(signed),
  });
  const expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
  const expectedHeaders = String(presigned.query?.['X-Amz-SignedHeaders'] ?? '');
  if (expectedHeaders !== signed.join(';') || !sameSignature(expected, given)) {
    return {
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided (a signed header such as Content-Length or Content-Type differs from what was signed).',
    };
  }
  return null;
}

async function checkHeaderSigned(
  request: SignedRequest,
  authorization: string,
  keyFor: (id: string) => SigningKey | undefined,
  now: Date,
): Promise<Refusal | null> {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(
    authorization.trim(),
  );
  const scope = m ? credentialScope(m[1]!) : null;
  const date = amzDate(headerValue(request.headers, 'x-amz-date'));
  if (!m || !scope || !date)
    return { code: 'AccessDenied', message: 'the Authorization header is not an AWS Signature Version 4 header' };
  const key = keyFor(scope.accessKeyId);
  if (!key)
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS)
    return {
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
    };
  const signedHeaders = m[2]!.split(';');
  const signed = await signerFor(key, scope.region, scope.service).sign(
    toHttpRequest(request, signedHeaders, new Set()),
    {
      signingDate: date,
      signableHeaders: new Set(signedHeaders),
    },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  return sameSignature(expected, m[3]!)
    ? null
    : {
        code: 'SignatureDoesNotMatch',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
}
