import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlData } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { parsePrometheusText } from '../support/prometheus';
import { KNOWN_OPERATIONS } from '../../src/observability/known-operations';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
});
afterAll(() => app?.close());

async function operationLabels(): Promise<Map<string, number>> {
  const families = parsePrometheusText(await (await fetch(`${app.url}/metrics`)).text());
  const counts = new Map<string, number>();
  for (const s of families.get('atelier_graphql_operations_total')?.samples ?? []) {
    counts.set(s.labels.operation, (counts.get(s.labels.operation) ?? 0) + s.value);
  }
  return counts;
}

describe('the operation metric label', () => {
  it('205 made-up operation names from anonymous callers add no label values and do not push known ones into other', async () => {
    await gqlData(app.url, 'query Me { me { id } }');
    const before = await operationLabels();
    for (let i = 0; i < 205; i += 1) await gqlData(app.url, `query MadeUp${i}_${Math.random().toString(36).slice(2)} { me { id } }`);
    await gqlData(app.url, 'query Me { me { id } }');
    await gqlData(app.url, 'query Usage { __typename }');
    const after = await operationLabels();
    expect([...after.keys()].filter((label) => label.startsWith('MadeUp'))).toEqual([]);
    // Made-up names are labelled by their root field (bounded by the schema), known names by themselves.
    expect(after.get('me')).toBe(205);
    expect(after.get('Me')).toBe((before.get('Me') ?? 0) + 1);
    expect(after.get('Usage')).toBe(1);
    expect(after.has('other')).toBe(false);
    for (const label of after.keys()) expect(KNOWN_OPERATIONS.has(label) || ['me', 'other'].includes(label), label).toBe(true);
  });
});
