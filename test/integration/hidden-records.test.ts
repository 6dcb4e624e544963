import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { seedLora } from '../support/library';

// Records a caller cannot see are answered exactly as ids that do not exist (docs/security.md).
let app: TestApp;
let admin: string;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ADMIN_EMAIL: 'hidden-root@example.com', ATELIER_ADMIN_PASSWORD: 'admin password 1' });
  admin = (await gqlData<any>(app.url, 'mutation { login(email:"hidden-root@example.com", password:"admin password 1"){ token } }')).login.token;
});
afterAll(() => app?.close());

/** What a refusal tells the caller: every error's message and extensions. */
async function refusal(query: string, variables: Record<string, unknown>, token: string): Promise<unknown> {
  const res = await gql<any>(app.url, query, variables, token);
  expect(res.errors?.length).toBeGreaterThan(0);
  return res.errors!.map((e: any) => ({ message: e.message, extensions: e.extensions, path: e.path }));
}

const USES = {
  createGeneration: 'mutation($l:ID!){ createGeneration(input:{ prompt:"x", width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }',
  createVideo: 'mutation($l:ID!){ createVideo(input:{ prompt:"x", width:64, height:64, steps:1, durationSeconds:0.5, fps:2, loras:[{ loraId:$l, weight:1 }] }){ id } }',
  createBatch: 'mutation($l:ID!){ createBatch(input:{ prompts:["x","y"], width:64, height:64, steps:1, loras:[{ loraId:$l, weight:1 }] }){ id } }',
};
const SET_ACTIVE = 'mutation($l:ID!){ setLoraActive(id:$l, active:true){ id active } }';

describe('another user\'s inactive LoRA', () => {
  it('reads exactly as an unknown id to createGeneration, createVideo, createBatch and setLoraActive', async () => {
    const owner = await signUp(app.url, 'lora-owner');
    const other = await signUp(app.url, 'lora-other');
    const lora = await seedLora(app.db, owner.id, `secret-${Date.now()}`);
    await gqlData(app.url, 'mutation($l:ID!){ setLoraActive(id:$l, active:false){ active } }', { l: lora.id }, owner.token);

    for (const [name, query] of Object.entries(USES)) {
      const hidden = await refusal(query, { l: lora.id }, other.token);
      expect(hidden, name).toEqual(await refusal(query, { l: UNKNOWN_ID }, other.token));
      expect(hidden, name).toMatchObject([{ message: 'LoRA not found', extensions: { code: 'BAD_USER_INPUT', field: 'loras[0].loraId' } }]);
      expect(JSON.stringify(hidden)).not.toContain(lora.name);
      // Its owner (who lists it) is told why.
      expect(await refusal(query, { l: lora.id }, owner.token), name).toMatchObject([{ message: `LoRA ${lora.name} is inactive`, extensions: { field: 'loras[0].loraId' } }]);
    }

    const hidden = await refusal(SET_ACTIVE, { l: lora.id }, other.token);
    expect(hidden).toEqual(await refusal(SET_ACTIVE, { l: UNKNOWN_ID }, other.token));
    expect(hidden).toMatchObject([{ message: 'LoRA not found', extensions: { code: 'NOT_FOUND' } }]);
    expect((await gqlData<any>(app.url, SET_ACTIVE, { l: lora.id }, admin)).setLoraActive).toEqual({ id: lora.id, active: true });
    // Active, it is listed to everyone: a non-owner is told they may not change it.
    expect(await refusal(SET_ACTIVE, { l: lora.id }, other.token)).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
  });
});

