import type { Redis } from 'ioredis';
import { WindowedBatches } from '../kernel/windowed-batches';
import { STEP_EVENTS_WINDOW_MS, type StepProgress } from './pipeline/types';

/** How often a running job's step is written to PostgreSQL (the last one comes with the completion); events carry every step. */
const DB_STEP_INTERVAL_MS = 500;

/** How often steps read the cancel flag: fast steps would otherwise cost a Redis read each. */
const CANCEL_CHECK_INTERVAL_MS = 100;

export interface StepReporterDeps {
  redis: Redis;
  cancelKey: string;
  /** Writes the row's step; false when this run no longer holds the job (`onSuperseded` is called then). */
  recordStep: (step: number) => Promise<boolean | void>;
  /** Publishes these steps' events, in order (several when steps came close together). */
  publishProgress: (steps: StepProgress[]) => Promise<unknown>;
  onCancelRequested: () => void;
  /** The row says a later start took the job from this run, or it stopped running. */
  onSuperseded?: () => void;
  onError: (error: unknown) => void;
  /** What the first event waits for (the job's STARTED); its failure is the caller's to report. */
  after?: Promise<unknown>;
}

/**
 * Keeps a job's bookkeeping off the inference critical path. The pipeline
 * awaits `onStep` after every step, so anything awaited there delays the
 * next UNet call: events are published on an ordered background chain, the
 * step is written to the database at most every 500 ms, and the cancel flag
 * is read without waiting, at most every 100 ms (a cancel lands within 100 ms
 * or one step, whichever is longer).
 *
 * Every step gets its event. A step that comes 8 ms or more after the last
 * send goes out at once, with any handed over in the same tick (the render
 * thread sends close steps in one message); closer ones wait for the rest of
 * those 8 ms and go out together, and the last step never waits
 * (docs/architecture.md, "The job path").
 *
 * Events and step writes are best effort. When one fails, the ones queued
 * behind it while it was waiting are dropped instead of each waiting out its
 * own timeout (3 s for a Redis command on a connection that stopped
 * answering): a 1024² job queues a step every ~100 ms, and during a partition
 * a flush then took a command timeout per queued step, holding a shutdown's
 * hand-back for as long (docs/operations.md, "Stopping during a partition").
 * Steps that come after the failure is known are tried again.
 */
export class StepReporter {
  private chain: Promise<unknown>;
  /** Failures so far: a task queued before the latest one is dropped. */
  private failures = 0;
  /** The start transition wrote step 0 just before: the first write is due half a second later. */
  private lastDbWrite = Date.now();
  private cancelCheck: Promise<void> | null = null;
  private lastCancelCheck = 0;
  private lastStep = 0;
  /** Steps on their way to Redis: a group handed over in one tick (the render thread's) goes in one send. */
  private readonly unsent: WindowedBatches<StepProgress>;

  constructor(private readonly deps: StepReporterDeps) {
    this.chain = deps.after?.catch(() => undefined) ?? Promise.resolve();
    this.unsent = new WindowedBatches(STEP_EVENTS_WINDOW_MS, (steps) => this.enqueue(() => this.deps.publishProgress(steps)));
  }

  /** The last step (or frame) reached: what a job handed back had done. */
  get reached(): number {
    return this.lastStep;
  }

  step(progress: StepProgress): void {
    const now = Date.now();
    this.lastStep = progress.step;
    this.unsent.add(progress, progress.step >= progress.totalSteps);
    // The completion writes the last step with the final status: a run shorter than the interval writes none.
    if (now - this.lastDbWrite >= DB_STEP_INTERVAL_MS && progress.step < progress.totalSteps) {
      this.lastDbWrite = now;
      this.enqueue(async () => {
        if ((await this.deps.recordStep(progress.step)) === false) this.deps.onSuperseded?.();
      });
    }
    if (now - this.lastCancelCheck >= CANCEL_CHECK_INTERVAL_MS) this.checkCancel();
  }

  /** Reads the cancel flag unless a read is under way (also called on a timer while a remote backend sends no steps). */
  checkCancel(): void {
    if (!this.cancelCheck) {
      this.lastCancelCheck = Date.now();
      this.cancelCheck = this.deps.redis.get(this.deps.cancelKey).then(
        (flag) => {
          this.cancelCheck = null;
          if (flag) this.deps.onCancelRequested();
        },
        (error) => {
          this.cancelCheck = null;
          this.deps.onError(error);
        },
      );
    }
  }

  private enqueue(task: () => Promise<unknown>): void {
    const queuedAfter = this.failures;
    this.chain = this.chain
      .then(() => (queuedAfter === this.failures ? task() : undefined))
      .catch((error) => {
        this.failures += 1;
        this.deps.onError(error);
      });
  }

  /** Waits until every queued event and write is done (before the final event). */
  async flush(): Promise<void> {
    this.unsent.flush();
    await this.chain;
    await this.cancelCheck;
  }
}
