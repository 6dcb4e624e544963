import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { Redis } from 'ioredis';
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

/**
 * Runs `work` while a plain busy loop in another process holds one core: the
 * benches' reference rows, what sharing this machine's cores costs the same
 * work when none of Atelier's code runs beside it.
 */
export async function besideBusyLoop<T>(work: () => Promise<T>): Promise<T> {
  const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    return await work();
  } finally {
    spinner.kill('SIGKILL');
  }
}

/** A data dir with the tiny model, shared by benches. */
export async function benchModels(): Promise<string> {
  const dir = path.join(os.tmpdir(), 'atelier-bench-models');
  await buildTinyModel(path.join(dir, 'atelier-tiny'));
  return dir;
}

/** A fresh database on the PostgreSQL server at `serverUrl`, so a bench never touches real data. */
async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `atl_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Boots a whole Atelier in this process: PGlite in memory, or a scratch
 * database on DATABASE_URL's server; REDIS_URL or a local redis-server.
 * `teardown` (after `stop`) ends the local Redis and drops the scratch database.
 */
export async function startBenchApp(env: Record<string, string> = {}): Promise<Atelier & { teardown: () => Promise<void> }> {
  let redisUrl = process.env.REDIS_URL;
  let redisStop: (() => Promise<void>) | undefined;
  if (!redisUrl) {
    const redis = await startLocalRedis(mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-redis-')), { persist: false });
    redisUrl = redis.url;
    redisStop = redis.stop;
  }
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : null;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test', PORT: '0', JWT_SECRET: 'bench-secret-that-is-long-enough-to-pass-config',
    // The audit stream is always at info: into the scratch folder, so the bench prints only its figures.
    REDIS_URL: redisUrl, ATELIER_REDIS_PREFIX: `bench${process.pid}`, ATELIER_DATA_DIR: dataDir, ATELIER_AUDIT_LOG: path.join(dataDir, 'audit.log'),
    ATELIER_MODELS_DIR: await benchModels(), ATELIER_EXECUTION_PROVIDERS: 'cpu', ATELIER_PREVIEW_EVERY: '0', ATELIER_AUTH_ATTEMPTS_PER_MINUTE: '100000',
    // The benches sign hundreds of users up from one address (fan-out: 500), as no real client would.
    ATELIER_SIGNED_OUT_REQUESTS_PER_MINUTE: '10000000',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}), ...env,
  });
  const app = await startAtelier(config, { pgliteDir: config.databaseUrl ? undefined : 'memory', logger: createLogger({ level: 'error' }) });
  // On a Redis of your own (REDIS_URL), every key the bench wrote goes with it: an admission run leaves ~100,000.
  const forgetKeys = redisStop ? null : async () => {
    const redis = new Redis(redisUrl!);
    try {
      for await (const keys of redis.scanStream({ match: `${config.redisPrefix}:*`, count: 1000 })) {
        if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
      }
    } finally {
      redis.disconnect();
    }
  };
  return { ...app, teardown: async () => { await redisStop?.(); await forgetKeys?.(); await scratch?.drop(); } };
}

/**
 * A bench's clients in a child process of their own (a script beside this
 * one), as a user's programs would be: what the clients cost is then not
 * taken from the service's event loop. Each request is one JSON line on the
 * child's stdin, answered by one JSON line on its stdout; an answer with an
 * `error` rejects.
 */
export function startChild(script: string) {
  const child = spawn(process.execPath, [path.join(__dirname, script)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: { answer: (line: string) => void; fail: (error: Error) => void }[] = [];
  lines.on('line', (line) => waiting.shift()?.answer(line));
  // A child that dies fails what was asked of it, instead of leaving the bench waiting for ever.
  let exited: Error | null = null;
  child.once('exit', (code, signal) => {
    exited = new Error(`${script} exited (${signal ?? code})`);
    for (const pending of waiting.splice(0)) pending.fail(exited);
  });
  return {
    ask: <T>(request: Record<string, unknown>) => new Promise<T>((resolve, reject) => {
      if (exited) return reject(exited);
      waiting.push({
        answer: (line) => {
          const answer = JSON.parse(line) as T & { error?: string };
          if (answer.error) reject(new Error(answer.error));
          else resolve(answer);
        },
        fail: reject,
      });
      child.stdin!.write(`${JSON.stringify(request)}\n`);
    }),
    pid: child.pid,
    close: () => { child.kill(); },
  };
}

/** Starts a CPU profile of this process; the returned function stops it and writes it to `file` (a .cpuprofile for DevTools). */
export async function startProfiler(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** CPU milliseconds each process on this machine has used so far, by pid (Linux's /proc; empty elsewhere). */
export function processCpu(): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  for (const entry of safe(() => readdirSync('/proc'), [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(`/proc/${entry}/stat`);
    if (stat) out.set(Number(entry), stat);
  }
  return out;
}

/** A process's or thread's name and CPU milliseconds (utime + stime) from its `stat` file; null once it is gone. */
function readStat(file: string): { name: string; ms: number } | null {
  const stat = safe(() => readFileSync(file, 'utf8'), '');
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' '); // fields[11], [12]: utime, stime, in ticks of 1/100 s (USER_HZ)
  return { name: stat.slice(stat.indexOf('(') + 1, close), ms: (Number(fields[11]) + Number(fields[12])) * 10 };
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback; // a process that ended between the listing and the read
  }
}

/**
 * CPU milliseconds per operation that each kind of process used since
 * `before` (a processCpu() snapshot), named by `kind` (pid, process name);
 * processes it names null are counted as "other".
 */
export function cpuPerOp(before: Map<number, { name: string; ms: number }>, ops: number, kind: (pid: number, name: string) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, now] of processCpu()) {
    const used = now.ms - (before.get(pid)?.ms ?? 0);
    if (used <= 0) continue;
    const name = kind(pid, now.name) ?? 'other';
    out[name] = (out[name] ?? 0) + used / ops;
  }
  return out;
}

/**
 * The machine's CPU over many short runs, read between them: this process's
 * main thread and its other threads apart, the other processes by `kind`
 * (others left out). The kernel counts CPU in ticks of 10 ms, so a figure a
 * run is good only over many runs.
 */
export class CpuTally {
  private readonly ms: Record<string, number> = {};

  constructor(private readonly kind: (pid: number, name: string) => string | null) {}

  async during<T>(run: () => Promise<T>): Promise<T> {
    const processes = processCpu();
    const threads = threadCpu();
    const result = await run();
    const mine = threadCpuPerOp(threads, 1);
    this.add('main', mine.main);
    this.add('threads', mine.others);
    for (const [name, ms] of Object.entries(cpuPerOp(processes, 1, (pid, n) => pid === process.pid ? null : this.kind(pid, n)))) {
      if (name !== 'other') this.add(name, ms);
    }
    return result;
  }

  /** Milliseconds a run, in all and by where: `total 41.2 (main 7.1, threads 28.0, Redis 2.4, …)`. */
  describe(runs: number): string {
    const parts = Object.entries(this.ms).map(([name, ms]) => `${name} ${(ms / runs).toFixed(1)}`);
    const total = Object.values(this.ms).reduce((a, b) => a + b, 0) / runs;
    return `total ${total.toFixed(1)} ms (${parts.join(', ')})`;
  }

  private add(name: string, ms: number): void {
    this.ms[name] = (this.ms[name] ?? 0) + ms;
  }
}

/** CPU milliseconds each thread of this process has used so far, by thread id (Linux's /proc; empty elsewhere). */
export function threadCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of safe(() => readdirSync('/proc/self/task'), [] as string[])) {
    const stat = readStat(`/proc/self/task/${tid}/stat`);
    if (stat) out.set(Number(tid), stat.ms);
  }
  return out;
}

/** This process's CPU milliseconds per operation since `before` (a threadCpu() snapshot): its main thread's, and all its other threads'. */
export function threadCpuPerOp(before: Map<number, number>, ops: number): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const [tid, ms] of threadCpu()) {
    const used = (ms - (before.get(tid) ?? 0)) / ops;
    if (tid === process.pid) main += used;
    else others += used;
  }
  return { main, others };
}
