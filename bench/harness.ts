import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAtelier, type Atelier } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/observability/logger';
import { startLocalRedis } from '../src/redis/local-server';
import { buildTinyModel } from '../scripts/build-model';

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, result];
}

export function row(name: string, ours: number, baseline: number, unit: string, goal?: string): void {
  const ratio = ours / baseline;
  console.log(`${name.padEnd(58)} ours ${ours.toFixed(2).padStart(9)} ${unit}  baseline ${baseline.toFixed(2).padStart(9)} ${unit}  ratio ${ratio.toFixed(3)}${goal ? `  (goal ${goal})` : ''}`);
}

/** A data dir with the tiny model, shared by benches. */
export async function benchModels(): Promise<string> {
  const dir = path.join(os.tmpdir(), 'atelier-bench-models');
  await buildTinyModel(path.join(dir, 'atelier-tiny'));
  return dir;
}

/** Boots a whole Atelier in this process (PGlite in memory, REDIS_URL or a local redis-server). */
export async function startBenchApp(env: Record<string, string> = {}): Promise<Atelier & { redisStop?: () => Promise<void> }> {
  let redisUrl = process.env.REDIS_URL;
  let redisStop: (() => Promise<void>) | undefined;
  if (!redisUrl) {
    const redis = await startLocalRedis(mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-redis-')), { persist: false });
    redisUrl = redis.url;
    redisStop = redis.stop;
  }
  const config = loadConfig({
    NODE_ENV: 'test', PORT: '0', JWT_SECRET: 'bench-secret-that-is-long-enough-to-pass-config',
    REDIS_URL: redisUrl, ATELIER_REDIS_PREFIX: `bench${process.pid}`, ATELIER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-')),
    ATELIER_MODELS_DIR: await benchModels(), ATELIER_EXECUTION_PROVIDERS: 'cpu', ATELIER_PREVIEW_EVERY: '0', ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '100000',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}), ...env,
  });
  const app = await startAtelier(config, { pgliteDir: config.databaseUrl ? undefined : 'memory', logger: createLogger({ level: 'error' }) });
  return { ...app, redisStop };
}
