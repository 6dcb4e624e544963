import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComfyUiTestServer } from '../../scripts/test-servers/comfyui/server';
import { ComfyUiBackend } from '../../src/gpu-worker/backends/comfyui-backend';
import type { BackendRequest } from '../../src/gpu-worker/backends/inference-backend';
import type { ComfyWorkflow } from '../../src/kernel/backends';
import { exampleWorkflow } from '../support/comfyui-workflow';

/*
 * A ComfyUI job says its sampling is over (`onSampled`, which lets the worker
 * take its next job) once every sampler node of its workflow has reported its
 * last step, and before its images come back (docs/backends.md).
 */
const POLICY = { timeoutMs: 10_000, attempts: 1, backoffMs: 10, breakerFailures: 5, halfOpenAfterMs: 1000 };
const OBSERVER = { attempt: () => undefined, failure: () => undefined, circuit: () => undefined };
const REQUEST: BackendRequest = { jobId: 'job', prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 4, guidanceScale: 7, seed: 0, count: 1 };

let server: ComfyUiTestServer;
beforeAll(async () => {
  server = await ComfyUiTestServer.start({ modelDir: path.join(inject('modelsDir'), 'atelier-tiny') });
});
afterAll(() => server?.close());

/** What the backend reported, in order: each step, `sampled`, and `images` once the run resolved. */
async function reports(workflow: ComfyWorkflow, seed: number): Promise<string[]> {
  const backend = new ComfyUiBackend('tiny', workflow, [server.url], POLICY, OBSERVER);
  const seen: string[] = [];
  try {
    const images = await backend.generate({ ...REQUEST, seed }, {
      signal: new AbortController().signal,
      onStep: (p) => void seen.push(`step ${p.step}`),
      onSampled: () => void seen.push('sampled'),
    });
    seen.push(`${images.length} images`);
  } finally {
    backend.release();
  }
  return seen;
}

describe('a ComfyUI job\'s sampling', () => {
  it('is over after its sampler\'s last step, before its images come back', async () => {
    expect(await reports(exampleWorkflow(), 1)).toEqual(['step 1', 'step 2', 'step 3', 'step 4', 'sampled', '1 images']);
    // The same prompt again: ComfyUI takes the sampler's output from its cache and reports no step, so the
    // job's images are what end it, as on every backend.
    expect(await reports(exampleWorkflow(), 1)).toEqual(['1 images']);
  });

  it('is over only once every sampler node of the workflow has reported its last step', async () => {
    // A second branch with a sampler of its own (ComfyUI runs one after the other), saved by its own node.
    const workflow = exampleWorkflow();
    workflow['13'] = { ...workflow['3'], inputs: { ...workflow['3'].inputs, seed: 99 }, _meta: { title: 'KSampler (second)' } };
    workflow['18'] = { class_type: 'VAEDecode', inputs: { samples: ['13', 0], vae: ['4', 2] } };
    workflow['19'] = { class_type: 'SaveImage', inputs: { filename_prefix: 'second', images: ['18', 0] } };
    const seen = await reports(workflow, 2);
    expect(seen.filter((s) => s.startsWith('step'))).toHaveLength(8);
    expect(seen.slice(-2)).toEqual(['sampled', '2 images']);
  });
});
