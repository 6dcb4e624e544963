import { GenerationWorker } from '../src/gpu-worker/generation-worker';
import { ComfyEndpoint } from '../src/gpu-worker/backends/comfyui-endpoint';
import { JobLifecycle } from '../src/services/job-lifecycle';
import { JobTransitions } from '../src/services/job-transitions';
import type { ArtifactStore } from '../src/storage/artifact-store';
import { median } from './harness';

/**
 * Where one job's time goes on its way through Atelier to ComfyUI: the bench
 * runs Atelier in its own process, so the tracer wraps methods of the worker,
 * the lifecycle and the ComfyUI client and stamps the time each is reached.
 * Marks missing on a build (a method that no longer exists) are skipped.
 */
export class PhaseTrace {
  private marks = new Map<string, number>();
  private readonly runs: Map<string, number>[] = [];
  private origin = 0;

  /** Starts a new run's marks at `origin` (performance.now()). */
  begin(): void {
    this.origin = performance.now();
    this.marks = new Map();
  }

  mark(name: string): void {
    if (!this.marks.has(name)) this.marks.set(name, performance.now() - this.origin);
  }

  /** Adds a mark measured elsewhere (the ComfyUI server's clock, in ms since the epoch). */
  markAt(name: string, epochMs: number, beganAtEpochMs: number): void {
    this.marks.set(name, epochMs - beganAtEpochMs);
  }

  end(): void {
    this.runs.push(this.marks);
  }

  /** Each mark's median time since the run began, in the order of the first run. */
  print(): void {
    if (!this.runs.length) return;
    const names = [...new Set(this.runs.flatMap((run) => [...run.keys()]))];
    const rows = names.map((name) => ({ name, at: median(this.runs.map((run) => run.get(name) ?? NaN).filter((v) => !Number.isNaN(v))) }))
      .sort((a, b) => a.at - b.at);
    console.log(`  phases of a job through Atelier (median ms since the mutation was sent, ${this.runs.length} runs):`);
    let previous = 0;
    for (const { name, at } of rows) {
      console.log(`    ${name.padEnd(34)} ${at.toFixed(1).padStart(7)}  (+${(at - previous).toFixed(1)})`);
      previous = at;
    }
  }

  /** Wraps the methods whose start or end is a phase boundary. */
  install(store: ArtifactStore | undefined): void {
    this.wrap(GenerationWorker.prototype, 'drive', 'worker picked up', null);
    this.wrap(JobTransitions.prototype, 'find', null, 'job row read');
    this.wrap(JobTransitions.prototype, 'start', 'start UPDATE sent', 'start UPDATE done');
    this.wrap(JobLifecycle.prototype, 'start', null, 'start transition done');
    this.wrap(ComfyEndpoint.prototype, 'openSocket', null, 'ws open');
    this.wrap(ComfyEndpoint.prototype, 'socket', null, 'ws open');
    this.wrap(ComfyEndpoint.prototype, 'submit', 'POST /prompt sent', 'POST /prompt answered');
    this.wrap(ComfyEndpoint.prototype, 'follow', null, 'executing null seen');
    this.wrap(ComfyEndpoint.prototype, 'outputs', null, 'history + view read');
    this.wrap(JobLifecycle.prototype, 'complete', 'store done', 'COMPLETED published');
    this.wrap(JobTransitions.prototype, 'complete', null, 'completion committed');
    if (store) this.wrap(store as unknown as object, 'put', 'store started', null);
    this.wrapFirstStep();
  }

  /** The first step ComfyUI reported reaching the backend's hook. */
  private wrapFirstStep(): void {
    const record = ComfyEndpoint.prototype as unknown as Record<string, (workflow: unknown, hooks: { onStep: (...a: unknown[]) => void }) => unknown>;
    const original = record.run;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const trace = this;
    record.run = function run(this: unknown, workflow: unknown, hooks: { onStep: (...a: unknown[]) => void }) {
      const onStep = (...a: unknown[]) => { trace.mark('first progress'); hooks.onStep(...a); };
      return original.call(this, workflow, { ...hooks, onStep });
    };
  }

  private wrap(target: object, method: string, before: string | null, after: string | null): void {
    const record = target as Record<string, unknown>;
    const original = record[method];
    if (typeof original !== 'function') return;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const trace = this;
    record[method] = function wrapped(this: unknown, ...args: unknown[]) {
      if (before) trace.mark(before);
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (after && result instanceof Promise) return result.then((value) => { trace.mark(after); return value; });
      if (after) trace.mark(after);
      return result;
    };
  }
}
