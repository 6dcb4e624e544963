import { randomBytes } from 'node:crypto';
import { DataSource, LessThan } from 'typeorm';
import {
  AuditEventKind, CollabSession, SessionInvite, SessionMember, SessionRole, SessionStatus, TierPolicy, User,
} from '../entities';
import { badInput, forbidden, notFound, quotaExceeded } from '../kernel/errors';
import type { EventPublisher } from '../kernel/events';
import type { AccessPolicy } from './access';
import { sessionManagedBy, sessionVisibleTo } from './access-rules';
import type { AuditLog, RequestOrigin } from './audit-log';
import { sha256 } from '../kernel/hashing';
import type { Clock } from '../kernel/clock';
import { assertUuid } from '../kernel/ids';

const INVITE_PREFIX = 'ati_';

/** Shared sessions: membership, invites, archiving. */
export class SessionService {
  constructor(
    private readonly db: DataSource,
    private readonly access: AccessPolicy,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    private readonly idleDays: number,
    private readonly audit: AuditLog,
  ) {}

  async create(user: User, nameRaw: string): Promise<CollabSession> {
    const name = nameRaw.trim();
    if (!name || name.length > 120) throw badInput('name', 'Session name must be 1 to 120 characters');
    const session = this.db.getRepository(CollabSession).create({ ownerId: user.id, name, status: SessionStatus.ACTIVE, lastActivityAt: this.clock.now() });
    await this.db.transaction(async (m) => {
      await m.insert(CollabSession, session);
      await m.insert(SessionMember, { sessionId: session.id, userId: user.id, role: SessionRole.OWNER });
    });
    return session;
  }

  get(user: User, sessionId: string): Promise<CollabSession> {
    return this.access.assertSessionMember(user, assertUuid('id', sessionId), 'id').then((r) => r.session);
  }

  async listFor(user: User): Promise<CollabSession[]> {
    return this.db.getRepository(CollabSession).createQueryBuilder('s')
      .innerJoin(SessionMember, 'm', 'm.session_id = s.id AND m.user_id = :uid', { uid: user.id })
      .orderBy('s.lastActivityAt', 'DESC').getMany();
  }

  members(sessionId: string): Promise<SessionMember[]> {
    return this.db.getRepository(SessionMember).find({ where: { sessionId }, order: { joinedAt: 'ASC' } });
  }

  private async assertOwner(user: User, sessionId: string): Promise<CollabSession> {
    const { session, role } = await this.access.assertSessionMember(user, assertUuid('sessionId', sessionId));
    if (!sessionManagedBy(user, role)) throw forbidden('Only the session owner can do this');
    return session;
  }

