import { DataSource } from 'typeorm';
import { Role, Tier, User } from '../entities';
import { forbidden, notFound } from '../kernel/errors';
import { assertUuid } from './generation-input';
import type { PrincipalStamps } from './principal-stamps';

/** Admin operations on accounts. */
export class UserService {
  constructor(private readonly db: DataSource, private readonly stamps: PrincipalStamps) {}

  async setTier(admin: User, userId: string, tier: Tier): Promise<User> {
    return this.change(admin, userId, { tier });
  }

  async setRole(admin: User, userId: string, role: Role): Promise<User> {
    if (admin.id === userId && role !== Role.ADMIN) throw forbidden('Admins cannot demote themselves');
    return this.change(admin, userId, { role });
  }

  private async change(admin: User, userId: string, values: Partial<Pick<User, 'tier' | 'role'>>): Promise<User> {
    if (admin.role !== Role.ADMIN) throw forbidden('Only admins can change accounts');
    const users = this.db.getRepository(User);
    const user = await users.findOneBy({ id: assertUuid('userId', userId) });
    if (!user) throw notFound('User');
    await users.update({ id: user.id }, values);
    await this.stamps.bump(user.id); // open sockets of that user apply it to their next operation
    return { ...user, ...values } as User;
  }

  list(first: number, offset: number): Promise<User[]> {
    return this.db.getRepository(User).find({ order: { createdAt: 'DESC' }, take: first, skip: offset });
  }
}
