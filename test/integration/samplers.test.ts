import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { gql, gqlData } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
let user: factory.TestUser;
const CREATE = 'mutation($input: GenerationInput!) { createGeneration(input: $input) { id sampler } }';
const JOB = 'query($id:ID!){ job(id:$id) { status sampler error { code message } images { url sha256 } } }';
const SAMPLERS = ['EULER', 'EULER_ANCESTRAL', 'DDIM', 'LCM', 'DPMPP_2M'];
const LABELS: Record<string, string> = { EULER: 'Euler', EULER_ANCESTRAL: 'Euler a', DDIM: 'DDIM', LCM: 'LCM', DPMPP_2M: 'DPM++ 2M' };
const small = { prompt: 'a paper boat on a pond', width: 64, height: 64, steps: 3, seed: 11 };

beforeAll(async () => {
  app = await startTestApp();
  user = await factory.user(app, { tier: 'ENTERPRISE' });
});
afterAll(() => app?.close());

async function jobRows(): Promise<number> {
  const [{ count }] = await app.db.query('SELECT count(*)::int AS count FROM jobs');
  return count;
}

describe('GenerationInput.sampler', () => {
  it.each(SAMPLERS)('%s: the job completes, records its sampler, and the PNG names it', async (sampler) => {
    const done = await factory.job(app, user, { ...small, sampler }, { wait: true });
    const { job } = await gqlData<any>(app.url, JOB, { id: done.id }, user.token);
    expect(job).toMatchObject({ status: 'COMPLETED', sampler, error: null });
    const png = Buffer.from(await (await fetch(job.images[0].url)).arrayBuffer());
    expect(readPngInfo(png).text.sampler).toBe(LABELS[sampler]);
    const [row] = await app.db.query('SELECT sampler FROM jobs WHERE id = $1', [done.id]);
    expect(row.sampler).toBe(sampler);
  });

  it('absent: null on the job, and the model\'s own scheduler (Euler for the tiny model) runs', async () => {
    const done = await factory.job(app, user, small, { wait: true });
    const { job } = await gqlData<any>(app.url, JOB, { id: done.id }, user.token);
    expect(job).toMatchObject({ status: 'COMPLETED', sampler: null });
    const png = Buffer.from(await (await fetch(job.images[0].url)).arrayBuffer());
    expect(readPngInfo(png).text.sampler).toBe('Euler');
    const euler = await factory.job(app, user, { ...small, sampler: 'EULER' }, { wait: true });
    const explicit = (await gqlData<any>(app.url, JOB, { id: euler.id }, user.token)).job;
    expect(explicit.images[0].sha256).toBe(job.images[0].sha256);
  });

  it('an unknown sampler is refused by GraphQL\'s enum validation, nothing written', async () => {
    const before = await jobRows();
    const res = await gql(app.url, CREATE, { input: { ...small, sampler: 'HEUN' } }, user.token);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('Sampler');
    expect(res.data ?? null).toBeNull();
    expect(await jobRows()).toBe(before);
  });

  it('LCM past 50 steps is BAD_USER_INPUT on steps, nothing written', async () => {
    const before = await jobRows();
    const res = await gql(app.url, CREATE, { input: { ...small, sampler: 'LCM', steps: 51 } }, user.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'steps' });
    expect(await jobRows()).toBe(before);
  });

  it('retrying a job keeps its sampler', async () => {
    const done = await factory.job(app, user, { ...small, sampler: 'DPMPP_2M' }, { wait: true });
    // Only FAILED or CANCELLED jobs can be retried: mark this finished one failed.
    await app.db.query("UPDATE jobs SET status = 'FAILED' WHERE id = $1", [done.id]);
    const retried = await gqlData<any>(app.url, 'mutation($id:ID!){ retryJob(id:$id) { sampler } }', { id: done.id }, user.token);
    expect(retried.retryJob.sampler).toBe('DPMPP_2M');
  });

  it('a preset carries a default sampler; an explicit one wins; LCM past 50 steps is refused on the preset too', async () => {
    const PRESET = 'mutation($i:PresetInput!){ createPreset(input:$i){ id sampler } }';
    const { createPreset } = await gqlData<any>(app.url, PRESET, { i: { name: 'Quick LCM', template: '{prompt}', sampler: 'LCM', steps: 4 } }, user.token);
    expect(createPreset.sampler).toBe('LCM');
    const applied = await gqlData<any>(app.url, 'mutation($id:ID!){ applyPreset(id:$id, prompt:"x"){ sampler steps } }', { id: createPreset.id }, user.token);
    expect(applied.applyPreset).toEqual({ sampler: 'LCM', steps: 4 });
    const viaPreset = await gqlData<any>(app.url, CREATE, { input: { prompt: 'a fox', presetId: createPreset.id, width: 64, height: 64 } }, user.token);
    expect(viaPreset.createGeneration.sampler).toBe('LCM');
    const explicit = await gqlData<any>(app.url, CREATE, { input: { prompt: 'a fox', presetId: createPreset.id, sampler: 'DDIM', width: 64, height: 64 } }, user.token);
    expect(explicit.createGeneration.sampler).toBe('DDIM');
    const tooLong = await gql(app.url, PRESET, { i: { name: 'Slow LCM', template: '{prompt}', sampler: 'LCM', steps: 60 } }, user.token);
    expect(tooLong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'steps' });
  });
});
