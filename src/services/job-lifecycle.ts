import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Job, JobStatus, workSteps, type Batch, type JobVideoFile } from '../entities';
import { FINAL_EVENT_TYPES, type EventOrder, type JobEventBody, type ProgressEvent, type RequeueReason } from '../kernel/events';
import type { GenerationJobData, GenerationQueue } from '../kernel/queues';
import type { Logger } from '../observability/logger';
import { activeTraceContext } from '../observability/tracing';
import type { EventPublisher, JobEventHistory } from '../kernel/events';
import type { Clock } from '../kernel/clock';
import { JobTransitions, type JobFailure, type NewImage, type StoredImage } from './job-transitions';
import { placesOf, publishQueueLine, publishQueuePositions, readQueueLine, waitingAhead } from './queue-positions';
import { quotaCharge, type QuotaService } from './quotas';
import { finalEventOrder, type BatchProgress } from './batch-progress';
import type { FairScheduler } from './scheduling';
import type { JobLifecycleNotifier } from './webhook-queue';
import { OwedEnds, OwedEndsLedger } from './owed-ends';
import type { ArtifactStore } from '../storage/artifact-store';
import { jobResultKeys } from '../storage/job-files';

/** Pauses between looks for a job's QUEUED before STARTED: about two seconds in all. */
const QUEUED_WAITS_MS = [0, 2, 5, 10, 20, 40, 80, 160, 320, 640, 723];

/** The longest a start waits for the line an earlier start is reading (`lineReadBefore`). */
const LINE_READ_WAIT_MS = 100;

export interface JobLifecycleDeps {
  db: DataSource;
  redis: Redis;
  prefix: string;
  queue: GenerationQueue;
  quotas: QuotaService;
  scheduler: FairScheduler;
  /** Where events go, and what a job's stream holds (STARTED waits for the job's QUEUED: begin). */
  events: EventPublisher & JobEventHistory;
  clock: Clock;
  logger: Logger;
  /** Hears every transition (webhook deliveries); null where nothing listens. */
  webhooks: JobLifecycleNotifier | null;
  /** Recounts a batch after each transition of one of its jobs (docs/batches.md). */
  batches: BatchProgress;
  /** Where a job's results are stored: a job that ends without them leaves none behind (`discardResults`). */
  store: Pick<ArtifactStore, 'delete'>;
}

/**
 * How a side effect of a transition is run. The API fails fast (the client
 * gets SERVICE_UNAVAILABLE and retries); the worker retries through outages
 * so a finished job is never lost to a database blip (see OutageGate).
 */
export type Bookkeeping = <T>(step: () => Promise<T>) => Promise<T>;

/** The API's bookkeeping: one try, the error to the caller. */
export const failFast: Bookkeeping = (step) => step();

/** A job event as the lifecycle publishes it: the job's ids and the time are filled in. */
type JobEvent = JobEventBody & { actorId?: string };

/**
 * The one place a job changes state, for the API and the worker alike: each
 * method makes the transition (a conditional UPDATE, see JobTransitions) and,
 * only when it won, gives the quota slot back, publishes the event for
 * subscribers, tells the webhook notifier and moves the queue positions.
 * Every method returns whether the transition happened.
 */
export class JobLifecycle {
  readonly transitions: JobTransitions;

  /** Ends whose bookkeeping failed after the row went final, told again until told (shared with `withBookkeeping`'s copies). */
  readonly owedEnds: OwedEnds<Job>;

