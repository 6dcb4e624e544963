import { DataSource, type EntityManager } from 'typeorm';
import { AuditEventKind, Role, Tier, User } from '../entities';
import { forbidden, notFound } from '../kernel/errors';
import type { AuditLog, RequestOrigin } from './audit-log';
import { assertUuid } from '../kernel/ids';
import type { PrincipalStamps } from './principal-stamps';

/**
 * The admins' ids, their rows locked until `m`'s transaction ends: every change that could leave no admin (a
 * role change, an account deleted) takes this lock first, so two of them are taken one after the other.
 */
export async function lockedAdminIds(m: EntityManager): Promise<string[]> {
  const rows: { id: string }[] = await m.query(`SELECT id FROM users WHERE role = 'ADMIN' FOR UPDATE`);
  return rows.map((row) => row.id);
}

/** Admin operations on accounts; every change is audited with its before and after. */
export class UserService {
  constructor(private readonly db: DataSource, private readonly stamps: PrincipalStamps, private readonly audit: AuditLog) {}

  async setTier(admin: User, userId: string, tier: Tier, origin: RequestOrigin = {}): Promise<User> {
    return this.change(admin, userId, 'tier', tier, origin);
  }

  async setRole(admin: User, userId: string, role: Role, origin: RequestOrigin = {}): Promise<User> {
    if (admin.id === userId && role !== Role.ADMIN) throw forbidden('Admins cannot demote themselves');
    return this.change(admin, userId, 'role', role, origin);
  }

  private async change<K extends 'tier' | 'role'>(admin: User, userId: string, field: K, value: User[K], origin: RequestOrigin): Promise<User> {
    if (admin.role !== Role.ADMIN) throw forbidden('Only admins can change accounts');
    const id = assertUuid('userId', userId);
    const user = await this.db.transaction(async (m) => {
      // The admins' rows locked, and the caller found among them: two admins demoting each other at once are
      // taken one after the other, and the second is no longer an admin, so one admin always remains.
      if (!(await lockedAdminIds(m)).includes(admin.id)) throw forbidden('Only admins can change accounts');
      const found = await m.findOneBy(User, { id });
      if (!found) throw notFound('User');
      await m.update(User, { id: found.id }, { [field]: value });
      return found;
    });
    if (user[field] !== value) {
      await this.audit.record({
        kind: field === 'tier' ? AuditEventKind.TIER_CHANGED : AuditEventKind.ROLE_CHANGED,
        actorId: admin.id, targetUserId: user.id, origin, details: { before: user[field], after: value },
      });
    }
    await this.stamps.bump(user.id); // open sockets of that user apply it to their next operation
    return { ...user, [field]: value } as User;
  }

  list(first: number, offset: number): Promise<User[]> {
    return this.db.getRepository(User).find({ order: { createdAt: 'DESC' }, take: first, skip: offset });
  }
}