  async createInvite(user: User, sessionId: string, role: SessionRole, expiresInSeconds = 7 * 24 * 3600, maxUses = 1): Promise<{ invite: SessionInvite; token: string }> {
    const session = await this.assertOwner(user, sessionId);
    if (session.status === SessionStatus.ARCHIVED) throw forbidden('This session is archived');
    if (role === SessionRole.OWNER) throw badInput('role', 'Invites grant COLLABORATOR or WATCHER');
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > 30 * 24 * 3600) {
      throw badInput('expiresInSeconds', 'expiresInSeconds must be from 60 to 2592000');
    }
    if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1000) throw badInput('maxUses', 'maxUses must be from 1 to 1000');
    const token = INVITE_PREFIX + randomBytes(24).toString('base64url');
    const invite = this.db.getRepository(SessionInvite).create({
      sessionId: session.id, createdById: user.id, role, tokenHash: sha256(token), maxUses, uses: 0, revokedAt: null,
      expiresAt: new Date(this.clock.now().getTime() + expiresInSeconds * 1000),
    });
    await this.db.getRepository(SessionInvite).insert(invite);
    return { invite, token };
  }

  async revokeInvite(user: User, inviteId: string): Promise<SessionInvite> {
    const invite = await this.db.getRepository(SessionInvite).findOneBy({ id: assertUuid('id', inviteId) });
    // A non-member is answered as for an invite that does not exist: nothing tells them the session has one (docs/security.md).
    const role = invite ? await this.access.sessionRole(invite.sessionId, user.id) : null;
    if (!invite || !sessionVisibleTo(user, role)) throw notFound('Invite');
    if (!sessionManagedBy(user, role)) throw forbidden('Only the session owner can do this');
    invite.revokedAt = invite.revokedAt ?? this.clock.now();
    await this.db.getRepository(SessionInvite).update({ id: invite.id }, { revokedAt: invite.revokedAt });
    return invite;
  }

  async join(user: User, token: string, origin: RequestOrigin = {}): Promise<CollabSession> {
    const now = this.clock.now();
    const invite = await this.db.getRepository(SessionInvite).findOneBy({ tokenHash: sha256(token.trim()) });
    if (!invite || invite.revokedAt) throw badInput('token', 'This invite is not valid');
    if (invite.expiresAt <= now) throw badInput('token', 'This invite has expired');
    const session = await this.db.getRepository(CollabSession).findOneByOrFail({ id: invite.sessionId });
    if (session.status === SessionStatus.ARCHIVED) throw forbidden('This session is archived');
    if (await this.access.sessionRole(session.id, user.id)) return session;
    await this.db.transaction(async (m) => {
      const owner = await m.findOneByOrFail(User, { id: session.ownerId });
      const policy = await m.findOneByOrFail(TierPolicy, { tier: owner.tier });
      // Lock the session row so concurrent joins count members one at a time.
      await m.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [session.id]);
      // The invite first: a used-up one is refused as an invalid one is, whatever the session's occupancy
      // (docs/security.md, "Shared sessions"). A refusal for capacity below rolls the use back.
      const used = await m.createQueryBuilder().update(SessionInvite).set({ uses: () => 'uses + 1' })
        .where('id = :id AND uses < max_uses AND revoked_at IS NULL', { id: invite.id }).execute();
      if (!used.affected) throw badInput('token', 'This invite has been used up');
      const members = await m.countBy(SessionMember, { sessionId: session.id });
      if (members >= policy.maxSessionMembers) {
        throw quotaExceeded(`This session is full (${policy.maxSessionMembers} members on the owner's ${owner.tier} tier)`, policy.maxSessionMembers, null);
      }
      await m.insert(SessionMember, { sessionId: session.id, userId: user.id, role: invite.role });
      await m.update(CollabSession, { id: session.id }, { lastActivityAt: now });
    });
    await this.events.publish({ type: 'MEMBER_JOINED', at: now.toISOString(), jobId: null, sessionId: session.id, actorId: user.id });
    await this.audit.record({
      kind: AuditEventKind.SESSION_MEMBER_JOINED, actorId: user.id, origin,
      details: { sessionId: session.id, inviteId: invite.id, role: invite.role },
    });
    return session;
  }

  async leave(user: User, sessionId: string, origin: RequestOrigin = {}): Promise<boolean> {
    const role = await this.access.sessionRole(assertUuid('sessionId', sessionId), user.id);
    if (!role) throw notFound('Session');
    if (role === SessionRole.OWNER) throw badInput('sessionId', 'The owner cannot leave their session');
    await this.removeMembership(sessionId, user.id);
    await this.audit.record({ kind: AuditEventKind.SESSION_MEMBER_LEFT, actorId: user.id, origin, details: { sessionId, role } });
    return true;
  }

  /** The owner (or an admin) removes a member; the audit names both. */
  async removeMember(owner: User, sessionId: string, userId: string, origin: RequestOrigin = {}): Promise<CollabSession> {
    const session = await this.assertOwner(owner, sessionId);
    const role = await this.access.sessionRole(session.id, assertUuid('userId', userId));
    if (!role) throw notFound('Member');
    if (role === SessionRole.OWNER) throw badInput('userId', 'The owner cannot be removed');
    await this.removeMembership(session.id, userId);
    await this.audit.record({
      kind: AuditEventKind.SESSION_MEMBER_REMOVED, actorId: owner.id, targetUserId: userId, origin, details: { sessionId: session.id, role },
    });
    return session;
  }

  /** Deletes the membership and announces it; subscriptions of that user end on the event. */
  private async removeMembership(sessionId: string, userId: string): Promise<void> {
    await this.db.getRepository(SessionMember).delete({ sessionId, userId });
    await this.events.publish({ type: 'MEMBER_LEFT', at: this.clock.now().toISOString(), jobId: null, sessionId, actorId: userId });
  }

  /** Archives sessions idle longer than the configured days; returns how many. */
  async archiveIdle(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.idleDays * 24 * 3600 * 1000);
    const result = await this.db.getRepository(CollabSession).update(
      { status: SessionStatus.ACTIVE, lastActivityAt: LessThan(cutoff) },
      { status: SessionStatus.ARCHIVED, archivedAt: this.clock.now() },
    );
    return result.affected ?? 0;
  }

  async touch(sessionId: string): Promise<void> {
    await this.db.getRepository(CollabSession).update({ id: sessionId }, { lastActivityAt: this.clock.now() });
  }
}

