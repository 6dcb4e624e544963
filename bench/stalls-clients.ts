/**
 * Child process of bench/stalls: a user's program, in its own process. The
 * bench starts two: one sends the `me` queries it times, the other keeps
 * submitting the 1024² jobs that render meanwhile and polls each until it
 * completes, as an integrator's script would. Requests and answers are JSON
 * lines (`startChild` in bench/harness.ts):
 *
 * - `{ op: 'me', url, token, n }`: n `me` queries one after another, 5 ms
 *   apart; answers `{ latencies }` in milliseconds.
 * - `{ op: 'jobs', url, token, job }`: starts submitting jobs, one at a time;
 *   answers `{ started: true }` once the first is accepted.
 * - `{ op: 'stop' }`: finishes the job in progress; answers `{ images }`.
 */
import { answerRequests } from './child-lines';
import { graphqlData, keepAliveAgent } from './http-client';

const ME = 'query { me { id email } }';
const CREATE = 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }';
const STATUS = 'query($id:ID!){ job(id:$id){ status } }';
const agent = keepAliveAgent();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function meLatencies(url: string, token: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const start = performance.now();
    await graphqlData(url, token, ME, {}, agent);
    out.push(performance.now() - start);
    await pause(5);
  }
  return out;
}

let rendering = false;
let loop: Promise<number> | null = null;

/** Submits `job` and waits for it to complete, over and over until stopped; resolves with the images completed. */
async function renderLoop(url: string, token: string, job: unknown, accepted: () => void): Promise<number> {
  let images = 0;
  while (rendering) {
    const { createGeneration } = await graphqlData<{ createGeneration: { id: string } }>(url, token, CREATE, { i: job }, agent);
    accepted();
    for (;;) {
      const { job: row } = await graphqlData<{ job: { status: string } }>(url, token, STATUS, { id: createGeneration.id }, agent);
      if (row.status === 'COMPLETED') break;
      if (row.status !== 'PENDING' && row.status !== 'PROCESSING') throw new Error(`job ${row.status}`);
      await pause(100);
    }
    images += 1;
  }
  return images;
}

async function handle(request: { op: string; url: string; token: string; n: number; job: unknown }): Promise<Record<string, unknown>> {
  if (request.op === 'me') return { latencies: await meLatencies(request.url, request.token, request.n) };
  if (request.op === 'jobs') {
    rendering = true;
    await new Promise<void>((resolve, reject) => {
      loop = renderLoop(request.url, request.token, request.job, resolve);
      loop.catch(reject);
    });
    return { started: true };
  }
  rendering = false;
  return { images: await loop };
}

answerRequests(handle);
