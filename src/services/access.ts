import { DataSource, EntityManager, In } from 'typeorm';
import { Batch, CollabSession, Job, SessionMember, SessionRole, SessionStatus, type User } from '../entities';
import { forbidden, notFound } from '../kernel/errors';
import { allowedWithSessionRole, jobControlledBy, jobVisibleTo, sessionRoleContributes, sessionVisibleTo } from './access-rules';
import { assertUuid } from '../kernel/ids';
import { EntityLookup } from '../database/entity-lookup';

/**
 * Record-level access checks shared by services: who may see a job, a session
 * and its events (the rules themselves are in access-rules.ts). Outsiders get
 * NOT_FOUND for private records they cannot see (existence is not leaked),
 * FORBIDDEN where they can see but not act.
 */
export class AccessPolicy {
  /** A job's row by id, read on every `job` poll and every job subscription: one statement built once (database/entity-lookup.ts). */
  private readonly jobs: EntityLookup<Job>;

  constructor(private readonly db: DataSource) {
    this.jobs = new EntityLookup(db, Job);
  }

  async sessionRole(sessionId: string, userId: string, manager: EntityManager = this.db.manager): Promise<SessionRole | null> {
    const member = await manager.findOneBy(SessionMember, { sessionId, userId });
    return member?.role ?? null;
  }

  /** The memberships of these sessions, as `<sessionId> <userId>` keys, in one statement. */
  async membershipsOf(sessionIds: readonly string[]): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    const rows = await this.db.getRepository(SessionMember).find({ select: { sessionId: true, userId: true }, where: { sessionId: In([...sessionIds]) } });
    return new Set(rows.map((row) => `${row.sessionId} ${row.userId}`));
  }

  /** The session, if `user` is a member (admins see all); otherwise NOT_FOUND. */
  async assertSessionMember(user: User, sessionId: string, field = 'sessionId'): Promise<{ session: CollabSession; role: SessionRole | null }> {
    assertUuid(field, sessionId);
    const session = await this.db.getRepository(CollabSession).findOneBy({ id: sessionId });
    if (!session) throw notFound('Session', field);
    const role = await this.sessionRole(sessionId, user.id);
    if (!sessionVisibleTo(user, role)) throw notFound('Session', field);
    return { session, role };
  }

  /** OWNER and COLLABORATOR may generate into an active session; WATCHER may not. */
  async assertCanGenerateInto(user: User, sessionId: string): Promise<CollabSession> {
    const { session, role } = await this.assertSessionMember(user, sessionId);
    if (!sessionRoleContributes(role)) throw forbidden('Watchers cannot generate into this session');
    if (session.status === SessionStatus.ARCHIVED) throw forbidden('This session is archived');
    return session;
  }

  canSeeJob(user: User, job: Job): Promise<boolean> {
    return allowedWithSessionRole(jobVisibleTo, job, user, (sessionId) => this.sessionRole(sessionId, user.id));
  }

  async assertCanSeeJob(user: User, jobId: string): Promise<Job> {
    assertUuid('id', jobId);
    const job = await this.jobs.findOneBy({ id: jobId });
    if (!job || !(await this.canSeeJob(user, job))) throw notFound('Job');
    return job;
  }

  /** The owner, the session's owner and admins may cancel or retry a job. */
  async assertCanControlJob(user: User, jobId: string): Promise<Job> {
    const job = await this.assertCanSeeJob(user, jobId);
    if (await allowedWithSessionRole(jobControlledBy, job, user, (sessionId) => this.sessionRole(sessionId, user.id))) return job;
    throw forbidden('Only the job\'s owner or the session owner can do this');
  }

  /** A batch is seen and controlled like its jobs: the owner, admins, and (seeing) its session's members. NOT_FOUND otherwise. */
  async assertCanSeeBatch(user: User, batchId: string, field = 'id'): Promise<Batch> {
    assertUuid(field, batchId);
    const batch = await this.db.getRepository(Batch).findOneBy({ id: batchId });
    if (!batch || !(await allowedWithSessionRole(jobVisibleTo, batch, user, (sessionId) => this.sessionRole(sessionId, user.id)))) throw notFound('Batch');
    return batch;
  }

  /** The owner, the session's owner and admins may cancel a batch. */
  async assertCanControlBatch(user: User, batchId: string): Promise<Batch> {
    const batch = await this.assertCanSeeBatch(user, batchId);
    if (await allowedWithSessionRole(jobControlledBy, batch, user, (sessionId) => this.sessionRole(sessionId, user.id))) return batch;
    throw forbidden('Only the batch\'s owner or the session owner can do this');
  }
}
