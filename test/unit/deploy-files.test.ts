import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { AtelierMetrics } from '../../src/observability/metrics';

/*
 * No container engine runs here, so the deploy files are parsed and checked
 * against the code: ports, environment names the code reads, and every metric
 * the Grafana dashboard queries.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const compose = yaml.load(read('docker-compose.yml')) as any;
const prometheus = yaml.load(read('deploy/prometheus/prometheus.yml')) as any;
const dashboard = JSON.parse(read('deploy/grafana/dashboards/atelier.json'));
const dockerfile = read('Dockerfile');
/** Compose's variable interpolation (`${X}`, `${X:-default}`, `${X:?error}`) against `env`. */
function interpolate(value: unknown, env: Record<string, string>): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    if (env[name]) return env[name];
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

function environmentOf(service: any, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment).map(([k, v]) => [k, interpolate(v, env)]));
}

const defaults = loadConfig({ JWT_SECRET: 'x'.repeat(40), ATELIER_DATA_DIR: path.join(ROOT, '.test-data', 'config-defaults') });

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Environment variable names the code reads: `env.X`, `process.env.X`, and `(env, 'X'` in the config parser. */
function envNamesReadByCode(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:process\.env|env)\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]);
    for (const m of text.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]);
  }
  return names;
}

async function metricNames(): Promise<Map<string, string>> {
  const metrics = new AtelierMetrics({ role: 'test' });
  metrics.observeQueue(async () => ({ waiting: 0, active: 0, delayed: 0, failed: 0 }));
  metrics.observeWorkers(async () => 0);
  metrics.observeOwedEnds(() => ({ jobs: 0, runs: 0 }));
  metrics.observeWebSockets({ connections: () => 0, subscriptions: () => 0, activeSessions: () => 0 });
  return new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

describe('Dockerfile', () => {
  it('runs as a non-root user with production dependencies only, on the ports the config uses', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = stages[stages.length - 1];
    expect(runtime).toMatch(/^USER (?!root\b|0\b)\S+/m);
    expect(dockerfile).toMatch(/npm (prune|ci|install)[^\n]*--omit=dev/);
    expect(runtime).not.toMatch(/npm (ci|install)(?![^\n]*--omit=dev)/);
    const exposed = runtime.match(/^EXPOSE (.+)$/m)![1].split(/\s+/).map(Number);
    expect(exposed).toEqual([defaults.port, defaults.metricsPort]);
    expect(runtime).toContain(`PORT=${defaults.port}`);
    expect(runtime).toContain(`ATELIER_METRICS_PORT=${defaults.metricsPort}`);
    const entry = JSON.parse(runtime.match(/^ENTRYPOINT (.+)$/m)![1]);
    expect(entry).toEqual(['node', 'dist/src/main.js']);
    expect(existsSync(path.join(ROOT, 'src/main.ts'))).toBe(true);
    for (const copied of runtime.matchAll(/^COPY --from=build \/app\/(\S+)/gm)) expect(['package.json', 'node_modules', 'dist']).toContain(copied[1]);
  });

  it('copies into the build stage every folder that the code under src/ imports from', () => {
    const build = dockerfile.split(/^FROM /m)[1];
    const copied = [...build.matchAll(/^COPY (?!--from)(\S+) \.\/(\S+)$/gm)].map((m) => m[2].replace(/\/$/, ''));
    const outside = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts')) {
          for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
            const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
            if (!target.startsWith(`src${path.sep}`)) outside.add(target);
          }
        }
      }
    };
    walk(path.join(ROOT, 'src'));
    // The CLI's retries come from the SDK (sdk/src/retries.ts): the image's build needs that folder too.
    expect([...outside]).toContain(path.join('sdk', 'src', 'retries'));
    for (const target of outside) expect(copied.some((folder) => target.startsWith(`${folder}${path.sep}`)), `${target} is not copied`).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('has two API replicas, a worker, PostgreSQL and Redis', () => {
    expect(services.api.deploy.replicas).toBe(2);
    expect(services.api.command).toEqual(['api']);
    expect(services.worker.command).toEqual(['worker']);
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(services.redis.image).toMatch(/^redis:/);
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on.migrate.condition).toBe('service_completed_successfully');
      expect(services[name].volumes).toEqual(['atelier-data:/data']);
      // Docker's SIGKILL must come after the graceful shutdown's grace period.
      expect(parseInt(services[name].stop_grace_period, 10)).toBeGreaterThan(Number(services[name].environment.ATELIER_SHUTDOWN_GRACE_SECONDS));
    }
  });

  it('names only environment variables the code reads', () => {
    const known = envNamesReadByCode();
    for (const [name, service] of Object.entries<any>(services)) {
      if (!['api', 'worker', 'migrate'].includes(name)) continue;
      for (const variable of Object.keys(service.environment)) expect(known, `${name}: ${variable}`).toContain(variable);
    }
  });

  it('points the services at each other and at the ports the processes listen on', () => {
    const env = services.api.environment;
    expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
    expect(new URL(env.DATABASE_URL).username).toBe(services.postgres.environment.POSTGRES_USER);
    expect(new URL(env.DATABASE_URL).pathname).toBe(`/${services.postgres.environment.POSTGRES_DB}`);
    expect(new URL(env.REDIS_URL).hostname).toBe('redis');
    const apiPort = Number(env.PORT);
    expect(services.api.ports.every((p: string) => p.endsWith(`:${apiPort}`))).toBe(true);
    expect(services.api.healthcheck.test.join(' ')).toContain(`127.0.0.1:${apiPort}/readyz`);
    const workerPort = Number(services.worker.environment.ATELIER_METRICS_PORT);
    expect(services.worker.expose).toEqual([String(workerPort)]);
    expect(services.worker.healthcheck.test.join(' ')).toContain(`127.0.0.1:${workerPort}/readyz`);
    // The config accepts what compose sets, given the JWT_SECRET compose insists on.
    expect(() => environmentOf(services.worker, {})).toThrow(/JWT_SECRET/);
    const config = loadConfig(environmentOf(services.worker, { JWT_SECRET: 'y'.repeat(40) }));
    expect(config).toMatchObject({ role: 'worker', metricsPort: workerPort, shutdownGraceSeconds: 30, nodeEnv: 'production' });
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  it('scrapes every API replica on the API port and every worker on its metrics port', () => {
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((c: any) => [c.job_name, c]));
    const target = (job: string) => jobs[job].dns_sd_configs[0];
    expect(target('atelier-api')).toMatchObject({ names: ['api'], port: Number(compose.services.api.environment.PORT) });
    expect(target('atelier-worker')).toMatchObject({ names: ['worker'], port: Number(compose.services.worker.environment.ATELIER_METRICS_PORT) });
    for (const job of Object.values<any>(jobs)) expect(job.metrics_path).toBe('/metrics');
  });
});

