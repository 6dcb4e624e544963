import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp, waitFor } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { generate, seedImages, seedLora } from '../support/library';
import { LoraVisibility } from '../../src/entities';
import { readPngInfo } from '../../src/gpu-worker/pipeline/png';
import { loraStorageKey } from '../../src/services/loras';

// Private LoRAs (docs/security.md, "Private LoRAs"): their owner's alone until published, one version at a time.
let app: TestApp;
let admin: string;
let baseModelId: string;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ADMIN_EMAIL: 'visibility-root@example.com', ATELIER_ADMIN_PASSWORD: 'admin password 1' });
  admin = (await gqlData<any>(app.url, 'mutation { login(email:"visibility-root@example.com", password:"admin password 1"){ token } }')).login.token;
  baseModelId = (await gqlData<any>(app.url, '{ models { id isDefault } }', {}, admin)).models.find((m: any) => m.isDefault).id;
});
afterAll(() => app?.close());

const REGISTER = 'mutation($i:LoraInput!){ registerLora(input:$i){ id name version visibility usable mine } }';
const LIST = '{ loras { id visibility usable } }';
const SET_VISIBILITY = 'mutation($l:ID!, $v:LoraVisibility!){ setLoraVisibility(id:$l, visibility:$v){ id visibility usable } }';
const USES = {
  createGeneration: 'mutation($l:ID!){ createGeneration(input:{ prompt:"x", width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }',
  createVideo: 'mutation($l:ID!){ createVideo(input:{ prompt:"x", width:64, height:64, steps:1, durationSeconds:0.5, fps:2, loras:[{ loraId:$l, weight:1 }] }){ id } }',
  createBatch: 'mutation($l:ID!){ createBatch(input:{ prompts:["x","y"], width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }',
  createPreset: 'mutation($l:ID!){ createPreset(input:{ name:"with a LoRA", template:"{prompt}", loras:[{ loraId:$l, weight:1 }] }){ id } }',
};
const CHANGES = {
  setLoraVisibility: 'mutation($l:ID!){ setLoraVisibility(id:$l, visibility:PUBLIC){ id } }',
  setLoraActive: 'mutation($l:ID!){ setLoraActive(id:$l, active:false){ id } }',
};

