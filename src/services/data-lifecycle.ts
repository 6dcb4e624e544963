import { In, type DataSource, type EntityManager, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';
import {
  Album, AuditEventKind, CollabSession, DatasetImage, FINAL_JOB_STATUSES, Image, Job, Lora, OPEN_JOB_STATUSES, SessionMember, SessionRole, TierPolicy,
  TrainingRun, TrainingSampleImage, User,
} from '../entities';
import type { Clock } from '../kernel/clock';
import type { EventPublisher } from '../kernel/events';
import { AppError, badInput, ErrorCode, notFound, stateConflict } from '../kernel/errors';
import { assertUuid } from '../kernel/ids';
import type { Logger } from '../observability/logger';
import type { ArtifactStore } from '../storage/artifact-store';
import { jobResultKeys } from '../storage/job-files';
import { trainingCheckpointFiles } from './training-lifecycle';
import type { AuditLog, RequestOrigin } from './audit-log';
import { lockedAdminIds } from './users';
import type { PrincipalStamps } from './principal-stamps';

/** Jobs expired per statement, so one housekeeping run never holds a huge transaction. */
const EXPIRY_BATCH = 500;
const DAY_MS = 86_400_000;

export interface DataLifecycleDeps {
  db: DataSource;
  store: ArtifactStore;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  /** A deleted account's tokens stop working on every replica at once, and its sockets close. */
  stamps: PrincipalStamps;
  /** The memberships that end with an account are told as MEMBER_LEFT, so the streams kept through them end. */
  events: EventPublisher;
}

/**
 * Deleting what users own, on request and by tier retention (docs/operations.md,
 * "Data lifecycle"). Rows go first, in one transaction (foreign keys cascade to
 * images, album entries, favourites, sessions…; usage rows are kept with the
 * user anonymised); the files follow once the rows are gone, so a crash
 * leaves at worst an orphan file, never a row pointing at a missing one.
 * Others' things answer NOT_FOUND, exactly like things that do not exist.
 */
export class DataLifecycle {
  constructor(private readonly o: DataLifecycleDeps) {}

  /** Deletes one of your images and its file; an album it was the cover of falls back to its first image. */
  async deleteImage(user: User, id: string): Promise<boolean> {
    const image = await this.o.db.getRepository(Image).findOneBy({ id: assertUuid('id', id), ownerId: user.id });
    if (!image) throw notFound('Image');
    await this.o.db.transaction(async (m) => {
      await this.clearCovers(m, 'i.id = :imageId', { imageId: image.id });
      await m.getRepository(Image).delete({ id: image.id });
    });
    await this.removeFiles([image.storageKey]);
    return true;
  }

  /** Deletes one of your finished jobs with its images and their files. */
  async deleteJob(user: User, id: string): Promise<boolean> {
    const job = await this.o.db.getRepository(Job).findOneBy({ id: assertUuid('id', id), ownerId: user.id });
    if (!job) throw notFound('Job');
    if ((OPEN_JOB_STATUSES as readonly string[]).includes(job.status)) {
      throw stateConflict('id', 'The job is still queued or running: cancel it first');
    }
    await this.removeFiles(await this.o.db.transaction((m) => this.deleteJobs(m, [job.id])));
    return true;
  }

  /**
   * Deletes your account and everything you own: jobs, images, albums,
   * sessions, presets, LoRAs, datasets, training runs, API keys and their
   * files (images, clips, LoRAs, dataset images, checkpoints, samples). `confirmEmail` must be
   * the account's address. Usage rows stay, anonymised, for admins' statistics;
   * the audit log keeps the deletion. Not with an API key (a leaked key must
   * not be able to erase an account): the `inPerson` rule refuses it first
   * (src/schema/permissions.ts).
   */
  async deleteAccount(user: User, confirmEmail: string, origin: RequestOrigin = {}): Promise<boolean> {
    if (confirmEmail.trim().toLowerCase() !== user.email.toLowerCase()) {
      throw badInput('confirmEmail', 'Type your account\'s email address to confirm the deletion');
    }
    const open = await this.o.db.getRepository(Job).countBy({ ownerId: user.id, status: In([...OPEN_JOB_STATUSES]) });
    if (open > 0) throw new AppError(ErrorCode.CONFLICT, `You have ${open} job(s) queued or running: cancel them first`);
    const { files, memberships } = await this.o.db.transaction(async (m) => {
      // The admins' rows locked, as a role change locks them: the last admin does not go.
      const admins = await lockedAdminIds(m);
      if (admins.length === 1 && admins[0] === user.id) {
        throw new AppError(ErrorCode.CONFLICT, 'You are the only admin: make another account an admin first (setUserRole)');
      }
      const ownerId = user.id;
      const images = await m.getRepository(Image).find({ select: { storageKey: true }, where: { ownerId } });
      const loras = await m.getRepository(Lora).find({ select: { storageKey: true }, where: { ownerId } });
      const results = await this.resultKeysOf(m, { ownerId });
      const datasetImages = await m.getRepository(DatasetImage).createQueryBuilder('di').select('di.storageKey')
        .innerJoin('datasets', 'd', 'd.id = di.dataset_id').where('d.owner_id = :ownerId', { ownerId }).getMany();
      const runs = await m.getRepository(TrainingRun).find({ select: { id: true, checkpointKey: true, checkpointStep: true, config: true, attempts: true }, where: { ownerId } });
      const samples = runs.length === 0 ? [] : await m.getRepository(TrainingSampleImage).find({
        select: { storageKey: true }, where: { runId: In(runs.map((run) => run.id)) },
      });
      const ending = await this.membershipsEndingWith(m, ownerId);
      // Their images may be the covers of others' albums (added as an editor).
      await this.clearCovers(m, 'i.owner_id = :ownerId', { ownerId });
      await m.getRepository(User).delete({ id: ownerId });
      const files = new Set([
        ...[...images, ...loras, ...datasetImages, ...samples].map((row) => row.storageKey),
        ...results, ...runs.flatMap(trainingCheckpointFiles),
      ]);
      return { files: [...files], memberships: ending };
    });
    await this.o.stamps.bump(user.id);
    await this.o.audit.record({ kind: AuditEventKind.ACCOUNT_DELETED, actorId: user.id, origin, details: { files: files.length } });
    await this.announceEnded(memberships);
    await this.removeFiles(files);
    return true;
  }

  /** The memberships an account's deletion ends: its own, and every member's of the sessions it owns (they cascade with it). */
  private membershipsEndingWith(m: EntityManager, userId: string): Promise<SessionMember[]> {
    return m.getRepository(SessionMember).createQueryBuilder('m')
      .innerJoin(CollabSession, 's', 's.id = m.session_id')
      .where('m.user_id = :userId OR s.owner_id = :userId', { userId })
      .getMany();
  }

  /**
   * Tells each ended membership as leaving does (MEMBER_LEFT), once the rows
   * are gone: every replica ends the streams kept through it, so members of
   * a deleted session stop receiving its jobs (docs/security.md, "Shared
   * sessions"). A session owner's comes after its members': it is the last
   * event of admins' feeds of the session, which thus hear everyone leave.
   * One that cannot be told (Redis unreachable) is logged; its streams end
   * when the event log reconnects and reads the memberships again.
   */
  private async announceEnded(memberships: SessionMember[]): Promise<void> {
    const at = this.o.clock.now().toISOString();
    const ownersLast = [...memberships].sort((a, b) => Number(a.role === SessionRole.OWNER) - Number(b.role === SessionRole.OWNER));
    for (const { sessionId, userId } of ownersLast) {
      await this.o.events.publish({ type: 'MEMBER_LEFT', at, jobId: null, sessionId, actorId: userId })
        .catch((err: unknown) => this.o.logger.warn({ err, sessionId, userId }, 'could not announce a membership ended with an account'));
    }
  }

  /**
   * Housekeeping: deletes finished jobs (with their images and files) older
   * than their owner's tier retention; a tier without one keeps everything.
   * Returns how many jobs went.
   */
  async expireByRetention(): Promise<number> {
    let expired = 0;
    for (const policy of await this.o.db.getRepository(TierPolicy).find()) {
      if (policy.retentionDays === null) continue;
      const cutoff = new Date(this.o.clock.now().getTime() - policy.retentionDays * DAY_MS);
      for (;;) {
        const ids = await this.expiredJobIds(policy, cutoff);
        if (ids.length === 0) break;
        await this.removeFiles(await this.o.db.transaction((m) => this.deleteJobs(m, ids)));
        expired += ids.length;
      }
    }
    return expired;
  }

  private async expiredJobIds(policy: TierPolicy, cutoff: Date): Promise<string[]> {
    const rows = await this.o.db.getRepository(Job).createQueryBuilder('j')
      .select('j.id', 'id')
      .innerJoin(User, 'u', 'u.id = j.owner_id')
      .where('u.tier = :tier', { tier: policy.tier })
      .andWhere('j.status IN (:...final)', { final: [...FINAL_JOB_STATUSES] })
      .andWhere('COALESCE(j.completed_at, j.created_at) < :cutoff', { cutoff })
      .limit(EXPIRY_BATCH)
      .getRawMany<{ id: string }>();
    return rows.map((row) => row.id);
  }

  /** Deletes jobs (images cascade); returns the storage keys of their images. */
  private async deleteJobs(m: EntityManager, ids: string[]): Promise<string[]> {
    const images = await m.getRepository(Image).find({ select: { storageKey: true }, where: { jobId: In(ids) } });
    const results = await this.resultKeysOf(m, { id: In(ids) });
    await this.clearCovers(m, 'i.job_id IN (:...jobIds)', { jobIds: ids });
    await m.getRepository(Job).delete({ id: In(ids) });
    return [...new Set([...images.map((image) => image.storageKey), ...results])];
  }

  /** Every key the results of the jobs `where` selects may have: a VIDEO job's clip and poster have no image rows (storage/job-files.ts). */
  private async resultKeysOf(m: EntityManager, where: FindOptionsWhere<Job>): Promise<string[]> {
    const jobs = await m.getRepository(Job).find({ select: { id: true, count: true, kind: true }, where });
    return jobs.flatMap(jobResultKeys);
  }

  /**
   * Clears the album covers chosen among the images `imagesWhere` (on `images i`)
   * selects, before they go: `cover_image_id` has no foreign key to do it.
   */
  private async clearCovers(m: EntityManager, imagesWhere: string, parameters: ObjectLiteral): Promise<void> {
    await m.createQueryBuilder().update(Album).set({ coverImageId: null })
      .where(`cover_image_id IN (SELECT i.id FROM images i WHERE ${imagesWhere})`, parameters).execute();
  }

  /** Removes files after their rows are gone; a failure leaves an orphan file, logged, never a broken row. */
  private async removeFiles(keys: string[]): Promise<void> {
    for (const key of keys) {
      await this.o.store.delete(key).catch((err: unknown) => this.o.logger.warn({ err, key }, 'could not delete a stored file'));
    }
  }
}
