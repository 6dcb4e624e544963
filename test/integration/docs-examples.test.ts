import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { collect, gql, wsClient } from '../support/graphql';

/*
 * docs/examples/*.graphql run against a live server, in name order, so every
 * example stays valid: each answers without errors. Variables come from the
 * file's `# variables:` line; "$job" is the job the examples created, and the
 * token is the one the register example returned.
 */
const DIR = path.resolve(__dirname, '../../docs/examples');
const files = readdirSync(DIR).filter((f) => f.endsWith('.graphql')).sort();

let app: TestApp;
let token: string | null = null;
let job: string | null = null;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

function variablesOf(source: string): Record<string, unknown> {
  const line = source.split('\n').find((l) => l.startsWith('# variables:'));
  expect(line, 'every example states its variables').toBeDefined();
  const raw = line!.slice('# variables:'.length).replaceAll('"$job"', JSON.stringify(job));
  return JSON.parse(raw) as Record<string, unknown>;
}

describe('docs/examples', () => {
  it('has examples', () => expect(files.length).toBeGreaterThan(5));

  for (const file of files) {
    it(`${file} runs as documented`, async () => {
      const source = readFileSync(path.join(DIR, file), 'utf8');
      const variables = variablesOf(source);
      if (/^\s*subscription\b/m.test(source)) {
        const stream = collect<any>(wsClient(app.url, token), source, variables);
        await stream.done;
        expect(stream.errors).toEqual([]);
        expect(stream.items.at(-1)?.jobUpdated?.type).toBe('COMPLETED');
        return;
      }
      const res = await gql<any>(app.url, source, variables, token);
      expect(res.errors, file).toBeUndefined();
      token ??= res.data?.register?.token ?? null;
      job ??= res.data?.createGeneration?.id ?? null;
    });
  }
});
