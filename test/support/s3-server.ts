import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import aws4 from 'aws4';
import S3rver from 's3rver';

/** s3rver's one built-in account; it refuses any other access key id. */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';

export interface TestS3Server {
  /** Endpoint to give the store (path-style): `http://127.0.0.1:<port>`. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Requests the gate refused, by S3 error code (for assertions). */
  refusals: string[];
  /** Stops listening and drops every connection: the store is unreachable (connections refused) until `start`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

const field = (auth: string, name: string): string => new RegExp(`${name}=([^,\\s]+)`).exec(auth)?.[1] ?? '';

/**
 * Why the signature is wrong, or null when it is right. s3rver 3.x checks V2
 * signatures only ("Signature version 4 calculation is unimplemented" in its
 * source), so the gate recomputes each SigV4 signature with the `aws4` package
 * from the request exactly as it arrived on the wire, and checks the payload
 * hash as S3 does. (The store signs with aws4 too; test/unit/sigv4.test.ts
 * pins its signatures to values from an independent implementation.)
 */
function verify(req: http.IncomingMessage, body: Buffer, secretAccessKey: string): { code: string; message: string } | null {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return { code: 'AccessDenied', message: 'SigV4 Authorization header required' };
  const [, , region = '', service = ''] = field(auth, 'Credential').split('/');
  const signedNames = field(auth, 'SignedHeaders').split(';');
  const headers: Record<string, string> = {};
  for (const name of signedNames) headers[name] = String(req.headers[name] ?? '');
  const expected = aws4.sign(
    { method: req.method, path: req.url, host: headers.host, headers, service, region, extraHeadersToInclude: Object.fromEntries(signedNames.map((n) => [n, true])) } as aws4.Request,
    { accessKeyId: field(auth, 'Credential').split('/')[0], secretAccessKey },
  ).headers?.Authorization;
  const given = Buffer.from(field(auth, 'Signature'));
  const wanted = Buffer.from(field(String(expected ?? ''), 'Signature'));
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  const declared = req.headers['x-amz-content-sha256'];
  if (declared !== createHash('sha256').update(body).digest('hex')) {
    return { code: 'XAmzContentSHA256Mismatch', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  return null;
}

/**
 * A real S3-compatible server (s3rver, storing objects on disk) inside the
 * test process, behind a gate that enforces SigV4 with `secretAccessKey`.
 */
export async function startTestS3Server(bucket = 'atelier-test', secretAccessKey = 'atelier-test-secret-key-0123456789'): Promise<TestS3Server> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'atelier-s3-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const upstream = await s3rver.run();
  const refusals: string[] = [];
  const gate = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const refusal = verify(req, body, secretAccessKey);
      if (refusal) {
        refusals.push(refusal.code);
        return s3Error(res, refusal.code === 'XAmzContentSHA256Mismatch' ? 400 : 403, refusal.code, refusal.message);
      }
      const forward = http.request(
        { host: upstream.address, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => s3Error(res, 502, 'BadGateway', err.message));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  const { port } = gate.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: S3RVER_ACCESS_KEY_ID,
    secretAccessKey,
    refusals,
    stop: async () => {
      const closed = new Promise<void>((resolve) => gate.close(() => resolve()));
      gate.closeAllConnections();
      await closed;
    },
    start: () => new Promise<void>((resolve) => gate.listen(port, '127.0.0.1', resolve)),
    close: async () => {
      gate.closeAllConnections();
      if (gate.listening) await new Promise<void>((resolve) => gate.close(() => resolve()));
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
