import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api', ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '3' });
});
afterAll(() => app?.close());

const LOGIN = 'mutation($e:String!, $p:String!){ login(email:$e, password:$p) { token } }';

describe('sign-in throttling', () => {
  it('limits password guesses per account and per address, with retryAfterSeconds', async () => {
    await gql(app.url, 'mutation { register(email:"target@example.com", password:"the real one") { token } }');
    const codes: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await gql(app.url, LOGIN, { e: 'target@example.com', p: `guess ${i}` });
      codes.push(res.errors?.[0].extensions?.code);
    }
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
    const blocked = await gql(app.url, LOGIN, { e: 'target@example.com', p: 'the real one' });
    expect(blocked.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 3 });
    expect(blocked.errors?.[0].extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // Sign-ups have their own allowance per address (one was used above).
    const signups = [];
    for (let i = 0; i < 3; i += 1) {
      signups.push((await gql(app.url, `mutation { register(email:"another${i}@example.com", password:"long enough pw") { token } }`)).errors?.[0].extensions?.code ?? 'OK');
    }
    expect(signups).toEqual(['OK', 'OK', 'RATE_LIMITED']);
  });
});
