import path from 'node:path';
import { DiffusionPipeline } from '../pipeline/diffusion-pipeline';
import { ThreadedPipeline } from '../pipeline/threaded-pipeline';
import type { ImagePipeline } from '../pipeline/types';

/** Settings of {@link PipelineCache}. */
export interface PipelineCacheOptions {
  /** Budget for loaded models, compared with the sum of their `approxBytes`. */
  maxBytes: number;
  /** Tried in order when loading, e.g. ['cuda', 'cpu']. */
  executionProviders?: string[];
  intraOpNumThreads?: number;
  /** onnxruntime's CPU memory arena for every model loaded (PipelineLoadOptions.cpuMemArena). */
  cpuMemArena?: boolean;
  /**
   * Run each model in a worker thread of its own (ThreadedPipeline), so a
   * process that also serves the API is not blocked while it renders.
   */
  inThread?: boolean;
}

/**
 * Loaded pipelines kept between jobs, least recently used evicted first once
 * their approximate size passes the budget. The model just acquired is never
 * evicted, even when it alone exceeds the budget. Evicting releases the
 * sessions, so a job `hold`s its model while it runs: held models are skipped
 * by eviction, and the budget is enforced again when the hold ends.
 */
export class PipelineCache {
  private readonly entries = new Map<string, Promise<ImagePipeline>>();
  /** Models a running job holds: never evicted until released. */
  private readonly held = new Map<string, number>();
  private loads = 0;

  constructor(private readonly opts: PipelineCacheOptions) {}

  /** How many times a model was loaded (test and metrics hook). */
  get loadCount(): number {
    return this.loads;
  }

  /** Directories currently loaded or loading, least recently used first. */
  get loadedDirs(): string[] {
    return [...this.entries.keys()];
  }

  /** Whether `modelDir` is loaded or loading (`acquire` then costs no load, unless its thread died). */
  has(modelDir: string): boolean {
    return this.entries.has(path.resolve(modelDir));
  }

  /** Returns the pipeline for `modelDir`, loading it (once, even if asked concurrently) when needed. */
  async acquire(modelDir: string): Promise<ImagePipeline> {
    const key = path.resolve(modelDir);
    let entry = this.entries.get(key);
    // A pipeline whose thread died is loaded again rather than failing every job.
    if (entry && !(await entry.then((p) => p.usable, () => true))) {
      this.entries.delete(key);
      entry = undefined;
    }
    if (entry) this.entries.delete(key);
    else {
      this.loads += 1;
      const settings = { executionProviders: this.opts.executionProviders, intraOpNumThreads: this.opts.intraOpNumThreads, cpuMemArena: this.opts.cpuMemArena };
      entry = this.opts.inThread ? ThreadedPipeline.load(key, settings) : DiffusionPipeline.load(key, settings);
      const loading = entry;
      // A failed load must not stay cached, or every later acquire would rethrow it.
      loading.catch(() => {
        if (this.entries.get(key) === loading) this.entries.delete(key);
      });
    }
    this.entries.set(key, entry);
    const pipeline = await entry;
    await this.enforceBudget(key);
    return pipeline;
  }

  /** Marks `modelDir` in use until the returned function is called (once). */
  hold(modelDir: string): () => void {
    const key = path.resolve(modelDir);
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
      void this.enforceBudget(null).catch(() => undefined);
    };
  }

  /** Releases and forgets one model; returns whether it was loaded. */
  async evict(modelDir: string): Promise<boolean> {
    const key = path.resolve(modelDir);
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    await entry.then((p) => p.release(), () => undefined);
    return true;
  }

  /** Releases every loaded model. */
  async clear(): Promise<void> {
    for (const key of [...this.entries.keys()]) await this.evict(key);
  }

  /** Sum of approxBytes of the loaded models. */
  async totalBytes(): Promise<number> {
    let sum = 0;
    for (const entry of this.entries.values()) sum += await entry.then((p) => p.approxBytes, () => 0);
    return sum;
  }

  private async enforceBudget(keep: string | null): Promise<void> {
    while ((await this.totalBytes()) > this.opts.maxBytes) {
      const victim = [...this.entries.keys()].find((k) => k !== keep && !this.held.has(k));
      if (!victim) return;
      await this.evict(victim);
    }
  }
}
