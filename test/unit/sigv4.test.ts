import { describe, expect, it } from 'vitest';
import { canonicalRequest, headersToSign, sha256Hex, signingKey, signRequest, stringToSign, uriEncode, type SigV4Request } from '../../src/storage/sigv4';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// AWS's worked example ("Create a signed AWS API request", IAM ListUsers).
describe('SigV4 against the AWS documentation example (IAM ListUsers)', () => {
  const now = new Date('2015-08-30T12:36:00Z');
  const scope = { region: 'us-east-1', service: 'iam' };
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const request: SigV4Request = {
    method: 'GET',
    url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    payloadHash: EMPTY_SHA256,
  };

  it('builds the documented canonical request', () => {
    const canonical = canonicalRequest(request, headersToSign(request, credentials, now));
    expect(canonical.text).toBe([
      'GET',
      '/',
      'Action=ListUsers&Version=2010-05-08',
      'content-type:application/x-www-form-urlencoded; charset=utf-8',
      'host:iam.amazonaws.com',
      'x-amz-date:20150830T123600Z',
      '',
      'content-type;host;x-amz-date',
      EMPTY_SHA256,
    ].join('\n'));
    expect(sha256Hex(canonical.text)).toBe('f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59');
  });

  it('derives the documented string to sign and signing key', () => {
    const canonical = canonicalRequest(request, headersToSign(request, credentials, now));
    expect(stringToSign(canonical.text, now, scope)).toBe([
      'AWS4-HMAC-SHA256',
      '20150830T123600Z',
      '20150830/us-east-1/iam/aws4_request',
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    ].join('\n'));
    expect(signingKey(credentials.secretAccessKey, now, scope).toString('hex'))
      .toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });

  it('produces the documented signature and Authorization header', () => {
    const headers = signRequest(request, credentials, scope, now);
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, '
      + 'SignedHeaders=content-type;host;x-amz-date, '
      + 'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });
});

// The S3 documentation's header-signed GET Object example (virtual-hosted bucket, Range header).
describe('SigV4 against the AWS S3 GET Object example', () => {
  it('produces the documented signature', () => {
    const headers = signRequest(
      {
        method: 'GET',
        url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
        headers: { range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256 },
        payloadHash: EMPTY_SHA256,
      },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      { region: 'us-east-1', service: 's3' },
      new Date('2013-05-24T00:00:00Z'),
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, '
      + 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, '
      + 'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

describe('SigV4 encoding details', () => {
  it('percent-encodes everything but RFC 3986 unreserved characters', () => {
    expect(uriEncode("a b/c~d_e.f-g!h'(i)*$")).toBe('a%20b%2Fc~d_e.f-g%21h%27%28i%29%2A%24');
  });

  it('signs a session token when there is one', () => {
    const headers = signRequest(
      { method: 'HEAD', url: new URL('http://localhost:9000/bucket/key'), headers: {}, payloadHash: EMPTY_SHA256 },
      { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
      { region: 'us-east-1', service: 's3' },
      new Date('2024-01-01T00:00:00Z'),
    );
    expect(headers['x-amz-security-token']).toBe('token');
    expect(headers.host).toBe('localhost:9000');
    expect(headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });
});
