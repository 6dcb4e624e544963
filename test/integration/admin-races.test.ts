/**
 * Admin changes that race (docs/security.md, "Admins"): two admins demoting
 * each other at once leave one admin, the last admin cannot delete their
 * account, and the default model is never disabled, however the calls
 * interleave. On PostgreSQL (CI) the calls really overlap; the row locks and
 * conditional updates decide.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiModel, Role, User } from '../../src/entities';
import { startTestApp, type TestApp } from '../support/app';
import { remoteModel } from '../support/backend-models';
import * as factory from '../support/factories';
import { gql, gqlData } from '../support/graphql';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

const SET_ROLE = 'mutation($u:ID!, $r:Role!){ setUserRole(userId:$u, role:$r){ id role } }';
const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code ?? 'ok';

describe('admins', () => {
  it('two admins demoting each other at once: one wins, the other is refused, and an admin remains', async () => {
    for (let round = 0; round < 5; round += 1) {
      const [a, b] = [await factory.user(app, { role: 'ADMIN' }), await factory.user(app, { role: 'ADMIN' })];
      // The other admins of this app (earlier rounds, the factory's) step aside: these two are the only ones.
      await app.db.query(`UPDATE users SET role = 'EDITOR' WHERE role = 'ADMIN' AND id NOT IN ($1, $2)`, [a.id, b.id]);
      const results = await Promise.all([gql(app.url, SET_ROLE, { u: b.id, r: 'EDITOR' }, a.token), gql(app.url, SET_ROLE, { u: a.id, r: 'EDITOR' }, b.token)]);
      expect(results.map(codeOf).sort()).toEqual(['FORBIDDEN', 'ok']);
      expect(await app.db.getRepository(User).countBy({ role: Role.ADMIN })).toBe(1);
    }
  });

  it('the only admin cannot delete their account (CONFLICT), and nothing is deleted', async () => {
    const only = await factory.user(app, { role: 'ADMIN' });
    await app.db.query(`UPDATE users SET role = 'EDITOR' WHERE role = 'ADMIN' AND id <> $1`, [only.id]);
    const refused = await gql(app.url, 'mutation($e:String!){ deleteAccount(confirmEmail:$e) }', { e: only.email }, only.token);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' }, message: expect.stringContaining('only admin') });
    expect(await app.db.getRepository(User).existsBy({ id: only.id })).toBe(true);
  });
});

describe('the default model', () => {
  it('made the default and disabled at once: never both', async () => {
    const admin = await factory.user(app, { role: 'ADMIN' });
    const original = await app.db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
    try {
      for (let round = 0; round < 5; round += 1) {
        // An enabled ONNX-less row will do: neither mutation loads the model.
        const id = await remoteModel(app, { backend: 'COMFYUI', endpoints: ['http://127.0.0.1:9'] });
        const results = await Promise.all([
          gql(app.url, 'mutation($id:ID!){ setDefaultModel(id:$id){ id } }', { id }, admin.token),
          gql(app.url, 'mutation($id:ID!){ setModelEnabled(id:$id, enabled:false){ id } }', { id }, admin.token),
        ]);
        const row = await app.db.getRepository(AiModel).findOneByOrFail({ id });
        expect(row.isDefault && !row.enabled).toBe(false);
        expect(results.map(codeOf)).toContain('ok');
        expect(await app.db.getRepository(AiModel).countBy({ isDefault: true })).toBe(1);
        await gqlData(app.url, 'mutation($id:ID!){ setDefaultModel(id:$id){ id } }', { id: original.id }, admin.token);
      }
    } finally {
      await gqlData(app.url, 'mutation($id:ID!){ setDefaultModel(id:$id){ id } }', { id: original.id }, admin.token);
    }
  });
});