  /** The line as the last start's immediate announcement reads it (`lineMovedUp`), settled once read. */
  private lineRead: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: JobLifecycleDeps, private readonly bookkeeping: Bookkeeping = failFast, owedEnds?: OwedEnds<Job>,
    private readonly announcements = new DelayedAnnouncements(),
  ) {
    this.transitions = new JobTransitions(deps.db);
    this.owedEnds = owedEnds ?? new OwedEnds({
      what: 'job', finalAmong: (ids) => this.transitions.finalAmong(ids), announceEnd: (job) => this.announceEnd(job), logger: deps.logger,
      ledger: new OwedEndsLedger(deps.db, 'job'),
    });
  }

  /**
   * The same lifecycle with its side effects run through `bookkeeping` (the
   * worker's retries), its transitions on `db` (the worker's data source),
   * owing its untold ends to `owedEnds` (this one's, unless told otherwise).
   */
  withBookkeeping(bookkeeping: Bookkeeping, db: DataSource = this.deps.db, owedEnds = this.owedEnds): JobLifecycle {
    return new JobLifecycle({ ...this.deps, db }, bookkeeping, owedEnds, this.announcements);
  }

  /**
   * At shutdown, before the database and Redis close: owed ends are no longer
   * told (a subscriber or a repeated cancel tells them later), and no queue
   * positions announced half a second later, by this lifecycle or its copies.
   */
  stop(): void {
    this.owedEnds.stop();
    this.announcements.stop();
  }

  /**
   * Writes the PENDING row, then adds its queue entry (a worker never meets an
   * entry before its row; docs/operations.md). If the add fails the row is removed
   * again and the error goes to the caller; a crash in between leaves a row
   * the reconciler enqueues.
   */
  async submit(job: Job): Promise<void> {
    await this.transitions.insert(job);
    try {
      await this.enqueue(job, activeTraceContext());
    } catch (error) {
      await this.transitions.discardPending(job.id).catch((err) =>
        this.deps.logger.warn({ err, jobId: job.id }, 'job row without a queue entry: the reconciler will enqueue it'));
      throw error;
    }
  }

  /**
   * Writes a batch and its PENDING jobs in one transaction, then adds all
   * their queue entries in one call. If the add fails, the entries that made
   * it are removed and the rows deleted, and the error goes to the caller.
   */
  async submitBatch(batch: Batch, jobs: Job[]): Promise<void> {
    await this.transitions.insertBatch(batch, jobs);
    try {
      const trace = activeTraceContext();
      await this.deps.queue.addBulk(jobs.map((job) => ({
        name: 'generate', data: entryData(job, trace),
        opts: { jobId: job.id, priority: job.priority },
      })));
    } catch (error) {
      await Promise.all(jobs.map((job) => this.deps.queue.remove(job.id).catch(() => 0)));
      await this.transitions.discardBatch(batch.id).catch((err) =>
        this.deps.logger.warn({ err, batchId: batch.id }, 'batch rows without queue entries: the reconciler will enqueue them'));
      throw error;
    }
  }

  /** Adds (or re-adds) the queue entry of a PENDING row; a no-op when the entry exists. */
  async enqueue(job: Job, traceContext?: Record<string, string>): Promise<void> {
    await this.deps.queue.add('generate', entryData(job, traceContext), { jobId: job.id, priority: job.priority });
  }

  /**
   * QUEUED for a waiting job that was never announced: the API wrote its row
   * and died before adding its entry and announcing it, and the reconciler
   * has just added the entry (without this, its STARTED would wait for a
   * QUEUED that never comes). A no-op once the job's stream holds a QUEUED.
   */
  async announceIfSilent(job: Job): Promise<void> {
    if (job.status !== JobStatus.PENDING || (await this.deps.events.hasJobEvent(job.id, 'QUEUED'))) return;
    const place = (await placesOf(this.deps.db, [job])).get(job.id);
    await this.queued(job, job.ownerId, place?.position ?? 0, place?.wentAhead ?? false);
  }

  /** Announces a new job: QUEUED with its place in line, and new places to those it went ahead of. */
  async queued(job: Job, actorId: string, position: number, wentAhead: boolean): Promise<void> {
    await this.emit(job, { type: 'QUEUED', actorId, totalSteps: workSteps(job), step: 0, queuePosition: position });
    if (wentAhead) this.announcePositionsSoon();
  }

  /**
   * PENDING or PROCESSING → PROCESSING on a worker: the scheduler's clock
   * moves, STARTED is published and the line moves up. `job` follows the row.
   */
  async start(job: Job, provider: string): Promise<boolean> {
    const started = await this.begin(job, provider);
    if (started) await started.announced;
    return started !== null;
  }

  /**
   * The same start for a worker that renders while it is announced: resolves
   * once the row says PROCESSING (null when another actor won), with
   * `announced` settling once the scheduler's clock has moved and STARTED is
   * out. The caller makes its later events wait for it, so STARTED comes first.
   */
  async begin(job: Job, provider: string): Promise<{ announced: Promise<void> } | null> {
    await this.lineReadBefore();
    if (!(await this.run(() => this.transitions.start(job, provider, this.deps.clock.now())))) return null;
    job.status = JobStatus.PROCESSING;
    return { announced: this.announceStart(job) };
  }

  /**
   * `begin` for a worker that has not read the row: the start's UPDATE
   * returns it (`JobTransitions.startById`). Null when it matched no row;
   * the caller then reads the row to see why.
   */
  async beginById(jobId: string, modelId: string, provider: string): Promise<{ job: Job; announced: Promise<void> } | null> {
    await this.lineReadBefore();
    const job = await this.run(() => this.transitions.startById(jobId, modelId, provider, this.deps.clock.now()));
    return job ? { job, announced: this.announceStart(job) } : null;
  }

  /**
   * The line moves up (at once: the jobs behind hear their new places without
   * waiting for this job's STARTED), the scheduler's clock moves, and STARTED
   * goes out after the job's QUEUED. A job started before (its attempt
   * count says so) went back to the queue after that run: its stream hears so
   * before this STARTED, unless it heard so already (the hand-back, the retry
   * or the stalled check told it; then this one is dropped). Untold, its
   * worker was lost: its row was still PROCESSING, or the stalled check set
   * it PENDING and has not told it yet. A job that starts once adds nothing.
   */
  private announceStart(job: Job): Promise<void> {
    this.lineMovedUp();
    const lostRun = job.attempts > 1 ? job.attempts - 1 : null;
    const announced = (async () => {
      await this.run(() => this.deps.scheduler.started(job.priority));
      await this.afterQueued(job);
      // Taken now: nothing waits ahead of it.
      if (lostRun !== null) await this.run(() => this.tellRequeued(job, 'WORKER_LOST', lostRun, 0));
      // A start changes none of its batch's counts: no BATCH_PROGRESS for it (docs/batches.md).
      await this.run(() => this.emit(job, { type: 'STARTED', step: 0, totalSteps: workSteps(job) }));
    })();
    announced.catch(() => undefined); // the caller awaits it; this keeps an early failure from counting as unhandled
    return announced;
  }

  /**
   * Steps' progress, or frames' for a clip, in order, in one append (events
   * only, and no webhook: the row's step is written by `recordStep`, less
   * often). Dropped once the job's return to the queue after this run was
   * told: a run that goes on for a moment after it lost the job (a lapsed
   * lock not yet noticed) adds nothing after that QUEUED.
   */
  progress(job: Job, steps: readonly Pick<ProgressEvent, 'step' | 'elapsedMs' | 'etaMs' | 'preview'>[]): Promise<void> {
    const totalSteps = workSteps(job);
    const fields = this.eventFields(job, job.ownerId, this.deps.clock.now().toISOString());
    // Built field by field, the job's fields spread last: an object literal that starts with a spread
    // took V8's slow path here, ≈ 5 µs an event against 0.1 (docs/performance.md, "The worker bench's
    // client and fewer allocations per event").
    return this.deps.events.publishAll(steps.map((s) => ({
      type: 'PROGRESS' as const, step: s.step, elapsedMs: s.elapsedMs, etaMs: s.etaMs, preview: s.preview, totalSteps, ...fields,
    })), requeueOrder(job, job.attempts));
  }

  /** The row's step, from the run `job.attempts` started; false when a later start took the job, or it stopped running. */
  recordStep(job: Job, step: number): Promise<boolean> {
    return this.transitions.recordStep(job.id, step, job.attempts);
  }

  /** Images, usage and COMPLETED in one transaction; then the slot is released (the images stay counted). */
  async complete(job: Job, images: NewImage[]): Promise<StoredImage[] | null> {
    const stored = await this.run(() => this.transitions.complete(job, images, this.deps.clock.now()));
    if (!stored) return null;
    await this.ended(job, { type: 'COMPLETED', step: job.steps, totalSteps: job.steps, imageIds: stored.map((i) => i.id) });
    return stored;
  }

  /** A clip's file, usage and COMPLETED in one transaction; then the slot is released (its seconds stay counted). */
  async completeVideo(job: Job, video: JobVideoFile): Promise<boolean> {
    if (!(await this.run(() => this.transitions.completeVideo(job, video, this.deps.clock.now())))) return false;
    job.video = video;
    await this.ended(job, { type: 'COMPLETED', step: workSteps(job), totalSteps: workSteps(job), imageIds: [] });
    return true;
  }

  /**
   * An open job → FAILED with a code, while no start came after the one
   * `job.attempts` names (the caller's run, or its read of the row); its
   * unproduced images go back to today's allowance.
   */
  async fail(job: Job, error: JobFailure): Promise<boolean> {
    if (!(await this.run(() => this.transitions.finish(job.id, JobStatus.FAILED, this.deps.clock.now(), error, undefined, job.attempts)))) return false;
    await this.afterFinal(job, { type: 'FAILED', totalSteps: workSteps(job), error }, job.status === JobStatus.PENDING);
    return true;
  }

  /**
   * The end of a job whose row is final, told again from the row: its slot
   * released, its final event published, its batch recounted. An outage
   * longer than the worker's retries can leave a row final with none of that
   * done (docs/operations.md, "Outages of PostgreSQL or Redis"), so the worker
   * that takes such a job's entry again, and a `jobUpdated` that finds no end
   * in the job's log, call this. Each step is a no-op when it was done: the
   * release, the final event (appended once per job, `finalEventOrder`), the recount.
   */
  async announceEnd(job: Job): Promise<void> {
    const totalSteps = workSteps(job);
    let event: JobEvent;
    if (job.status === JobStatus.COMPLETED) {
      event = { type: 'COMPLETED', step: totalSteps, totalSteps, imageIds: await this.run(() => this.transitions.imageIdsOf(job.id)) };
    } else if (job.status === JobStatus.FAILED) {
      event = { type: 'FAILED', totalSteps, error: { code: job.errorCode as JobFailure['code'], message: job.errorMessage ?? '' } };
    } else if (job.status === JobStatus.CANCELLED) {
      event = { type: 'CANCELLED', step: job.step, totalSteps };
    } else {
      return;
    }
    await this.ended(job, event);
  }

  /** An open job → CANCELLED (by its worker, which saw the cancel flag). `actorId` is who cancelled. */
  async cancel(job: Job, actorId: string): Promise<boolean> {
    return this.cancelFrom(job, actorId, undefined);
  }

  /**
   * A job no worker holds yet: its queue entry is removed, then PENDING →
   * CANCELLED. False when a worker already has it (its entry is locked) or it
   * is no longer pending; the caller then asks the worker to stop it.
   */
  async withdraw(job: Job, actorId: string): Promise<boolean> {
    return (await this.takeEntryBack(job.id)) && this.cancelFrom(job, actorId, [JobStatus.PENDING]);
  }

  /**
   * A job whose start deadline passed while it waited: its entry is removed,
   * then PENDING → FAILED with DEADLINE_EXCEEDED, as a worker taking it would
   * have ended it, so its open-job slot is free now rather than when the queue
   * reaches it. False when a worker holds it already (that worker checks the
   * deadline) or it is no longer pending.
   */
  async expire(job: Job): Promise<boolean> {
    if (!(await this.takeEntryBack(job.id))) return false;
    const error: JobFailure = { code: 'DEADLINE_EXCEEDED', message: 'The job could not start before its deadline' };
    if (!(await this.run(() => this.transitions.finish(job.id, JobStatus.FAILED, this.deps.clock.now(), error, [JobStatus.PENDING])))) return false;
    await this.afterFinal(job, { type: 'FAILED', totalSteps: workSteps(job), error }, true);
    return true;
  }

  /** Removes a job's queue entry unless a worker holds it (its entry is locked); true when none is left. */
  private async takeEntryBack(jobId: string): Promise<boolean> {
    const entry = await this.deps.queue.getJob(jobId);
    return entry ? entry.remove().then(() => true, () => false) : true;
  }

  private async cancelFrom(job: Job, actorId: string, from: JobStatus[] | undefined): Promise<boolean> {
    if (!(await this.run(() => this.transitions.finish(job.id, JobStatus.CANCELLED, this.deps.clock.now(), null, from)))) return false;
    await this.afterFinal(job, { type: 'CANCELLED', actorId, step: job.step, totalSteps: workSteps(job) }, job.status === JobStatus.PENDING);
    return true;
  }

  /**
   * Removes whatever files a run of `job` stored (jobResultKeys) for a job that ended FAILED or CANCELLED: a
   * worker stores a job's files before its completion records them, so a run cut short leaves them otherwise.
   * Best effort: a file that cannot be removed now is logged, and the job's end stands.
   */
  async discardResults(job: Pick<Job, 'id' | 'count' | 'kind'>): Promise<void> {
    await Promise.all(jobResultKeys(job).map((key) => this.deps.store.delete(key).catch((err: unknown) => {
      this.deps.logger.warn({ err, jobId: job.id, key }, 'a file of a job that ended without it could not be removed');
    })));
  }

  /**
   * PROCESSING → PENDING: the job waits in the queue again (retried after a
   * backoff, handed back on shutdown, or repaired by the reconciler), and its
   * stream hears so: QUEUED with `reason` and its place. Only while the run
   * `job.attempts` names is the row's last start: a job another worker
   * started since stays running. The caller puts the entry back in the queue
   * after this, so the next STARTED comes after it.
   */
  async requeue(job: Job, reason: RequeueReason): Promise<boolean> {
    const run = job.attempts;
    if (!(await this.run(() => this.transitions.requeue(job.id, run)))) return false;
    job.status = JobStatus.PENDING;
    await this.run(() => this.tellRequeued(job, reason, run));
    return true;
  }

  /**
   * BullMQ's stalled check moved a job's entry back to the queue: the worker
   * running it stopped renewing its lock (it died, or lost Redis for longer
   * than the lock). When the row says the job still runs and no worker has
   * taken the entry again, the row goes back to PENDING, only while that run
   * is still the row's last start and the job still open, and only then its
   * stream hears it waits (WORKER_LOST, with its place): a job that ended
   * meanwhile (its old worker finished it, it was cancelled) is not told
   * back in the queue. A worker that takes the entry before this is told
   * tells it before its STARTED instead (`announceStart`); the stream hears it once.
   */
  async foundStalled(jobId: string): Promise<void> {
    const job = await this.run(() => this.transitions.find(jobId));
    if (job?.status !== JobStatus.PROCESSING) return;
    if ((await this.run(() => this.deps.queue.getJobState(jobId))) === 'active') return;
    await this.requeue(job, 'WORKER_LOST');
  }

  /**
   * QUEUED with why a job that had started waits again and its place (counted
   * from the rows, `waitingAhead`, unless given), appended once per run that
   * ended without finishing (`requeueOrder`): the hand-back, the stalled check
   * and the next start may each tell it, and the stream hears it once, never
   * after the job's final event.
   */
  private async tellRequeued(job: Job, reason: RequeueReason, run: number, position?: number): Promise<void> {
    const queuePosition = position ?? await waitingAhead(this.deps.db, job);
    const event = { type: 'QUEUED' as const, step: 0 as const, totalSteps: workSteps(job), queuePosition, requeueReason: reason };
    await this.deps.events.publish({ ...event, ...this.eventFields(job, job.ownerId, this.deps.clock.now().toISOString()) }, requeueOrder(job, run));
  }

  private async afterFinal(job: Job, event: JobEvent, wasWaiting: boolean): Promise<void> {
    await this.ended(job, event);
    await this.discardResults(job);
    // A waiting job left the line: those behind it moved up.
    if (wasWaiting) void this.announcePositions();
  }

  /**
   * What follows a final transition: the slot is released (a completed job's
   * images or seconds stay counted, a failed or cancelled one's go back to
   * the day's allowance), the final event goes out, the batch is recounted.
   */
  private async ended(job: Job, event: JobEvent): Promise<void> {
    const { meter, amount } = quotaCharge(job);
    try {
      await this.run(() => this.deps.quotas.release(job.ownerId, job.id, job.createdAt, event.type === 'COMPLETED' ? 0 : amount, meter));
      await this.run(() => this.emit(job, event));
      await this.run(() => this.deps.batches.jobChanged(job));
    } catch (error) {
      // The row is final: its end is told again from the row once the outage is over (`OwedEnds`).
      this.owedEnds.owe(job.id);
      throw error;
    }
  }

  /**
   * Publishes a job event to its subscribers and, for state changes, to its
   * webhook (one delivery per job and event type, however often it is told).
   */
  private async emit(job: Job, event: JobEvent): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    const order = FINAL_EVENT_TYPES.has(event.type) ? finalEventOrder(job) : undefined;
    await this.deps.events.publish({ ...event, ...this.eventFields(job, event.actorId ?? job.ownerId, at) }, order);
    await this.deps.webhooks?.notify(job, event.type, at);
  }

  /** What every event of a job says about it. */
  private eventFields(job: Job, actorId: string, at: string) {
    return { actorId, at, jobId: job.id, sessionId: job.sessionId, apiKeyId: job.apiKeyId, batchId: job.batchId ?? null };
  }

  /**
   * Waits until the job's QUEUED is in its stream, so STARTED comes after it:
   * the API appends QUEUED once the queue entry is added (a batch's after all
   * of them), and a worker may take the entry and start first. Gives up after
   * about two seconds (the API died before announcing the job), and never
   * holds the render, only its events.
   */
  private async afterQueued(job: Job): Promise<void> {
    for (const pause of QUEUED_WAITS_MS) {
      if (pause) await sleep(pause);
      if (await this.deps.events.hasJobEvent(job.id, 'QUEUED').catch(() => true)) return;
    }
    this.deps.logger.warn({ jobId: job.id }, 'STARTED without a QUEUED before it: none came');
  }

  private run<T>(step: () => Promise<T>): Promise<T> {
    return this.bookkeeping(step);
  }

  /** The line moved: tell every waiting job its new place and ETA. Never throws. */
  async announcePositions(): Promise<void> {
    await publishQueuePositions(this.deps).catch((err) => this.deps.logger.warn({ err }, 'could not publish queue positions'));
  }

  /**
   * A job started, so every waiting one moved up: the first start after a
   * quiet half second announces the new places at once, the starts after it
   * share one announcement half a second later (across replicas). Back-to-back
   * jobs would otherwise each re-read the line and publish to every waiting job.
   * With no queue entry waiting (a Redis count), there is no one to tell.
   */
  private lineMovedUp(): void {
    const key = `${this.deps.prefix}:positions:announced`;
    const line = (async () => {
      if ((await this.deps.queue.count()) === 0) return null;
      if (await this.deps.redis.set(key, '1', 'PX', 500, 'NX')) return readQueueLine(this.deps);
      this.announcePositionsSoon();
      return null;
    })();
    this.lineRead = line.then(() => undefined, () => undefined);
    void line.then((read) => read && publishQueueLine(this.deps, read))
      .catch((err) => this.deps.logger.warn({ err }, 'could not announce queue positions'));
  }

  /**
   * A start waits until the line an earlier start announces at once has been
   * read (at most LINE_READ_WAIT_MS), so the job that moved to the front hears
   * its new place before its own STARTED, not never. Only the first start
   * after a quiet half second announces at once; the wait is nothing for the
   * starts after it.
   */
  private async lineReadBefore(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.lineRead, new Promise<void>((resolve) => { timer = setTimeout(resolve, LINE_READ_WAIT_MS); })]);
    clearTimeout(timer);
  }

  /**
   * A job that went ahead of waiting ones moved them back: tell them, at most
   * once per half second across all replicas (a burst of arrivals makes one
   * announcement, not one per job).
   */
  announcePositionsSoon(): void {
    const key = `${this.deps.prefix}:positions:pending-announce`;
    void this.deps.redis.set(key, '1', 'PX', 500, 'NX').then((claimed) => {
      if (claimed) this.announcements.after(500, () => void this.announcePositions());
    }, (err) => this.deps.logger.warn({ err }, 'could not schedule queue positions'));
  }
}

/** Announcements a lifecycle and its copies put off (`announcePositionsSoon`), dropped at shutdown (`JobLifecycle.stop`). */
class DelayedAnnouncements {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  after(ms: number, announce: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      announce();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * A job's return to the queue after run `run` (its attempt number) is appended once, never after a later run's,
 * and never after the job's final event (whoever tells it late: a stalled check whose job ended meanwhile).
 */
function requeueOrder(job: Pick<Job, 'id' | 'batchId'>, run: number): EventOrder {
  return { key: `job-requeued:${job.id}`, rank: run, notAfter: finalEventOrder(job) };
}

/** What a job's queue entry carries (kernel/queues.ts). */
function entryData(job: Job, traceContext: Record<string, string> | undefined): GenerationJobData {
  return { jobId: job.id, modelId: job.modelId, requestId: job.requestId, ...(traceContext ? { traceContext } : {}) };
}
