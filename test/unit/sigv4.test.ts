import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { S3ArtifactStore, type S3StoreOptions } from '../../src/storage/s3-store';

/*
 * SigV4 as S3ArtifactStore sends it. The signatures below were computed by the
 * project's former hand-written signer, which reproduced AWS's published
 * examples (IAM ListUsers, S3 GET Object); the store now signs with `aws4`, so
 * two independent implementations agree on them. Host and path come from the
 * AWS S3 examples (virtual-hosted `examplebucket`).
 */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const WELCOME_SHA256 = '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072';
const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

interface Sent { url: string; method: string; headers: Record<string, string> }
let sent: Sent[];

beforeEach(() => {
  sent = [];
  vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    sent.push({ url: url.toString(), method: String(init.method), headers });
    return new Response(init.method === 'GET' ? 'hello' : null, { status: 200 });
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

function store(overrides: Partial<S3StoreOptions> = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    endpoint: 'https://s3.amazonaws.com', bucket: 'examplebucket', region: 'us-east-1', forcePathStyle: false,
    credentials: CREDENTIALS, maxAttempts: 1, now: () => new Date('2013-05-24T00:00:00Z'), ...overrides,
  });
}

describe('SigV4 signing through S3ArtifactStore', () => {
  it('signs a GET with host, payload hash and date, scoped to the day, region and s3', async () => {
    expect((await store().get('test.txt'))?.toString()).toBe('hello');
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe('https://examplebucket.s3.amazonaws.com/test.txt');
    expect(sent[0].headers).toMatchObject({ 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY_SHA256 });
    // fetch sends Host itself, from the URL that was signed.
    expect(sent[0].headers.host).toBeUndefined();
    expect(sent[0].headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, '
      + 'SignedHeaders=host;x-amz-content-sha256;x-amz-date, '
      + 'Signature=df548e2ce037944d03f3e68682813b093763996d597cf890ca3d9037fd231eb4',
    );
  });

  it('signs a PUT\'s content type and the SHA-256 of its body', async () => {
    const body = Buffer.from('Welcome to Amazon S3.');
    expect(createHash('sha256').update(body).digest('hex')).toBe(WELCOME_SHA256);
    await store({ region: 'eu-west-1' }).put('images/welcome.txt', body, 'text/plain');
    expect(sent[0].headers).toMatchObject({ 'content-type': 'text/plain', 'x-amz-content-sha256': WELCOME_SHA256 });
    expect(sent[0].headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/eu-west-1/s3/aws4_request, '
      + 'SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, '
      + 'Signature=12d030d063a402cd0a78211aab715fc8fcf914d8ad18bed1bc46c6807f2a0447',
    );
  });

  it('signs the host with its port and the path-style bucket, and a session token when there is one', async () => {
    await store({ endpoint: 'http://localhost:9000', forcePathStyle: true, credentials: { ...CREDENTIALS, sessionToken: 'token' } }).exists('loras/a.safetensors');
    expect(sent[0].url).toBe('http://localhost:9000/examplebucket/loras/a.safetensors');
    expect(sent[0].headers['x-amz-security-token']).toBe('token');
    expect(sent[0].headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, '
      + 'SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, '
      + 'Signature=9379015a6056d555310011c388e762f2ab082f7acf4c83213aefda6fb2ee6002',
    );
  });

  it('signs each attempt afresh with the time of that attempt', async () => {
    const times = [new Date('2024-01-01T00:00:00Z'), new Date('2024-01-02T00:00:00Z')];
    const s = store({ maxAttempts: 2, now: () => times.shift()! });
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      sent.push({ url: url.toString(), method: String(init.method), headers: Object.fromEntries(new Headers(init.headers).entries()) });
      return new Response(null, { status: sent.length === 1 ? 503 : 200 });
    });
    expect(await s.exists('a/b.png')).toBe(true);
    expect(sent.map((r) => r.headers['x-amz-date'])).toEqual(['20240101T000000Z', '20240102T000000Z']);
    expect(sent[1].headers.authorization).toContain('Credential=AKIAIOSFODNN7EXAMPLE/20240102/us-east-1/s3/aws4_request');
  });
});
