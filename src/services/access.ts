import { DataSource, EntityManager } from 'typeorm';
import { CollabSession, Job, Role, SessionMember, SessionRole, SessionStatus, type User } from '../entities';
import { forbidden, notFound } from '../schema/errors';
import { assertUuid } from './generation-input';

/**
 * Record-level access rules shared by services: who may see a job, a session
 * and its events. Outsiders get NOT_FOUND for private records they cannot
 * see (existence is not leaked), FORBIDDEN where they can see but not act.
 */
export class AccessPolicy {
  constructor(private readonly db: DataSource) {}

  async sessionRole(sessionId: string, userId: string, manager: EntityManager = this.db.manager): Promise<SessionRole | null> {
    const member = await manager.findOneBy(SessionMember, { sessionId, userId });
    return member?.role ?? null;
  }

  /** The session, if `user` is a member (admins see all); otherwise NOT_FOUND. */
  async assertSessionMember(user: User, sessionId: string): Promise<{ session: CollabSession; role: SessionRole | null }> {
    assertUuid('sessionId', sessionId);
    const session = await this.db.getRepository(CollabSession).findOneBy({ id: sessionId });
    if (!session) throw notFound('Session');
    const role = await this.sessionRole(sessionId, user.id);
    if (!role && user.role !== Role.ADMIN) throw notFound('Session');
    return { session, role };
  }

  /** OWNER and COLLABORATOR may generate into an active session; WATCHER may not. */
  async assertCanGenerateInto(user: User, sessionId: string): Promise<CollabSession> {
    const { session, role } = await this.assertSessionMember(user, sessionId);
    if (role !== SessionRole.OWNER && role !== SessionRole.COLLABORATOR) {
      throw forbidden('Watchers cannot generate into this session');
    }
    if (session.status === SessionStatus.ARCHIVED) throw forbidden('This session is archived');
    return session;
  }

  async canSeeJob(user: User, job: Job): Promise<boolean> {
    if (job.ownerId === user.id || user.role === Role.ADMIN) return true;
    return job.sessionId ? (await this.sessionRole(job.sessionId, user.id)) !== null : false;
  }

  async assertCanSeeJob(user: User, jobId: string): Promise<Job> {
    assertUuid('id', jobId);
    const job = await this.db.getRepository(Job).findOneBy({ id: jobId });
    if (!job || !(await this.canSeeJob(user, job))) throw notFound('Job');
    return job;
  }

  /** The owner, the session's owner and admins may cancel or retry a job. */
  async assertCanControlJob(user: User, jobId: string): Promise<Job> {
    const job = await this.assertCanSeeJob(user, jobId);
    if (job.ownerId === user.id || user.role === Role.ADMIN) return job;
    if (job.sessionId && (await this.sessionRole(job.sessionId, user.id)) === SessionRole.OWNER) return job;
    throw forbidden('Only the job\'s owner or the session owner can do this');
  }
}
