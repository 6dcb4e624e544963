import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { startAtelier, type Atelier, type StartOptions } from '../../src/app';
import { loadConfig, type AtelierConfig } from '../../src/config';
import { createDataSource } from '../../src/database/data-source';
import { createLogger } from '../../src/observability/logger';
import { EventLog } from '../../src/subscriptions/event-log';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-the-config-check';

/** Creates an empty database on the server at `serverUrl`; returns its URL and a drop function. */
export async function createScratchDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `atl_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Opens the entities on a database that a spawned Atelier process has migrated (for the factories). */
export async function connectToDatabase(url: string): Promise<DataSource> {
  return createDataSource({ url, poolSize: 1 }).initialize();
}

/** Environment for an Atelier process in tests: unique Redis prefix, temp data dir, shared models. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-test-'));
  return {
    NODE_ENV: 'test',
    PORT: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    REDIS_URL: inject('redisUrl'),
    ATELIER_REDIS_PREFIX: `t${randomBytes(5).toString('hex')}`,
    ATELIER_DATA_DIR: dataDir,
    // The audit stream goes to a file tests can read, not into the test output.
    ATELIER_AUDIT_LOG: path.join(dataDir, 'audit.log'),
    ATELIER_MODELS_DIR: inject('modelsDir'),
    ATELIER_EXECUTION_PROVIDERS: 'cpu',
    ATELIER_PREVIEW_EVERY: '2',
    // Standalone workers serve /metrics on their own port: any free one, so parallel workers never collide.
    ATELIER_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    // Tests sign many users up from 127.0.0.1; test/integration/auth-throttle.test.ts checks the limit itself.
    ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '10000',
    // Endpoint probes off: tests that count breaker failures or write health themselves stay exact;
    // test/integration/backend-probes.test.ts turns them on.
    ATELIER_BACKEND_PROBE_MS: '0',
    ...overrides,
  };
}

export interface TestApp extends Atelier {
  env: Record<string, string>;
  /** The event log behind `services.events` (which services see through narrower interfaces): tests read its streams. */
  events: EventLog;
  close(): Promise<void>;
}

/**
 * Boots a whole Atelier (API + worker by default) for one test file: PGlite in
 * memory, or a scratch database on DATABASE_URL when the suite runs against
 * PostgreSQL. One PGlite app per test file (PGlite is one per process).
 */
export async function startTestApp(overrides: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  const serverUrl = inject('databaseUrl');
  const scratch = serverUrl && !overrides.DATABASE_URL ? await createScratchDatabase(serverUrl) : null;
  const env = testEnv({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ...overrides });
  const config: AtelierConfig = loadConfig(env);
  const atelier = await startAtelier(config, {
    pgliteDir: 'memory',
    logger: createLogger({ level: env.LOG_LEVEL }),
    ...options,
  });
  const { events } = atelier.services;
  if (!(events instanceof EventLog)) throw new Error('the app\'s services.events is not an EventLog');
  return {
    ...atelier,
    env,
    events,
    close: async () => {
      await atelier.stop();
      await scratch?.drop();
      rmSync(env.ATELIER_DATA_DIR, { recursive: true, force: true });
    },
  };
}