describe('a LoRA above the caller\'s tier', () => {
  it('is QUOTA_EXCEEDED on loras[i].loraId, naming the tier it needs, as the other tier caps', async () => {
    const owner = await signUp(app.url, 'tier-owner');
    const free = await signUp(app.url, 'tier-free');
    const pro = await seedLora(app.db, owner.id, `pro-${Date.now()}`);
    await gqlData(app.url, 'mutation($l:ID!){ setLoraMinTier(id:$l, minTier:PRO){ id } }', { l: pro.id }, admin);
    const res = await gql<any>(app.url, USES.createGeneration, { l: pro.id }, free.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', field: 'loras[0].loraId', limit: 0 });
    expect(res.errors?.[0].message).toBe(`LoRA ${pro.name} needs the PRO tier (yours is FREE); upgrade to use it`);
  });
});

describe('a model above the caller\'s tier', () => {
  it('is QUOTA_EXCEEDED on modelId, naming the tier it needs, as a LoRA above it', async () => {
    const free = await signUp(app.url, 'model-free');
    const [model] = await app.db.query(`SELECT id, name FROM models WHERE enabled ORDER BY name LIMIT 1`);
    const SET_TIER = 'mutation($m:ID!, $t:Tier!){ setModelMinTier(id:$m, minTier:$t){ id } }';
    await gqlData(app.url, SET_TIER, { m: model.id, t: 'PRO' }, admin);
    try {
      const res = await gql<any>(app.url, 'mutation($m:ID!){ createGeneration(input:{ prompt:"x", modelId:$m }){ id } }', { m: model.id }, free.token);
      expect(res.errors?.[0].extensions).toEqual({ code: 'QUOTA_EXCEEDED', field: 'modelId', limit: 0, retryAfterSeconds: null });
      expect(res.errors?.[0].message).toBe(`Model ${model.name} needs the PRO tier (yours is FREE); upgrade to use it`);
    } finally {
      await gqlData(app.url, SET_TIER, { m: model.id, t: 'FREE' }, admin);
    }
  });
});

describe('an unknown or hidden session named in a request', () => {
  it('is NOT_FOUND with the field that named it', async () => {
    const user = await signUp(app.url, 'session-field');
    const res = await gql<any>(app.url, 'mutation($s:ID!){ createGeneration(input:{ prompt:"x", sessionId:$s }){ id } }', { s: UNKNOWN_ID }, user.token);
    expect(res.errors?.[0].extensions).toEqual({ code: 'NOT_FOUND', field: 'sessionId' });
    const feed = await gql<any>(app.url, 'query($s:ID!){ jobs(sessionId:$s){ edges { node { id } } } }', { s: UNKNOWN_ID }, user.token);
    expect(feed.errors?.[0].extensions).toEqual({ code: 'NOT_FOUND', field: 'sessionId' });
  });
});

describe('revokeSessionInvite', () => {
  it('by a non-member reads exactly as an unknown invite; a member who is not the owner is refused', async () => {
    const owner = await signUp(app.url, 'invite-owner');
    const member = await signUp(app.url, 'invite-member');
    const outsider = await signUp(app.url, 'invite-outsider');
    const { createSession } = await gqlData<any>(app.url, 'mutation { createSession(name: "Invites") { id } }', {}, owner.token);
    const invite = async () => (await gqlData<any>(app.url, 'mutation($s:ID!){ createSessionInvite(sessionId:$s, role: WATCHER) { token invite { id } } }',
      { s: createSession.id }, owner.token)).createSessionInvite;
    const first = await invite();
    await gqlData(app.url, 'mutation($t:String!){ joinSession(token:$t) { id } }', { t: first.token }, member.token);
    const { invite: { id } } = await invite();

    const REVOKE = 'mutation($i:ID!){ revokeSessionInvite(id:$i){ id revokedAt } }';
    const byOutsider = await refusal(REVOKE, { i: id }, outsider.token);
    expect(byOutsider).toEqual(await refusal(REVOKE, { i: UNKNOWN_ID }, outsider.token));
    expect(byOutsider).toMatchObject([{ message: 'Invite not found', extensions: { code: 'NOT_FOUND' } }]);
    expect(await refusal(REVOKE, { i: id }, member.token)).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
    expect((await gqlData<any>(app.url, REVOKE, { i: id }, owner.token)).revokeSessionInvite).toMatchObject({ id, revokedAt: expect.any(String) });
  });
});
