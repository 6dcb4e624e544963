import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData, signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
let token: string;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  token = (await signUp(app.url)).token;
});
afterAll(() => app?.close());

describe('prompt suggestions', () => {
  it('suggestions(query: "portrait") puts a prefix match first, then word-prefix matches', async () => {
    const res = await gqlData<any>(app.url, '{ suggestions(query:"portrait", limit:5){ text category } }', {}, token);
    const texts = res.suggestions.map((s: any) => s.text);
    expect(texts[0]).toMatch(/^portrait/);
    expect(res.suggestions[0].category).toBe('SUBJECTS');
    expect(texts).toContain('close-up portrait');
    expect(texts.findIndex((t: string) => !t.startsWith('portrait'))).toBeGreaterThan(0);
    const bad = await gql<any>(app.url, '{ suggestions(query:"a", limit:0){ text } }', {}, token);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
  });

  it('enhancePrompt adds terms without repeating what the prompt has', async () => {
    const res = await gqlData<any>(app.url, 'mutation { enhancePrompt(prompt:"a lighthouse, high quality", addQuality:true, addStyle:true){ prompt addedTerms } }', {}, token);
    expect(res.enhancePrompt.addedTerms).not.toContain('high quality');
    expect(res.enhancePrompt.addedTerms).toContain('cinematic lighting');
    expect(res.enhancePrompt.prompt.startsWith('a lighthouse, high quality, highly detailed')).toBe(true);
    expect(res.enhancePrompt.prompt.match(/high quality/g)).toHaveLength(1);
  });

  it('randomPrompts composes subject, style, lighting and quality; signed-in only', async () => {
    const res = await gqlData<any>(app.url, '{ randomPrompts(count:3) }', {}, token);
    expect(res.randomPrompts).toHaveLength(3);
    for (const p of res.randomPrompts) expect(p.split(', ')).toHaveLength(4);
    const anon = await gql<any>(app.url, '{ randomPrompts }');
    expect(anon.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
