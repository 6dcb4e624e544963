import { mkdirSync, mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/kernel/clock';
import { UploadService, UploadStalledError } from '../../src/services/uploads';
import { LocalArtifactStore } from '../../src/storage/local-store';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, waitFor } from '../support/graphql';

/*
 * The pending-upload allowance bounds bytes still arriving, not only uploads
 * received (docs/operations.md, "HTTP connections and timeouts"). The API
 * runs in this process (forks pool: this file alone), so TMPDIR is this
 * file's own folder and its atelier-upload-* folders are the uploads in flight.
 */
const MB = 1024 * 1024;
const FREE_ALLOWANCE = 64 * MB;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'uploads-in-flight-'));
const leftover = path.join(tmp, 'atelier-upload-left-by-a-killed-process');
const recent = path.join(tmp, 'atelier-upload-of-a-live-upload');
let app: TestApp;
let savedTmpdir: string | undefined;

beforeAll(async () => {
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  mkdirSync(leftover);
  mkdirSync(recent);
  const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3600 * 1000);
  utimesSync(leftover, threeDaysAgo, threeDaysAgo);
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(async () => {
  await app?.close();
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

/** This process's uploads streaming to disk now. */
const streaming = () => readdirSync(tmp).filter((name) => name.startsWith('atelier-upload-') && path.join(tmp, name) !== recent).length;

/** A raw POST /uploads; `answer()` is the status line's code once one came (0 before). */
function openUpload(token: string, head: string) {
  const socket = net.connect(Number(new URL(app.url).port), '127.0.0.1');
  let received = '';
  socket.on('data', (data) => { received += data.toString(); });
  socket.on('error', () => undefined);
  socket.write(`POST /uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\n${head}\r\n`);
  return {
    socket,
    answer: () => Number(/^HTTP\/1\.1 (\d+)/.exec(received)?.[1] ?? 0),
    body: () => JSON.parse(received.split('\r\n\r\n')[1]?.replace(/^[0-9a-f]+\r\n/, '') || 'null'),
    /** Resolves once everything written so far has gone to the kernel, or the server closed the connection. */
    drained: () => new Promise<void>((resolve) => {
      if (!socket.writableNeedDrain || socket.destroyed) return resolve();
      const done = () => {
        socket.off('drain', done).off('close', done);
        resolve();
      };
      socket.on('drain', done).on('close', done);
    }),
  };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('uploads in flight against the pending-upload allowance', () => {
  it('sweeps at start the temp folders a killed process left, older than the longest upload; a recent one stays', async () => {
    await waitFor(async () => !readdirSync(tmp).includes(path.basename(leftover)), 5000);
    expect(readdirSync(tmp)).toContain(path.basename(recent));
  });

  it('5 uploads of 20 MB declared by a FREE user (64 MB), last byte held: 3 stream to disk, 2 are refused 429 at once', async () => {
    const u = await signUp(app.url);
    const size = 20 * MB;
    const uploads = Array.from({ length: 5 }, () => openUpload(u.token, `Content-Length: ${size}\r\n`));
    const chunk = Buffer.alloc(MB, 7);
    for (const upload of uploads) {
      for (let sent = 0; sent < size - MB; sent += MB) upload.socket.write(chunk);
      upload.socket.write(chunk.subarray(0, MB - 1));
    }
    await Promise.all(uploads.map((upload) => upload.drained()));
    await waitFor(async () => uploads.filter((upload) => upload.answer() === 429).length === 2 || null, 10_000);
    await settle(300);
    expect(streaming()).toBe(3);
    expect(uploads.filter((upload) => upload.answer() !== 0)).toHaveLength(2);
    const refused = uploads.find((upload) => upload.answer() === 429)!.body();
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: FREE_ALLOWANCE });
    expect(await app.services.uploads.arrivingBytes(u.id)).toBe(3 * size);

    const held = uploads.filter((upload) => upload.answer() === 0);
    for (const upload of held) upload.socket.write(Buffer.alloc(1, 7));
    await waitFor(async () => held.every((upload) => upload.answer() !== 0) || null, 10_000);
    expect(held.map((upload) => upload.answer())).toEqual([201, 201, 201]);
    expect(await app.services.uploads.pendingBytes(u.id)).toBe(3 * size);
    expect(await app.services.uploads.arrivingBytes(u.id)).toBe(0);
    expect(streaming()).toBe(0);
    for (const upload of uploads) upload.socket.destroy();
  }, 60_000);

  it('without a declared length, room grows as bytes arrive: together they never pass the allowance', async () => {
    const u = await signUp(app.url);
    const size = 20 * MB;
    const uploads = Array.from({ length: 5 }, () => openUpload(u.token, 'Transfer-Encoding: chunked\r\n'));
    const frame = Buffer.concat([Buffer.from(`${MB.toString(16)}\r\n`), Buffer.alloc(MB, 7), Buffer.from('\r\n')]);
    let peak = 0;
    const sampler = setInterval(() => {
      app.services.uploads.arrivingBytes(u.id).then((bytes) => { peak = Math.max(peak, bytes); }, () => undefined);
    }, 5);
    try {
      for (let sent = 0; sent < size; sent += MB) {
        for (const upload of uploads) if (upload.answer() === 0) upload.socket.write(frame);
        await Promise.all(uploads.map((upload) => upload.drained()));
      }
      // The last chunk is held: refusals came while the bodies were still arriving.
      await waitFor(async () => uploads.filter((upload) => upload.answer() === 429).length >= 2 || null, 10_000);
      const held = uploads.filter((upload) => upload.answer() === 0);
      for (const upload of held) upload.socket.write('0\r\n\r\n');
      await waitFor(async () => held.every((upload) => upload.answer() !== 0) || null, 10_000);
      const kept = held.filter((upload) => upload.answer() === 201);
      expect(kept.length).toBeGreaterThanOrEqual(1);
      expect(await app.services.uploads.pendingBytes(u.id)).toBe(kept.length * size);
    } finally {
      clearInterval(sampler);
      for (const upload of uploads) upload.socket.destroy();
    }
    expect(peak).toBeLessThanOrEqual(FREE_ALLOWANCE);
    expect(await app.services.uploads.arrivingBytes(u.id)).toBe(0);
  }, 60_000);

  it('gives the room of an upload back when its client goes away, and deletes its temp folder', async () => {
    const u = await signUp(app.url);
    const upload = openUpload(u.token, `Content-Length: ${60 * MB}\r\n`);
    upload.socket.write(Buffer.alloc(MB, 7));
    await waitFor(async () => (await app.services.uploads.arrivingBytes(u.id)) === 60 * MB || null, 5000);
    upload.socket.destroy();
    await waitFor(async () => ((await app.services.uploads.arrivingBytes(u.id)) === 0 && streaming() === 0) || null, 5000);
    const res = await fetch(`${app.url}/uploads`, { method: 'POST', body: Buffer.alloc(60 * MB, 1), headers: { authorization: `Bearer ${u.token}` } });
    expect(res.status).toBe(201);
  });

  it('cuts off a body that stops arriving (fewer than the pace\'s bytes in its window) and gives its room back', async () => {
    const pace = { minBytes: 1024, windowMs: 300 };
    const key = `${app.config.redisPrefix}:stall-test`;
    const uploads = new UploadService(new LocalArtifactStore(path.join(tmp, 'store')), 10 * MB, { redis: app.redis, key, clock: systemClock }, pace);
    const body = new PassThrough();
    body.write(Buffer.alloc(10)); // then nothing: a trickle that never ends
    const started = Date.now();
    await expect(uploads.receive('someone', body, { quotaBytes: FREE_ALLOWANCE, tier: 'FREE' })).rejects.toBeInstanceOf(UploadStalledError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await uploads.arrivingBytes('someone')).toBe(0);

    // One that keeps arriving faster than the pace is not cut off, however long it takes.
    const steady = new PassThrough();
    const feeding = setInterval(() => steady.write(Buffer.alloc(2048)), 100);
    setTimeout(() => {
      clearInterval(feeding);
      steady.end();
    }, 1500);
    expect((await uploads.receive('someone', steady, { quotaBytes: FREE_ALLOWANCE, tier: 'FREE' })).bytes).toBeGreaterThan(20_000);
  });
});