/** Uploads a valid LoRA file as `token` and registers it; `extra` goes into the LoraInput. */
async function register(token: string, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${app.url}/uploads`, {
    method: 'POST', body: new Uint8Array(await factory.loraFile(app)), headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
  });
  const { uploadId } = (await res.json()) as { uploadId: string };
  return (await gqlData<any>(app.url, REGISTER, { i: { uploadId, name, baseModelId, ...extra } }, token)).registerLora;
}

/** What a refusal tells the caller: every error's message, extensions and path. */
async function refusal(query: string, variables: Record<string, unknown>, token: string): Promise<unknown> {
  const res = await gql<any>(app.url, query, variables, token);
  expect(res.errors?.length).toBeGreaterThan(0);
  return res.errors!.map((e: any) => ({ message: e.message, extensions: e.extensions, path: e.path }));
}

const listed = async (token: string, id: string) => (await gqlData<any>(app.url, LIST, {}, token)).loras.find((l: any) => l.id === id);

/** A session of `owner`'s that `member` has joined as a COLLABORATOR; its id. */
async function sharedSession(owner: string, member: string): Promise<string> {
  const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Private LoRA") { id } }', {}, owner);
  const { createSessionInvite } = await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: COLLABORATOR) { token } }', { s: createSession.id }, owner);
  await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: createSessionInvite.token }, member);
  return createSession.id;
}

describe('registering a LoRA', () => {
  it('is PRIVATE for an editor unless they ask for PUBLIC; an admin\'s catalogue LoRA is PUBLIC unless asked otherwise', async () => {
    const editor = await signUp(app.url, 'vis-editor');
    expect(await register(editor.token, 'Mine')).toMatchObject({ visibility: 'PRIVATE', usable: true, mine: true });
    expect(await register(editor.token, 'Shared', { visibility: 'PUBLIC' })).toMatchObject({ visibility: 'PUBLIC', usable: true });
    expect(await register(admin, 'Catalogue')).toMatchObject({ visibility: 'PUBLIC' });
    expect(await register(admin, 'Admin own', { visibility: 'PRIVATE' })).toMatchObject({ visibility: 'PRIVATE' });
  }, 60_000);
});

describe('another user\'s private LoRA', () => {
  const JOB = 'query($id:ID!){ job(id:$id){ loras { weight lora { id name } } } }';
  const loraOf = async (jobId: string, token: string) => (await gqlData<any>(app.url, JOB, { id: jobId }, token)).job.loras;

  it('its owner lists it and generates with it; to anyone else it is exactly an unknown id; an admin sees it but does not generate with it', async () => {
    const owner = await signUp(app.url, 'vis-owner');
    const other = await signUp(app.url, 'vis-other');
    const lora = await register(owner.token, `secret-${Date.now()}`);
    expect(await listed(owner.token, lora.id)).toEqual({ id: lora.id, visibility: 'PRIVATE', usable: true });
    expect((await generate(app.url, owner.token, { loras: [{ loraId: lora.id, weight: 0.5 }] })).status).toBe('COMPLETED');

    expect(await listed(other.token, lora.id)).toBeUndefined();
    for (const [name, query] of Object.entries(USES)) {
      const hidden = await refusal(query, { l: lora.id }, other.token);
      expect(hidden, name).toEqual(await refusal(query, { l: UNKNOWN_ID }, other.token));
      expect(hidden, name).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'loras[0].loraId' } }]);
      expect(JSON.stringify(hidden), name).not.toContain(lora.name);
    }
    for (const [name, query] of Object.entries(CHANGES)) {
      const hidden = await refusal(query, { l: lora.id }, other.token);
      expect(hidden, name).toEqual(await refusal(query, { l: UNKNOWN_ID }, other.token));
      expect(hidden, name).toMatchObject([{ message: 'LoRA not found', extensions: { code: 'NOT_FOUND' } }]);
    }
    expect((await app.db.query('SELECT visibility, active FROM loras WHERE id = $1', [lora.id]))[0]).toEqual({ visibility: 'PRIVATE', active: true });

    // An admin sees it, is told why it is not theirs to apply, and may change it.
    expect(await listed(admin, lora.id)).toEqual({ id: lora.id, visibility: 'PRIVATE', usable: false });
    expect(await refusal(USES.createGeneration, { l: lora.id }, admin)).toMatchObject([{
      message: `LoRA ${lora.name} is private: only its owner generates with it`, extensions: { code: 'BAD_USER_INPUT', field: 'loras[0].loraId' },
    }]);
    expect((await gqlData<any>(app.url, SET_VISIBILITY, { l: lora.id, v: 'PUBLIC' }, admin)).setLoraVisibility).toEqual({ id: lora.id, visibility: 'PUBLIC', usable: true });
    expect(await listed(other.token, lora.id)).toEqual({ id: lora.id, visibility: 'PUBLIC', usable: true });
  }, 60_000);


  it('in its owner\'s preset shared with a session: an admin there may edit the preset and keep it, not bundle their own private LoRA', async () => {
    const owner = await signUp(app.url, 'vis-preset-owner');
    const lora = await register(owner.token, `bundled-${Date.now()}`);
    // An admin sees someone's preset where it is shared with a session the admin is in (docs/security.md).
    const sessionId = await sharedSession(owner.token, admin);
    const CREATE = 'mutation($i:PresetInput!){ createPreset(input:$i){ id } }';
    const UPDATE = 'mutation($p:ID!, $i:PresetInput!){ updatePreset(id:$p, input:$i){ id name loras { weight lora { id } } } }';
    const input = (name: string, loras: { loraId: string; weight: number }[]) => ({ name, template: '{prompt}, moderated', sessionId, loras });
    const presetId = (await gqlData<any>(app.url, CREATE, { i: input('the owner\'s', [{ loraId: lora.id, weight: 1 }]) }, owner.token)).createPreset.id;

    const edited = (await gqlData<any>(app.url, UPDATE, { p: presetId, i: input('renamed by an admin', [{ loraId: lora.id, weight: 0.7 }]) }, admin)).updatePreset;
    expect(edited).toEqual({ id: presetId, name: 'renamed by an admin', loras: [{ weight: 0.7, lora: { id: lora.id } }] });

    // The admin's own private LoRA is not the owner's to apply: refused, and the preset is unchanged.
    const adminsOwn = await register(admin, `admins-own-${Date.now()}`, { visibility: 'PRIVATE' });
    expect(await refusal(UPDATE, { p: presetId, i: input('with the admin\'s', [{ loraId: adminsOwn.id, weight: 1 }]) }, admin)).toMatchObject([{
      message: `LoRA ${adminsOwn.name} is private: only its owner generates with it`, extensions: { code: 'BAD_USER_INPUT', field: 'loras[0].loraId' },
    }]);
    const [row] = await app.db.query('SELECT name, loras FROM presets WHERE id = $1', [presetId]);
    expect(row).toEqual({ name: 'renamed by an admin', loras: [{ loraId: lora.id, weight: 0.7 }] });
    // The owner generates with the preset an admin edited.
    const job = await generate(app.url, owner.token, { presetId });
    expect(await loraOf(job.id, owner.token)).toEqual([{ weight: 0.7, lora: { id: lora.id, name: lora.name } }]);
  }, 60_000);
  it('on a job in a shared session reads to the other members as a deleted LoRA; its owner sees it', async () => {
    const owner = await signUp(app.url, 'vis-session-owner');
    const member = await signUp(app.url, 'vis-member');
    const sessionId = await sharedSession(owner.token, member.token);
    const lora = await seedLora(app.db, owner.id, `session-secret-${Date.now()}`, { visibility: LoraVisibility.PRIVATE });
    const [withPrivate] = await seedImages(app.db, owner.id, 1, { sessionId, loras: [{ loraId: lora.id, weight: 0.7 }] });
    const [withUnknown] = await seedImages(app.db, owner.id, 1, { sessionId, loras: [{ loraId: UNKNOWN_ID, weight: 0.7 }] });

    expect(await loraOf(withPrivate.jobId, member.token)).toEqual([{ weight: 0.7, lora: null }]);
    expect(await loraOf(withPrivate.jobId, member.token)).toEqual(await loraOf(withUnknown.jobId, member.token));
    expect(await loraOf(withPrivate.jobId, owner.token)).toEqual([{ weight: 0.7, lora: { id: lora.id, name: lora.name } }]);
    expect(await loraOf(withPrivate.jobId, admin)).toEqual([{ weight: 0.7, lora: { id: lora.id, name: lora.name } }]);
  });

  it('an inactive public one reads to the other members as a deleted LoRA, as loras leaves it out; its owner and admins see it', async () => {
    const owner = await signUp(app.url, 'vis-inactive-owner');
    const member = await signUp(app.url, 'vis-inactive-member');
    const sessionId = await sharedSession(owner.token, member.token);
    const lora = await seedLora(app.db, owner.id, `switched-off-${Date.now()}`, { active: false });
    const [withInactive] = await seedImages(app.db, owner.id, 1, { sessionId, loras: [{ loraId: lora.id, weight: 0.4 }] });
    const [withUnknown] = await seedImages(app.db, owner.id, 1, { sessionId, loras: [{ loraId: UNKNOWN_ID, weight: 0.4 }] });

    expect(await listed(member.token, lora.id)).toBeUndefined();
    expect(await loraOf(withInactive.jobId, member.token)).toEqual([{ weight: 0.4, lora: null }]);
    expect(await loraOf(withInactive.jobId, member.token)).toEqual(await loraOf(withUnknown.jobId, member.token));
    for (const token of [owner.token, admin]) {
      expect(await listed(token, lora.id)).toMatchObject({ id: lora.id });
      expect(await loraOf(withInactive.jobId, token)).toEqual([{ weight: 0.4, lora: { id: lora.id, name: lora.name } }]);
    }

    // Switched back on, it is named to everyone again, as loras lists it.
    await gqlData(app.url, 'mutation($l:ID!){ setLoraActive(id:$l, active:true){ id } }', { l: lora.id }, owner.token);
    expect(await listed(member.token, lora.id)).toMatchObject({ id: lora.id });
    expect(await loraOf(withInactive.jobId, member.token)).toEqual([{ weight: 0.4, lora: { id: lora.id, name: lora.name } }]);
  });
});

describe('what a job made with a private LoRA shows those who see the job', () => {
  const JOB = 'query($id:ID!){ job(id:$id){ status error { code message } images { url } } }';
  const pngText = async (url: string) => readPngInfo(Buffer.from(await (await fetch(url)).arrayBuffer())).text;

  it('its images\' PNG metadata names it by id while it is private, a public one by name', async () => {
    const owner = await signUp(app.url, 'vis-png-owner');
    const member = await signUp(app.url, 'vis-png-member');
    const sessionId = await sharedSession(owner.token, member.token);
    const secret = await register(owner.token, `png-secret-${Date.now()}`);
    const made = await generate(app.url, owner.token, { sessionId, loras: [{ loraId: secret.id, weight: 0.5 }] });
    const { job } = await gqlData<any>(app.url, JOB, { id: made.id }, member.token);
    const text = await pngText(job.images[0].url);
    expect(JSON.stringify(text)).not.toContain(secret.name);
    expect(JSON.parse(text.loras)).toEqual([{ name: secret.id, weight: 0.5 }]);
    expect(text.parameters).toContain(`Loras: ${secret.id}:0.5`);

    await gqlData(app.url, SET_VISIBILITY, { l: secret.id, v: 'PUBLIC' }, owner.token);
    const published = await generate(app.url, owner.token, { sessionId, loras: [{ loraId: secret.id, weight: 0.5 }] });
    const after = await gqlData<any>(app.url, JOB, { id: published.id }, member.token);
    expect(JSON.parse((await pngText(after.job.images[0].url)).loras)).toEqual([{ name: secret.name, weight: 0.5 }]);
  }, 60_000);

  it('a failed job\'s error names it by id', async () => {
    const owner = await signUp(app.url, 'vis-error-owner');
    const member = await signUp(app.url, 'vis-error-member');
    const sessionId = await sharedSession(owner.token, member.token);
    // A file that no longer fits the model (as after the model was replaced): the worker fails the job on it.
    const id = randomUUID();
    const bytes = await factory.loraFile(app, { badShape: true });
    await app.services.store.put(loraStorageKey(id), bytes, 'application/octet-stream');
    const misfit = await seedLora(app.db, owner.id, `misfit-secret-${Date.now()}`, {
      id, storageKey: loraStorageKey(id), sha256: createHash('sha256').update(bytes).digest('hex'), visibility: LoraVisibility.PRIVATE,
    });
    const failed = await factory.job(app, owner, { sessionId, loras: [{ loraId: misfit.id, weight: 1 }] }, { wait: true });
    const { job } = await gqlData<any>(app.url, JOB, { id: failed.id }, member.token);
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'LORA_MISMATCH', message: expect.stringContaining(`LoRA ${misfit.id} `) } });
    expect(JSON.stringify(job)).not.toContain(misfit.name);
  }, 60_000);
});

describe('setLoraVisibility', () => {
  it('publishes one version, subject to the tier; taken back, new jobs are refused while an admitted one finishes', async () => {
    const owner = await signUp(app.url, 'vis-publisher');
    const other = await signUp(app.url, 'vis-user');
    const v1 = await register(owner.token, 'Versions');
    const v2 = await register(owner.token, 'Versions');
    expect((await gqlData<any>(app.url, SET_VISIBILITY, { l: v2.id, v: 'PUBLIC' }, owner.token)).setLoraVisibility).toEqual({ id: v2.id, visibility: 'PUBLIC', usable: true });
    // Per version: v1 stays the owner's.
    expect(await listed(owner.token, v1.id)).toMatchObject({ visibility: 'PRIVATE' });
    expect(await listed(other.token, v1.id)).toBeUndefined();
    expect(await listed(other.token, v2.id)).toEqual({ id: v2.id, visibility: 'PUBLIC', usable: true });
    expect((await generate(app.url, other.token, { loras: [{ loraId: v2.id, weight: 1 }] })).status).toBe('COMPLETED');

    // Public is still subject to minTier.
    const SET_TIER = 'mutation($l:ID!, $t:Tier!){ setLoraMinTier(id:$l, minTier:$t){ id } }';
    await gqlData(app.url, SET_TIER, { l: v2.id, t: 'PRO' }, admin);
    expect(await listed(other.token, v2.id)).toMatchObject({ usable: false });
    expect(await refusal(USES.createGeneration, { l: v2.id }, other.token)).toMatchObject([{ extensions: { code: 'QUOTA_EXCEEDED', field: 'loras[0].loraId' } }]);
    await gqlData(app.url, SET_TIER, { l: v2.id, t: 'FREE' }, admin);

    // A job admitted while it was public runs on after it is taken back; a new one is refused as for an unknown id.
    await app.worker!.bullWorker.pause();
    let admitted: { id: string };
    try {
      admitted = await factory.job(app, other, { loras: [{ loraId: v2.id, weight: 1 }] });
      await gqlData(app.url, SET_VISIBILITY, { l: v2.id, v: 'PRIVATE' }, owner.token);
    } finally {
      app.worker!.bullWorker.resume();
    }
    expect(await refusal(USES.createGeneration, { l: v2.id }, other.token)).toEqual(await refusal(USES.createGeneration, { l: UNKNOWN_ID }, other.token));
    expect(await listed(other.token, v2.id)).toBeUndefined();
    const finished = await waitFor(async () => {
      const { job } = await gqlData<any>(app.url, 'query($id:ID!){ job(id:$id){ status error { message } } }', { id: admitted.id }, other.token);
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : null;
    }, 60_000);
    expect(finished).toEqual({ status: 'COMPLETED', error: null });
  }, 120_000);

  it('a replay of a request admitted while it was public returns that job or batch; a new request is refused as for an unknown id', async () => {
    const owner = await signUp(app.url, 'vis-replay-owner');
    const other = await signUp(app.url, 'vis-replay-user');
    const lora = await register(owner.token, 'Replayed', { visibility: 'PUBLIC' });
    const GENERATION = 'mutation($k:String!, $l:ID!){ createGeneration(idempotencyKey:$k, input:{ prompt:"x", width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }';
    const BATCH = 'mutation($k:String!, $l:ID!){ createBatch(idempotencyKey:$k, input:{ prompts:["x"], width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }';
    const job = await gqlData<any>(app.url, GENERATION, { k: 'replayed-job', l: lora.id }, other.token);
    const batch = await gqlData<any>(app.url, BATCH, { k: 'replayed-batch', l: lora.id }, other.token);
    await gqlData(app.url, SET_VISIBILITY, { l: lora.id, v: 'PRIVATE' }, owner.token);

    expect(await gqlData<any>(app.url, GENERATION, { k: 'replayed-job', l: lora.id }, other.token)).toEqual(job);
    expect(await gqlData<any>(app.url, BATCH, { k: 'replayed-batch', l: lora.id }, other.token)).toEqual(batch);
    expect(await refusal(GENERATION, { k: 'new-job', l: lora.id }, other.token)).toEqual(await refusal(GENERATION, { k: 'new-job-2', l: UNKNOWN_ID }, other.token));
    expect(await refusal(BATCH, { k: 'new-batch', l: lora.id }, other.token)).toEqual(await refusal(BATCH, { k: 'new-batch-2', l: UNKNOWN_ID }, other.token));
    const [{ count }] = await app.db.query('SELECT count(*)::int AS count FROM jobs WHERE owner_id = $1', [other.id]);
    expect(count).toBe(2);
  }, 60_000);

  it('refuses a malformed id or an unknown visibility with BAD_USER_INPUT on the field, and changes nothing', async () => {
    const owner = await signUp(app.url, 'vis-bad-input');
    const lora = await seedLora(app.db, owner.id, `bad-input-${Date.now()}`, { visibility: LoraVisibility.PRIVATE });
    const badId = await gql<any>(app.url, SET_VISIBILITY, { l: 'not-an-id', v: 'PUBLIC' }, owner.token);
    expect(badId.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    // A variable that does not coerce is named by the variable (kernel/errors.ts, fieldOfBadVariable): here, as the argument.
    const badValue = await gql<any>(app.url, 'mutation($id:ID!, $visibility:LoraVisibility!){ setLoraVisibility(id:$id, visibility:$visibility){ id } }',
      { id: lora.id, visibility: 'EVERYONE' }, owner.token);
    expect(badValue.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'visibility' });
    expect((await app.db.query('SELECT visibility FROM loras WHERE id = $1', [lora.id]))[0].visibility).toBe('PRIVATE');
  });
});
