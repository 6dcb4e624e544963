import type { JobFailure } from '../kernel/events';
import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { Batch, FINAL_JOB_STATUSES, Image, Job, JobStatus, OPEN_JOB_STATUSES, UsageRecord, workSteps, type JobVideoFile } from '../entities';
import { utcDay } from '../kernel/clock';
import { quotaCharge } from './quotas';
import { EntityInsert } from '../database/entity-insert';
import { EntityLookup } from '../database/entity-lookup';

/** What the worker stores per generated image (the id and timestamps are the database's). */
export type NewImage = Omit<Image, 'id' | 'createdAt' | 'assignId' | 'job'>;

/** A stored image of a completed job, as the completion reports it. */
export type StoredImage = Pick<Image, 'id' | 'index'>;

/** The open statuses as an SQL list, for the transitions written as plain statements. */
const OPEN = OPEN_JOB_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * PENDING or PROCESSING → PROCESSING. The row's own columns give the first
 * start time and the attempt count, so the statement needs nothing read before it.
 */
const START = `WITH started AS (
    UPDATE jobs SET status = 'PROCESSING', started_at = COALESCE(started_at, $2), attempts = attempts + 1,
      execution_provider = $3, step = 0, updated_at = CURRENT_TIMESTAMP
    WHERE id = $1 AND status IN (${OPEN})
    RETURNING attempts, started_at)
  SELECT attempts, started_at FROM started`;

/**
 * The same start for a worker that has not read the row, which comes back
 * whole (`$4` the model its queue entry names, `columns` every column). A
 * PENDING job whose deadline has passed is not started: the worker then
 * reads the row and fails it, as it fails one it read first.
 */
const startReturning = (columns: string) => `WITH started AS (
    UPDATE jobs SET status = 'PROCESSING', started_at = COALESCE(started_at, $2), attempts = attempts + 1,
      execution_provider = $3, step = 0, updated_at = CURRENT_TIMESTAMP
    WHERE id = $1 AND model_id = $4 AND status IN (${OPEN})
      AND NOT (status = 'PENDING' AND deadline_at IS NOT NULL AND deadline_at < $2)
    RETURNING *)
  SELECT ${columns} FROM started`;

/**
 * An open job → COMPLETED with its images, usage and album entries, as one
 * statement: every insert reads the job from the conditional UPDATE, so a
 * job that is no longer open, or that a later start took ($7 the attempt
 * that rendered it), gets nothing written, and the statement
 * commits (or fails) as a whole. Rows of the same job written before (the
 * unique (job, index) index) are reported with the new ones.
 */
const COMPLETE = `WITH done AS (
    UPDATE jobs SET status = 'COMPLETED', completed_at = $2, step = $3, updated_at = CURRENT_TIMESTAMP
    WHERE id = $1 AND status IN (${OPEN}) AND attempts = $7
    RETURNING id, owner_id),
  added AS (
    INSERT INTO images (id, job_id, owner_id, "index", seed, width, height, storage_key, sha256, bytes, parameters)
    SELECT gen_random_uuid(), done.id, done.owner_id, x."index", x.seed, x.width, x.height, x.storage_key, x.sha256, x.bytes, x.parameters
    FROM done, jsonb_to_recordset($4::jsonb)
      AS x("index" int, seed int, width int, height int, storage_key text, sha256 text, bytes int, parameters jsonb)
    ON CONFLICT DO NOTHING
    RETURNING id, "index"),
  stored AS (
    SELECT id, "index" FROM added
    UNION ALL SELECT i.id, i."index" FROM images i JOIN done ON i.job_id = done.id),
  usage AS (
    INSERT INTO usage_records (id, user_id, job_id, day, images)
    SELECT gen_random_uuid(), done.owner_id, done.id, $5, (SELECT count(*) FROM stored) FROM done
    ON CONFLICT DO NOTHING),
  album AS (
    INSERT INTO album_images (album_id, image_id, position)
    SELECT $6::uuid, s.id, COALESCE((SELECT max(position) FROM album_images WHERE album_id = $6::uuid), 0) + row_number() OVER (ORDER BY s."index")
    FROM stored s WHERE $6::uuid IS NOT NULL
    ON CONFLICT DO NOTHING)
  SELECT (SELECT count(*)::int FROM done) AS won,
    (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', id, 'index', "index") ORDER BY "index"), '[]'::jsonb) FROM stored) AS images`;

