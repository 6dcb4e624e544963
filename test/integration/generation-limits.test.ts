import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/gpu-worker/pipeline/request';
import type { GenerationRequest } from '../../src/gpu-worker/pipeline/types';
import { GENERATION_LIMITS as L } from '../../src/kernel/generation-parameters';
import { startTestApp, type TestApp } from '../support/app';
import { gql, signUp } from '../support/graphql';
import { seedLora } from '../support/library';

// One limits table for the API and the pipeline: a request at the edge of it
// is accepted by both, one step beyond is refused by both, naming the field.

let app: TestApp;
let user: { token: string; id: string };
let loraIds: string[];
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id status } }';

interface Input {
  prompt: string; negativePrompt?: string; width?: number; height?: number; steps?: number; guidanceScale?: number;
  seed?: number; count?: number; loras?: { loraId: string; weight: number }[];
}

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  user = await signUp(app.url);
  // ENTERPRISE's caps equal the table's but for LoRAs: widen that tier to the table for this file.
  await app.db.query(`UPDATE users SET tier = 'ENTERPRISE' WHERE id = $1`, [user.id]);
  await app.db.query(`UPDATE tier_policies SET max_loras = $1 WHERE tier = 'ENTERPRISE'`, [L.loraCount.max]);
  loraIds = [];
  for (let i = 0; i <= L.loraCount.max; i += 1) loraIds.push((await seedLora(app.db, user.id, `limit-${i}`)).id);
});
afterAll(() => app?.close());

const loras = (n: number, weight: (i: number) => number) => loraIds.slice(0, n).map((loraId, i) => ({ loraId, weight: weight(i) }));

/** The same request as the worker hands it to the pipeline. */
function pipelineRequest(input: Input): GenerationRequest {
  return {
    prompt: input.prompt, negativePrompt: input.negativePrompt, width: input.width ?? 512, height: input.height ?? 512,
    steps: input.steps ?? 20, guidanceScale: input.guidanceScale ?? 7.5, seed: input.seed ?? 1, count: input.count ?? 1,
    loras: input.loras?.map((l) => ({ name: l.loraId, path: `/loras/${l.loraId}.safetensors`, weight: l.weight })),
  };
}

function pipelineRefusal(input: Input): unknown {
  try {
    validateRequest(pipelineRequest(input));
    return null;
  } catch (error) {
    return error;
  }
}

describe('the API and the pipeline share one limits table', () => {
  const edges: [string, () => Input][] = [
    ['every maximum', () => ({
      prompt: 'p'.repeat(L.promptChars.max), negativePrompt: 'n'.repeat(L.promptChars.max), width: L.width.max, height: L.height.max,
      steps: L.steps.max, guidanceScale: L.guidanceScale.max, seed: L.seed.max - (L.count.max - 1), count: L.count.max,
      loras: loras(L.loraCount.max, (i) => (i % 2 ? L.loraWeight.min : L.loraWeight.max)),
    })],
    ['every minimum', () => ({
      prompt: 'p', width: L.width.min, height: L.height.min, steps: L.steps.min, guidanceScale: L.guidanceScale.min,
      seed: L.seed.min, count: L.count.min, loras: [],
    })],
  ];
  it.each(edges)('%s: accepted by both', async (_name, make) => {
    const input = make();
    expect(pipelineRefusal(input)).toBeNull();
    const res = await gql(app.url, CREATE, { input }, user.token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.createGeneration.status).toBe('PENDING');
  });

  const beyond: [string, string, () => Partial<Input>][] = [
    ['width above', 'width', () => ({ width: L.width.max + L.width.multipleOf })],
    ['width below', 'width', () => ({ width: L.width.min - L.width.multipleOf })],
    ['width off the multiple', 'width', () => ({ width: L.width.max - 1 })],
    ['height above', 'height', () => ({ height: L.height.max + L.height.multipleOf })],
    ['height below', 'height', () => ({ height: L.height.min - L.height.multipleOf })],
    ['steps above', 'steps', () => ({ steps: L.steps.max + 1 })],
    ['steps below', 'steps', () => ({ steps: L.steps.min - 1 })],
    ['guidance above', 'guidanceScale', () => ({ guidanceScale: L.guidanceScale.max + 0.5 })],
    ['guidance below', 'guidanceScale', () => ({ guidanceScale: L.guidanceScale.min - 0.5 })],
    ['seed below', 'seed', () => ({ seed: L.seed.min - 1 })],
    ['last image\'s seed above (image i uses seed + i)', 'seed', () => ({ seed: L.seed.max, count: 2 })],
    ['count above', 'count', () => ({ count: L.count.max + 1 })],
    ['count below', 'count', () => ({ count: L.count.min - 1 })],
    ['prompt too long', 'prompt', () => ({ prompt: 'p'.repeat(L.promptChars.max + 1) })],
    ['negative prompt too long', 'negativePrompt', () => ({ negativePrompt: 'n'.repeat(L.promptChars.max + 1) })],
    ['LoRA weight above', 'loras[0].weight', () => ({ loras: loras(1, () => L.loraWeight.max + 0.5) })],
    ['LoRA weight below', 'loras[0].weight', () => ({ loras: loras(1, () => L.loraWeight.min - 0.5) })],
    ['too many LoRAs', 'loras', () => ({ loras: loras(L.loraCount.max + 1, () => 1) })],
  ];
  it.each(beyond)('%s: refused by both, naming %s', async (_name, field, make) => {
    const input: Input = { prompt: 'a lighthouse', ...make() };
    expect(pipelineRefusal(input)).toMatchObject({ code: 'INVALID_PARAMETERS', field, unrecoverable: true });
    const res = await gql(app.url, CREATE, { input }, user.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('a seed above the table is refused by both (GraphQL Int holds exactly the table\'s range)', async () => {
    expect(L.seed.max).toBe(2 ** 31 - 1);
    expect(pipelineRefusal({ prompt: 'a lighthouse', seed: L.seed.max + 1 })).toMatchObject({ code: 'INVALID_PARAMETERS', field: 'seed' });
    const res = await gql(app.url, CREATE, { input: { prompt: 'a lighthouse', seed: L.seed.max + 1 } }, user.token);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/seed/);
  });
});
