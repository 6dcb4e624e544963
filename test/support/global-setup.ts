import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildTinyModel } from '../../scripts/build-model';
import { startLocalRedis } from '../../src/redis/local-server';
import { startTemporaryPostgres } from './postgres-cluster';

export const TEST_DATA = path.resolve(__dirname, '../../.test-data');
export const TEST_MODELS = path.join(TEST_DATA, 'models');

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** PostgreSQL for single-process tests; empty means embedded PGlite. */
    databaseUrl: string;
    /** PostgreSQL for tests that run several processes on one database; empty if none could be had. */
    sharedDatabaseUrl: string;
    modelsDir: string;
  }
}

/**
 * The browser tests drive Debian's chromium (playwright-core downloads no
 * browser). As root on Debian it is installed when missing, as npm start does
 * for redis-server; otherwise the tests say how.
 */
function ensureChromium(): void {
  const binary = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(binary)) return;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('chromium not found: installing Debian\'s chromium package for the browser tests…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env });
  }
  if (!existsSync(binary)) {
    throw new Error(`The browser tests need Chromium at ${binary}: install it (Debian: sudo apt-get install chromium) or set CHROMIUM_PATH`);
  }
}

/**
 * Runs once for the whole suite: Redis (REDIS_URL or a local redis-server),
 * the tiny model, and a PostgreSQL server for multi-process tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: (() => unknown)[] = [];
  let redisUrl = process.env.REDIS_URL ?? '';
  if (!redisUrl) {
    const redis = await startLocalRedis(path.join(TEST_DATA, 'redis'), { persist: false });
    stops.push(() => redis.stop());
    redisUrl = redis.url;
  }
  if (!existsSync(path.join(TEST_MODELS, 'atelier-tiny', 'model_index.json'))) {
    await buildTinyModel(path.join(TEST_MODELS, 'atelier-tiny'));
  }
  ensureChromium();
  const databaseUrl = process.env.DATABASE_URL ?? '';
  let sharedDatabaseUrl = databaseUrl;
  if (!sharedDatabaseUrl) {
    const pg = await startTemporaryPostgres();
    if (pg) {
      stops.push(pg.stop);
      sharedDatabaseUrl = pg.url;
    }
  }
  project.provide('redisUrl', redisUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('sharedDatabaseUrl', sharedDatabaseUrl);
  project.provide('modelsDir', TEST_MODELS);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