/**
 * The jobs table as a state machine. Every transition is one conditional
 * UPDATE (`WHERE status IN (...)`), so two actors racing on a job (a cancel
 * and a completion, two workers after a lock expiry, the reconciler) cannot
 * both win: the one whose UPDATE matched a row reports true and does the rest
 * (quota, events); the other does nothing. Each start counts an attempt, and
 * what a run writes (its step, completion, failure, hand-back) also names the
 * attempt it started as, so a worker that missed its lock's loss cannot write
 * over the run that took the job from it (docs/architecture.md, "A job
 * fenced by its attempt").
 *
 *   PENDING ──start──▶ PROCESSING ──complete──▶ COMPLETED
 *      ▲ │                │ │
 *      │ └──fail/cancel───┼─┴──fail/cancel──▶ FAILED / CANCELLED
 *      └─────requeue──────┘
 */
export class JobTransitions {
  private readonly jobInsert: EntityInsert<Job>;
  private readonly jobs: EntityLookup<Job>;
  private readonly startAndRead: string;

  constructor(private readonly db: DataSource) {
    this.jobInsert = new EntityInsert(db, Job);
    this.jobs = new EntityLookup(db, Job);
    this.startAndRead = startReturning(this.jobs.selected);
  }

  /** One job's row (each queue entry's first read: one parameterised statement). */
  find(jobId: string): Promise<Job | null> {
    return this.jobs.findOneBy({ id: jobId });
  }

  /** The final rows among these jobs. */
  finalAmong(jobIds: string[]): Promise<Job[]> {
    return jobIds.length ? this.db.getRepository(Job).findBy({ id: In(jobIds), status: In([...FINAL_JOB_STATUSES]) }) : Promise.resolve([]);
  }

  /** One job's PENDING row (the submission's hot path: one parameterised statement, docs/architecture.md "The request path"). */
  insert(job: Job): Promise<void> {
    return this.jobInsert.insert(job);
  }

