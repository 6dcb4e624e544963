import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const LIST = 'query($c:PresetCategory){ presets(category:$c){ id name category builtIn mine width height steps guidanceScale durationSeconds fps } }';
const CREATE = 'mutation($i:PresetInput!){ createPreset(input:$i){ id name mine template loras { loraId weight } session { id } } }';

async function presetId(token: string, name: string): Promise<string> {
  const list = await gqlData<any>(app.url, LIST, {}, token);
  return list.presets.find((p: any) => p.name === name).id;
}

describe('presets', () => {
  it('lists the five built-in image presets and the three video presets', async () => {
    const u = await signUp(app.url);
    const image = await gqlData<any>(app.url, LIST, { c: 'IMAGE' }, u.token);
    expect(image.presets.filter((p: any) => p.builtIn).map((p: any) => p.name).sort())
      .toEqual(['Anime Style', 'Cinematic Portrait', 'Concept Art', 'Oil Painting', 'Photorealistic']);
    expect(image.presets.find((p: any) => p.name === 'Cinematic Portrait'))
      .toMatchObject({ width: 768, height: 1024, steps: 30, guidanceScale: 7.5, mine: false });
    const video = await gqlData<any>(app.url, LIST, { c: 'VIDEO' }, u.token);
    expect(video.presets.map((p: any) => [p.name, p.durationSeconds, p.fps]).sort())
      .toEqual([['Cinematic Video', 5, 24], ['Time Lapse', 4, 30], ['Vlog Style', 3, 30]]);
  });

  it('applies "Cinematic Portrait" to a prompt', async () => {
    const u = await signUp(app.url);
    const id = await presetId(u.token, 'Cinematic Portrait');
    const APPLY = 'mutation($id:ID!){ applyPreset(id:$id, prompt:"  woman in garden "){ prompt negativePrompt width height steps guidanceScale preset { name width height } } }';
    const res = await gqlData<any>(app.url, APPLY, { id }, u.token);
    expect(res.applyPreset.prompt).toBe('woman in garden, cinematic lighting, dramatic shadows, film grain, bokeh, professional photography, 85mm lens, f/1.4');
    // On FREE (768×768 at most) the preset's 768×1024 is scaled to fit, as createGeneration would run it.
    expect(res.applyPreset).toMatchObject({ width: 576, height: 768, steps: 30, guidanceScale: 7.5, preset: { name: 'Cinematic Portrait', width: 768, height: 1024 } });
    expect(res.applyPreset.negativePrompt).toContain('blurry');
    await factory.updateUser(app, u.id, { tier: 'PRO' });
    expect((await gqlData<any>(app.url, APPLY, { id }, u.token)).applyPreset).toMatchObject({ width: 768, height: 1024 });
  });

  it('applies a VIDEO preset as createGeneration runs it: one clip, fitted to the tier', async () => {
    const u = await signUp(app.url);
    const id = await presetId(u.token, 'Cinematic Video');
    const APPLY = 'mutation($id:ID!){ applyPreset(id:$id, prompt:"a fox"){ kind width height steps durationSeconds fps frames } }';
    const JOB = 'mutation($i:GenerationInput!){ createGeneration(input:$i){ kind width height steps videoFrames videoFps } }';
    for (const tier of ['FREE', 'PRO'] as const) {
      await factory.updateUser(app, u.id, { tier });
      const applied = (await gqlData<any>(app.url, APPLY, { id }, u.token)).applyPreset;
      const job = (await gqlData<any>(app.url, JOB, { i: { prompt: 'a fox', presetId: id } }, u.token)).createGeneration;
      expect(applied, tier).toMatchObject({ kind: 'VIDEO', width: job.width, height: job.height, steps: job.steps, fps: job.videoFps, frames: job.videoFrames });
      expect(applied.durationSeconds * applied.fps, tier).toBe(applied.frames);
    }
    const image = await gqlData<any>(app.url, APPLY, { id: await presetId(u.token, 'Oil Painting') }, u.token);
    expect(image.applyPreset).toMatchObject({ kind: 'IMAGE', durationSeconds: null, fps: null, frames: null });
  });

  it('a preset that sets only its width, wider than the tier, is scaled too and its job accepted', async () => {
    const u = await signUp(app.url);
    const created = await gqlData<any>(app.url, CREATE, { i: { name: 'Panorama', template: '{prompt}, panorama', width: 2048 } }, u.token);
    const APPLY = 'mutation($id:ID!){ applyPreset(id:$id, prompt:"coast"){ width height } }';
    // FREE allows 768×768: 2048 wide by the default 512 high scales to 768×192.
    expect((await gqlData<any>(app.url, APPLY, { id: created.createPreset.id }, u.token)).applyPreset).toEqual({ width: 768, height: 192 });
    const job = await gql<any>(app.url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ width height } }', { i: { prompt: 'coast', presetId: created.createPreset.id } }, u.token);
    expect(job.errors).toBeUndefined();
    expect(job.data.createGeneration).toEqual({ width: 768, height: 192 });
  });

  it('built-ins cannot be changed or deleted', async () => {
    const u = await signUp(app.url);
    const id = await presetId(u.token, 'Oil Painting');
    const del = await gql<any>(app.url, 'mutation($id:ID!){ deletePreset(id:$id) }', { id }, u.token);
    expect(del.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const upd = await gql<any>(app.url, 'mutation($id:ID!){ updatePreset(id:$id, input:{ name:"Mine now", template:"{prompt}" }){ id } }', { id }, u.token);
    expect(upd.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await presetId(u.token, 'Oil Painting')).toBe(id);
  });

  it('custom presets are private to their owner: invisible to and undeletable by others', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const created = await gqlData<any>(app.url, CREATE, { i: { name: 'Noir', template: '{prompt}, film noir, black and white', steps: 12, width: 512, height: 512 } }, a.token);
    const id = created.createPreset.id;
    expect(created.createPreset).toMatchObject({ name: 'Noir', mine: true, session: null });
    const bList = await gqlData<any>(app.url, LIST, {}, b.token);
    expect(bList.presets.map((p: any) => p.id)).not.toContain(id);
    const bApply = await gql<any>(app.url, 'mutation($id:ID!){ applyPreset(id:$id, prompt:"x"){ prompt } }', { id }, b.token);
    expect(bApply.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const bDel = await gql<any>(app.url, 'mutation($id:ID!){ deletePreset(id:$id) }', { id }, b.token);
    expect(bDel.errors?.[0].extensions?.code).toBe('NOT_FOUND');

    const upd = await gqlData<any>(app.url, 'mutation($id:ID!){ updatePreset(id:$id, input:{ name:"Noir 2", template:"noir: {prompt}" }){ name template steps } }', { id }, a.token);
    expect(upd.updatePreset).toEqual({ name: 'Noir 2', template: 'noir: {prompt}', steps: null });
    expect((await gqlData<any>(app.url, 'mutation($id:ID!){ deletePreset(id:$id) }', { id }, a.token)).deletePreset).toBe(true);
    expect((await gqlData<any>(app.url, LIST, {}, a.token)).presets.map((p: any) => p.id)).not.toContain(id);
  });

  it('validates input with the field and stores nothing', async () => {
    const a = await signUp(app.url);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', template: 'no placeholder' }, 'template'],
      [{ name: '', template: '{prompt}' }, 'name'],
      [{ name: 'x', template: '{prompt}', width: 100 }, 'width'],
      [{ name: 'x', template: '{prompt}', guidanceScale: 99 }, 'guidanceScale'],
      [{ name: 'x', template: '{prompt}', loras: [{ loraId: '00000000-0000-4000-8000-000000000000', weight: 1 }] }, 'loras[0].loraId'],
      [{ name: 'x', template: '{prompt}', modelId: '00000000-0000-4000-8000-000000000000' }, 'modelId'],
      // Nothing visible: zero-width spaces and a word joiner.
      [{ name: '\u200b\u2060', template: '{prompt}' }, 'name'],
      // A built-in's name, in any case: the picker could not tell them apart.
      [{ name: 'photoREALISTIC', template: '{prompt}' }, 'name'],
      // Clip fields on an image preset would be stored and never used.
      [{ name: 'x', template: '{prompt}', durationSeconds: 3 }, 'durationSeconds'],
      [{ name: 'x', template: '{prompt}', category: 'IMAGE', fps: 24 }, 'fps'],
    ];
    for (const [input, field] of cases) {
      const res = await gql<any>(app.url, CREATE, { i: input }, a.token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const mine = (await gqlData<any>(app.url, LIST, {}, a.token)).presets.filter((p: any) => !p.builtIn);
    expect(mine).toEqual([]);
  });

  it('a preset shared with a session is visible to its members', async () => {
    const a = await signUp(app.url);
    const b = await signUp(app.url);
    const session = await gqlData<any>(app.url, 'mutation { createSession(name:"team") { id } }', {}, a.token);
    const sessionId = session.createSession.id;
    const invite = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role:COLLABORATOR){ token } }', { s: sessionId }, a.token);
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t){ id } }', { t: invite.createSessionInvite.token }, b.token);
    const created = await gqlData<any>(app.url, CREATE, { i: { name: 'Team look', template: '{prompt}, pastel', sessionId } }, a.token);
    const bList = await gqlData<any>(app.url, LIST, {}, b.token);
    expect(bList.presets.find((p: any) => p.id === created.createPreset.id)).toMatchObject({ name: 'Team look', mine: false });
    const bDel = await gql<any>(app.url, 'mutation($id:ID!){ deletePreset(id:$id) }', { id: created.createPreset.id }, b.token);
    expect(bDel.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('usage counts rank popular presets (createGeneration with presetId counts)', async () => {
    const a = await signUp(app.url);
    const anime = await presetId(a.token, 'Anime Style');
    await app.db.query('UPDATE presets SET usage_count = usage_count + 1000 WHERE id = $1', [anime]);
    const res = await gqlData<any>(app.url, '{ popularPresets(limit:2){ name usageCount } }', {}, a.token);
    expect(res.popularPresets[0].name).toBe('Anime Style');
    const noir = await gqlData<any>(app.url, CREATE, { i: { name: 'Small', template: 'tiny {prompt}', width: 64, height: 64, steps: 2 } }, a.token);
    const job = await gqlData<any>(app.url, 'mutation($p:ID!){ createGeneration(input:{ prompt:"cat", presetId:$p, steps:3 }){ prompt width steps } }', { p: noir.createPreset.id }, a.token);
    expect(job.createGeneration).toEqual({ prompt: 'tiny cat', width: 64, steps: 3 });
    const after = await gqlData<any>(app.url, LIST, {}, a.token);
    expect(after.presets.find((p: any) => p.name === 'Small')).toBeDefined();
    const count = await app.db.query('SELECT usage_count FROM presets WHERE id = $1', [noir.createPreset.id]);
    expect(count[0].usage_count).toBe(1);
  });
});
