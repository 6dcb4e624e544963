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
