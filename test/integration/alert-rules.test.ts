import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/graphql';
import { parsePrometheusText, sample, type MetricFamily } from '../support/prometheus';

/*
 * An alert on a metric nobody exports never fires: every atelier_* name the
 * rules in deploy/prometheus/alerts.yml query must be on a live /metrics.
 */
const ALERTS = path.resolve(__dirname, '../../deploy/prometheus/alerts.yml');
const rules: { alert: string; expr: string }[] = (yaml.load(readFileSync(ALERTS, 'utf8')) as any).groups.flatMap((g: any) => g.rules);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

async function scrape(): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

/** The family a queried name belongs to: itself, or the histogram its _bucket/_sum/_count series come from. */
function familyOf(families: Map<string, MetricFamily>, name: string): MetricFamily | undefined {
  const histogram = name.match(/^(.*)_(bucket|sum|count)$/);
  const parent = histogram ? families.get(histogram[1]) : undefined;
  return families.get(name) ?? (parent?.type === 'histogram' ? parent : undefined);
}

describe('deploy/prometheus/alerts.yml against /metrics', () => {
  it('queries only metrics the running service exports', async () => {
    const families = await scrape();
    const queried = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\batelier_[a-z0-9_]+/g)].map((m) => m[0])));
    expect(queried.size).toBeGreaterThanOrEqual(6);
    for (const name of queried) expect(familyOf(families, name), `${name} is in alerts.yml but not on /metrics`).toBeDefined();
  });

  it('reports the workers whose heartbeat is fresh, which AtelierWorkerMissing watches', async () => {
    // The test app runs the API and one worker in one process; the worker beats at start.
    expect(await waitFor(async () => (sample(await scrape(), 'atelier_workers_online', {}) === 1 ? true : null), 10_000)).toBe(true);
    expect(rules.find((r) => r.alert === 'AtelierWorkerMissing')?.expr).toContain('atelier_workers_online');
  });
});