describe('deploy/grafana/dashboards/atelier.json', () => {
  it('queries only metrics the code exports, and covers every metric the issue names', async () => {
    const registered = await metricNames();
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const t of panel.targets) for (const m of t.expr.matchAll(/\batelier_[a-z0-9_]+/g)) queried.add(m[0]);
    }
    for (const name of queried) {
      const histogram = name.match(/^(.*)_(bucket|sum|count)$/);
      const ok = registered.has(name) || (histogram !== null && registered.get(histogram[1]) === 'histogram');
      expect(ok, `dashboard queries ${name}, which the code does not export`).toBe(true);
    }
    const families = new Set([...queried].map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    for (const required of [
      'atelier_graphql_operations_total', 'atelier_graphql_operation_duration_seconds', 'atelier_queue_jobs', 'atelier_job_duration_seconds',
      'atelier_job_failures_total', 'atelier_jobs_in_progress', 'atelier_step_duration_seconds', 'atelier_model_load_duration_seconds',
      'atelier_websocket_connections', 'atelier_websocket_subscriptions', 'atelier_active_sessions', 'atelier_refusals_total',
    ]) expect(families, required).toContain(required);
  });

  it('has unique panel ids and non-overlapping positions', () => {
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { gridPos: g } of dashboard.panels) {
      for (let x = g.x; x < g.x + g.w; x += 1) for (let y = g.y; y < g.y + g.h; y += 1) {
        expect(cells.has(`${x},${y}`)).toBe(false);
        cells.add(`${x},${y}`);
      }
      expect(g.x + g.w).toBeLessThanOrEqual(24);
    }
  });
});

