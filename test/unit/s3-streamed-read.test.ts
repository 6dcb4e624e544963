import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../src/storage/s3-store';
import { copyStoredFile } from '../../src/storage/stored-files';

/**
 * How a streamed GET from S3 times out: on silence, not on the body's length.
 * The server here answers every GET with `chunks` pieces `gapMs` apart and
 * then, unless `stallAfter` says otherwise, ends; it checks no signature
 * (test/integration/s3-store.test.ts runs the store against one that does).
 */
let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function slowServer(o: { chunks: number; gapMs: number; stallAfter?: number }): Promise<S3ArtifactStore> {
  server = http.createServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    for (let i = 0; i < o.chunks; i++) {
      if (o.stallAfter !== undefined && i === o.stallAfter) return; // holds the connection open, sending nothing
      res.write(Buffer.alloc(1000, i));
      await new Promise((resolve) => setTimeout(resolve, o.gapMs));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return new S3ArtifactStore({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bucket: 'b', region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'id', secretAccessKey: 'secret' }, requestTimeoutMs: 400, maxAttempts: 1,
  });
}

describe('S3ArtifactStore.openRead', () => {
  const target = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'atelier-s3-read-')), 'file');

  it('reads a body that takes longer than the timeout, as long as it keeps coming', async () => {
    const store = await slowServer({ chunks: 12, gapMs: 100 });
    const file = target();
    const started = Date.now();
    const facts = await copyStoredFile(store, 'models/m/big.bin', file);
    expect(Date.now() - started).toBeGreaterThan(1000);
    const expected = Buffer.concat(Array.from({ length: 12 }, (_, i) => Buffer.alloc(1000, i)));
    expect(facts).toEqual({ bytes: expected.length, sha256: createHash('sha256').update(expected).digest('hex') });
    expect(readFileSync(file).equals(expected)).toBe(true);
  });

  it('fails a body that stops coming, naming the request and the wait', async () => {
    const store = await slowServer({ chunks: 12, gapMs: 20, stallAfter: 3 });
    const file = target();
    const started = Date.now();
    await expect(copyStoredFile(store, 'models/m/stalled.bin', file)).rejects.toThrow(/S3 GET models\/m\/stalled\.bin: nothing received for 400 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(existsSync(file)).toBe(true); // partly written: the callers write into a temporary place and remove it
  });
});
