import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobFloor } from '../../bench/job-floor';
import { DiffusionPipeline } from '../../src/gpu-worker/pipeline/diffusion-pipeline';
import { ThreadedPipeline } from '../../src/gpu-worker/pipeline/threaded-pipeline';
import type { ImagePipeline } from '../../src/gpu-worker/pipeline/types';
import { startTestApp, type TestApp } from '../support/app';
import { collect, gqlData, signUp, wsClient } from '../support/graphql';

/**
 * The `worker` bench's floor (bench/job-floor.ts) is a reference only while
 * it keeps what it says it keeps: a floor that did less would flatter itself
 * and make the service's overhead look larger than it is.
 */
let app: TestApp;
let ownerId: string;
const pipelines: ImagePipeline[] = [];
const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', width: 128, height: 128, steps: 6, guidanceScale: 7.5, seed: 7, count: 1 };
const WATCH = 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }';

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  ownerId = (await signUp(app.url)).id;
});
afterAll(async () => {
  for (const pipeline of pipelines) await pipeline.release();
  await app?.close();
});

describe.each([
  ['the bare pipeline', () => DiffusionPipeline.load(path.join(app.config.modelsDir, 'atelier-tiny'))],
  ['a render thread', () => ThreadedPipeline.load(path.join(app.config.modelsDir, 'atelier-tiny'))],
])('a job kept by plain parts, rendered by %s', (name, load) => {
  it('is durable before it is answered, streams every step over graphql-ws, and commits its stored image before COMPLETED', async () => {
    const pipeline = await load();
    pipelines.push(pipeline);
    const floor = await startJobFloor(app, ownerId, pipeline, name.replace(/\W/g, ''));
    try {
      const socket = wsClient(floor.url);
      const { createGeneration } = await gqlData<{ createGeneration: { id: string } }>(floor.url, 'mutation', { i: REQUEST });
      const id = createGeneration.id;
      const watched = collect<{ jobUpdated: { type: string; step?: number } }>(socket, WATCH, { id });
      await watched.done;
      expect(watched.errors).toEqual([]);
      const told = watched.items.map((item) => item.jobUpdated);
      // The subscription opened after the answer: what came before it was read from the job's stream.
      expect(told).toEqual([
        { type: 'STARTED' },
        ...Array.from({ length: REQUEST.steps }, (_, k) => ({ type: 'PROGRESS', step: k + 1 })),
        { type: 'COMPLETED' },
      ]);
      const [row] = await app.db.query('SELECT status, step, attempts FROM jobs WHERE id = $1', [id]);
      expect(row).toEqual({ status: 'COMPLETED', step: REQUEST.steps, attempts: 1 });
      const images = await app.db.query('SELECT storage_key, sha256, bytes FROM images WHERE job_id = $1', [id]);
      expect(images).toHaveLength(1);
      const png = readFileSync(images[0].storage_key);
      expect(createHash('sha256').update(png).digest('hex')).toBe(images[0].sha256);
      expect(png.length).toBe(images[0].bytes);

      // A subscriber that comes after the end gets every event from the stream, then the end.
      const late = collect<{ jobUpdated: { type: string } }>(socket, WATCH, { id });
      await late.done;
      expect(late.items.map((item) => item.jobUpdated)).toEqual(told);
      await socket.dispose();
    } finally {
      await floor.close();
    }
  });
});