describe('deploy/prometheus/alerts.yml', () => {
  const rules: any[] = (yaml.load(read('deploy/prometheus/alerts.yml')) as any).groups.flatMap((g: any) => g.rules);
  const operations = read('docs/operations.md');
  const alertsSection = operations.slice(operations.indexOf('\n## Alerts\n')).split(/\n## (?!#)/)[1] ?? '';

  it('is loaded by the scrape configuration, and mounted beside it in compose', () => {
    expect(prometheus.rule_files).toEqual(['alerts.yml']);
    expect(compose.services.prometheus.volumes).toEqual([
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
      './deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
    ]);
  });

  it('gives every alert a for:, a severity and a summary, and a runbook section that exists in docs/operations.md', () => {
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining([
      'AtelierGraphQLErrorRate', 'AtelierQueueBacklogGrowing', 'AtelierWorkerMissing', 'AtelierJobFailureRatio', 'AtelierEventLoopDelay',
    ]));
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      const runbook = String(rule.annotations.description).match(/Runbook: docs\/operations\.md, Alerts > (.+)\.$/);
      expect(runbook, `${rule.alert} names no runbook section`).not.toBeNull();
      for (const section of runbook![1].split(' / ')) expect(alertsSection, `${rule.alert}: ### ${section}`).toContain(`\n### ${section}\n`);
    }
  });

  it('has the event-loop rule the operations page promises: p99 over 100 ms for 5 minutes', () => {
    const rule = rules.find((r) => r.alert === 'AtelierEventLoopDelay');
    expect(rule.expr).toMatch(/atelier_nodejs_eventloop_lag_p99_seconds\) > 0\.1$/);
    expect(rule.for).toBe('5m');
  });

  it('passes promtool check rules and check config (promtool is required in CI)', () => {
    let promtool = true;
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      promtool = false;
    }
    if (!promtool) {
      // Outside CI a developer machine may lack it; .ci/run installs Debian's prometheus package.
      expect(process.env.CI, 'promtool is missing: apt-get install prometheus (CI installs it in .ci/run)').not.toBe('true');
      return;
    }
    const check = (...args: string[]) => execFileSync('promtool', ['check', ...args], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    expect(check('rules', 'deploy/prometheus/alerts.yml')).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(check('config', 'deploy/prometheus/prometheus.yml')).toContain('SUCCESS');
  });
});

describe('deploy/grafana/provisioning', () => {
  const grafana = compose.services.grafana;
  const mounted = (hostPath: string) => grafana.volumes.find((v: string) => v.startsWith(`${hostPath}:`))?.split(':')[1];

  it('mounts the provisioning folder and the dashboards folder into the Grafana container', () => {
    expect(grafana.profiles).toEqual(['monitoring']);
    expect(mounted('./deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(mounted('./deploy/grafana/dashboards')).toBeDefined();
  });

  it('provisions Prometheus, the compose service, as the default data source', () => {
    const { datasources } = yaml.load(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as any;
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({ type: 'prometheus', isDefault: true, access: 'proxy' });
    const url = new URL(datasources[0].url);
    expect(compose.services[url.hostname].profiles).toEqual(['monitoring']);
    expect(compose.services[url.hostname].ports).toContain(`${url.port}:${url.port}`);
    // The dashboard's panels use the data source variable, which resolves to the default Prometheus data source.
    expect(dashboard.templating.list.find((v: any) => v.name === 'DS_PROMETHEUS')).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('loads the dashboards from the folder compose mounts, where the Atelier dashboard is', () => {
    const { providers } = yaml.load(read('deploy/grafana/provisioning/dashboards/atelier.yml')) as any;
    expect(providers).toHaveLength(1);
    expect(providers[0].type).toBe('file');
    expect(providers[0].options.path).toBe(mounted('./deploy/grafana/dashboards'));
    expect(readdirSync(path.join(ROOT, 'deploy/grafana/dashboards'))).toEqual(['atelier.json']);
  });
});