  /** A batch and all its PENDING jobs, in one transaction: all rows or none. */
  async insertBatch(batch: Batch, jobs: Job[]): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(Batch).insert(batch);
      // Chunks keep each INSERT well under PostgreSQL's 65,535 bind parameters.
      for (let i = 0; i < jobs.length; i += 200) await m.getRepository(Job).insert(jobs.slice(i, i + 200));
    });
  }

  /** Removes a batch whose queue entries could not all be added, with its jobs (ON DELETE CASCADE). */
  async discardBatch(batchId: string): Promise<void> {
    await this.db.getRepository(Batch).delete({ id: batchId });
  }

  /** Removes a row whose queue entry could not be added (submission failed as a whole). */
  async discardPending(jobId: string): Promise<void> {
    await this.db.getRepository(Job).delete({ id: jobId, status: JobStatus.PENDING });
  }

  /**
   * PENDING (or PROCESSING, when a crashed worker's job is picked up again) →
   * PROCESSING, in one statement; `job` follows the row when it won.
   */
  async start(job: Job, provider: string, now: Date): Promise<boolean> {
    const [row] = (await this.db.query(START, [job.id, now, provider])) as { attempts: number; started_at: Date }[];
    if (!row) return false;
    Object.assign(job, { status: JobStatus.PROCESSING, attempts: row.attempts, startedAt: new Date(row.started_at), executionProvider: provider, step: 0 });
    return true;
  }

  /**
   * `start` by id, for a worker that has not read the row: the started row,
   * or null when the job is not open, is another model's, is PENDING past
   * its deadline, or is gone (the caller reads the row to see which).
   */
  async startById(jobId: string, modelId: string, provider: string, now: Date): Promise<Job | null> {
    const [row] = (await this.db.query(this.startAndRead, [jobId, now, provider, modelId])) as Record<string, unknown>[];
    return row ? this.jobs.hydrate(row) : null;
  }

  /**
   * A running job's step, while `attempt` is still the row's last start;
   * false when it is not (another worker started the job since, or it is no
   * longer running), and nothing is written.
   */
  async recordStep(jobId: string, step: number, attempt: number): Promise<boolean> {
    const result = await this.db.getRepository(Job).update({ id: jobId, status: JobStatus.PROCESSING, attempts: attempt }, { step });
    return (result.affected ?? 0) > 0;
  }

  /**
   * PROCESSING → PENDING: handed back on shutdown, waiting for a retry, found
   * stalled, or repaired by the reconciler; only while `run` (its attempt
   * number) is the row's last start, so a job another worker started since
   * stays running.
   */
  async requeue(jobId: string, run: number): Promise<boolean> {
    const result = await this.db.getRepository(Job).update(
      { id: jobId, status: JobStatus.PROCESSING, attempts: run }, { status: JobStatus.PENDING, step: 0 },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * An open job (or only one in `from`) → FAILED or CANCELLED; with `attempt`,
   * only while that is the row's last start (a failure seen by the run or the
   * read that attempt made).
   */
  async finish(
    jobId: string, status: JobStatus.FAILED | JobStatus.CANCELLED, now: Date, error: JobFailure | null,
    from: readonly JobStatus[] = OPEN_JOB_STATUSES, attempt?: number,
  ): Promise<boolean> {
    const result = await this.db.getRepository(Job).update(
      { id: jobId, status: In([...from]), ...(attempt === undefined ? {} : { attempts: attempt }) },
      { status, completedAt: now, errorCode: error?.code ?? null, errorMessage: error?.message ?? null },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * Writes image rows, usage and album entries and marks the job COMPLETED,
   * all in one statement (COMPLETE above); null (and nothing written) when
   * the job is no longer open or a later start took it from `job.attempts`
   * (the run that rendered the images). The unique (job, index) index makes a re-run
   * after a crash write nothing twice.
   */
  async complete(job: Job, images: NewImage[], now: Date): Promise<StoredImage[] | null> {
    const rows = images.map((i) => ({
      index: i.index, seed: i.seed, width: i.width, height: i.height, storage_key: i.storageKey, sha256: i.sha256, bytes: i.bytes, parameters: i.parameters,
    }));
    const [result] = (await this.db.query(COMPLETE, [
      job.id, now, job.steps, JSON.stringify(rows), utcDay(job.createdAt), job.albumId ?? null, job.attempts,
    ])) as
      { won: number; images: StoredImage[] | string }[];
    if (!result.won) return null;
    return typeof result.images === 'string' ? JSON.parse(result.images) as StoredImage[] : result.images;
  }

  /**
   * An open VIDEO job → COMPLETED with its clip and its usage (whole seconds,
   * as admitted) in one transaction; false when the job is no longer open or
   * a later start took it from `job.attempts`.
   */
  async completeVideo(job: Job, video: JobVideoFile, now: Date): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const done = await m.getRepository(Job).update(
        { id: job.id, status: In([...OPEN_JOB_STATUSES]), attempts: job.attempts },
        { status: JobStatus.COMPLETED, completedAt: now, step: workSteps(job), video },
      );
      if (!done.affected) return false;
      await m.createQueryBuilder().insert().into(UsageRecord).values({
        id: randomUUID(), userId: job.ownerId, jobId: job.id, day: utcDay(job.createdAt), images: 0,
        videoSeconds: quotaCharge(job).amount,
      }).orIgnore().execute();
      return true;
    });
  }

  /** A job's image ids in index order, as its COMPLETED names them (`complete`'s answer). */
  async imageIdsOf(jobId: string): Promise<string[]> {
    const images = await this.db.getRepository(Image).find({ select: { id: true }, where: { jobId }, order: { index: 'ASC' } });
    return images.map((image) => image.id);
  }

  /**
   * Open jobs whose row has not changed for `graceSeconds` (by the database's
   * clock, which every replica shares), `limit` at a time in id order after
   * the `after` row: the reconciler's candidates.
   */
  /** PENDING jobs whose start deadline is before `now`, oldest first: they can no longer run. */
  pastDeadline(now: Date, limit: number): Promise<Job[]> {
    return this.db.getRepository(Job).createQueryBuilder('j')
      .where('j.status = :pending', { pending: JobStatus.PENDING })
      .andWhere('j.deadlineAt < :now', { now })
      .orderBy('j.createdAt', 'ASC').take(limit).getMany();
  }

  stale(graceSeconds: number, limit: number, after: Job | null = null): Promise<Job[]> {
    const qb = this.db.getRepository(Job).createQueryBuilder('j')
      .where('j.status IN (:...open)', { open: [...OPEN_JOB_STATUSES] })
      .andWhere('j.updatedAt < now() - make_interval(secs => :grace)', { grace: graceSeconds });
    if (after) qb.andWhere('j.id > :after', { after: after.id });
    return qb.orderBy('j.id', 'ASC').take(limit).getMany();
  }
}

export type { JobFailure };
