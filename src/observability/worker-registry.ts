import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { CircuitState } from '../kernel/backends';
import type { JobKind } from '../entities';

/** What a worker says about itself on each heartbeat. */
export interface WorkerHeartbeat {
  id: string;
  hostname: string;
  pid: number;
  /** Provider of the last model loaded (cuda, cpu, …), or null before the first load. */
  executionProvider: string | null;
  /** Providers the worker was configured to try, in order. */
  configuredProviders: string[];
  concurrency: number;
  activeJobs: number;
  /** The jobs it has started and not yet recorded, in the order it started them (queue ETAs; absent in heartbeats of older workers). */
  runningJobs?: RunningJob[];
  loadedModels: string[];
  /** The remote backends it used, with their worst breaker state (absent in heartbeats of older workers). */
  backends?: WorkerBackendState[];
  startedAt: string;
  lastSeenAt: string;
}

/**
 * A job a worker runs, as its heartbeat carries it: what queue ETAs need to
 * tell how much of its work is left (docs/architecture.md, "Queue ETAs").
 */
export interface RunningJob {
  jobId: string;
  modelId: string;
  kind: JobKind;
  width: number;
  height: number;
  steps: number;
  count: number;
  videoFrames: number | null;
  /** When the worker started it (ms since the epoch, the worker's clock). */
  startedAt: number;
}

/** One remote backend as a worker sees it (systemStats, /readyz). */
export interface WorkerBackendState {
  model: string;
  backend: string;
  /** The worst breaker state over its endpoints. */
  state: CircuitState;
  endpoints: number;
  openEndpoints: number;
}

/** A worker that has not beaten for this long is offline (it crashed or was partitioned). */
export const WORKER_OFFLINE_AFTER_MS = 30_000;
const HEARTBEAT_EVERY_MS = 10_000;

const key = (prefix: string) => `${prefix}:workers`;

/**
 * Workers announce themselves in one Redis hash (field = worker id, value =
 * JSON heartbeat), so any API replica can list the workers online without
 * talking to them. A clean shutdown removes the field; a crash leaves it to
 * age out after {@link WORKER_OFFLINE_AFTER_MS}.
 */
export class WorkerPresence {
  readonly id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | null = null;
  /** The beat on its way (`beatSoon`), and whether what it says changed since it was written. */
  private beating: Promise<void> | null = null;
  private beatAgain = false;
  /** Stopped: a beat due after the entry was removed would bring the worker back online for 30 s. */
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly describe: () => Pick<WorkerHeartbeat, 'executionProvider' | 'configuredProviders' | 'concurrency' | 'activeJobs' | 'runningJobs' | 'loadedModels' | 'backends'>,
  ) {}

  /** Beats now and then every 10 s until `stop`. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Beats now, or, while a beat is on its way, once more when it is done: a
   * burst of changes (many jobs starting or ending at once on a worker of high
   * concurrency, each rewriting its list of running jobs) is two writes, the
   * last saying the latest. Never throws; nothing once stopped.
   */
  beatSoon(): void {
    if (this.stopped) return;
    if (this.beating) {
      this.beatAgain = true;
      return;
    }
    this.beating = this.beat().catch(() => undefined).finally(() => {
      this.beating = null;
      if (this.beatAgain) {
        this.beatAgain = false;
        this.beatSoon();
      }
    });
  }

  async beat(): Promise<void> {
    const heartbeat: WorkerHeartbeat = {
      id: this.id, hostname: os.hostname(), pid: process.pid, startedAt: this.startedAt, lastSeenAt: new Date().toISOString(), ...this.describe(),
    };
    await this.redis.hset(key(this.prefix), this.id, JSON.stringify(heartbeat));
  }

  /** With Redis away the entry is left to go stale: waiting out the client's retries would only delay the stop. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.redis.status === 'ready') await this.redis.hdel(key(this.prefix), this.id);
  }
}

/** Workers whose last heartbeat is recent; stale entries are removed as they are found. */
export async function onlineWorkers(redis: Redis, prefix: string, now = Date.now()): Promise<WorkerHeartbeat[]> {
  const entries = await redis.hgetall(key(prefix));
  const online: WorkerHeartbeat[] = [];
  const stale: string[] = [];
  for (const [id, raw] of Object.entries(entries)) {
    let beat: WorkerHeartbeat | null = null;
    try {
      beat = JSON.parse(raw) as WorkerHeartbeat;
    } catch {
      beat = null;
    }
    if (beat && now - Date.parse(beat.lastSeenAt) < WORKER_OFFLINE_AFTER_MS) online.push(beat);
    else stale.push(id);
  }
  if (stale.length) await redis.hdel(key(prefix), ...stale);
  return online.sort((a, b) => a.id.localeCompare(b.id));
}
