import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header-based), written against the published
 * algorithm so S3-compatible stores need no AWS SDK. Pure functions: the
 * unit test checks them against AWS's own worked example.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

/** Long-term (or temporary, with a session token) access key. */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One request to sign. `headers` are those to sign besides host and x-amz-date. */
export interface SigV4Request {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD` where the service allows it). */
  payloadHash: string;
}

/** Where the signature is valid: region and service name, e.g. `us-east-1` / `s3`. */
export interface SigV4Scope {
  region: string;
  service: string;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Hex SHA-256, as the algorithm uses it for payloads and canonical requests. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 percent-encoding: everything but unreserved characters, as SigV4 requires. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20150830T123600Z` */
export function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * The path, each segment encoded once. S3 wants single encoding; other
 * services double-encode, but every path this module signs is already plain.
 */
function canonicalUri(url: URL): string {
  const segments = url.pathname.split('/').map((s) => uriEncode(decodeURIComponent(s)));
  return segments.join('/') || '/';
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Lower-cased names, trimmed values with inner runs of spaces collapsed, sorted by name. */
function canonicalHeaders(headers: Record<string, string>): { text: string; signed: string } {
  const entries = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    text: entries.map(([name, value]) => `${name}:${value}\n`).join(''),
    signed: entries.map(([name]) => name).join(';'),
  };
}

/** Headers that take part in the signature: the caller's plus host and x-amz-date (and the session token). */
export function headersToSign(req: SigV4Request, credentials: SigV4Credentials, now: Date): Record<string, string> {
  const headers: Record<string, string> = { ...req.headers, host: req.url.host, 'x-amz-date': amzDate(now) };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  return headers;
}

/** Step 1: the canonical request, and the list of signed header names. */
export function canonicalRequest(req: SigV4Request, headers: Record<string, string>): { text: string; signedHeaders: string } {
  const canonical = canonicalHeaders(headers);
  const text = [req.method.toUpperCase(), canonicalUri(req.url), canonicalQuery(req.url), canonical.text, canonical.signed, req.payloadHash].join('\n');
  return { text, signedHeaders: canonical.signed };
}

/** `20150830/us-east-1/iam/aws4_request` */
export function credentialScope(now: Date, scope: SigV4Scope): string {
  return `${amzDate(now).slice(0, 8)}/${scope.region}/${scope.service}/aws4_request`;
}

/** Step 2: the string to sign. */
export function stringToSign(canonical: string, now: Date, scope: SigV4Scope): string {
  return [ALGORITHM, amzDate(now), credentialScope(now, scope), sha256Hex(canonical)].join('\n');
}

/** Step 3: the day-, region- and service-scoped key derived from the secret. */
export function signingKey(secretAccessKey: string, now: Date, scope: SigV4Scope): Buffer {
  const day = hmac(`AWS4${secretAccessKey}`, amzDate(now).slice(0, 8));
  return hmac(hmac(hmac(day, scope.region), scope.service), 'aws4_request');
}

/**
 * Signs a request: returns the headers to send (the signed ones, including
 * host, plus `authorization`). Callers that cannot set `host` themselves (fetch)
 * may drop it; fetch sends the same value from the URL.
 */
export function signRequest(req: SigV4Request, credentials: SigV4Credentials, scope: SigV4Scope, now: Date): Record<string, string> {
  const headers = headersToSign(req, credentials, now);
  const canonical = canonicalRequest(req, headers);
  const signature = hmac(signingKey(credentials.secretAccessKey, now, scope), stringToSign(canonical.text, now, scope)).toString('hex');
  const credential = `${credentials.accessKeyId}/${credentialScope(now, scope)}`;
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${credential}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`,
  };
}
