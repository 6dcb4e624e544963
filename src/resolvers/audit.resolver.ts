import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { AuditEvent, User } from '../entities';
import type { AppContext } from './context';
import { AuditEventConnection, AuditEventFilter } from './audit.types';

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: 'ADMIN: the security audit log, newest first.' })
  async auditEvents(
    @Ctx() ctx: AppContext,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Which events; all when absent.' }) filter?: AuditEventFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 50).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<AuditEventConnection> {
    const page = await ctx.services.audit.list(filter ?? {}, first ?? 50, after);
    return {
      edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    };
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who acted, if the account still exists.' })
  actor(@Root() event: AuditEvent, @Ctx() ctx: AppContext): Promise<User | null> {
    return event.actorId ? ctx.loaders.user.load(event.actorId) : Promise.resolve(null);
  }

  @FieldResolver(() => User, { nullable: true, description: 'Whose account it concerns, if the account still exists.' })
  targetUser(@Root() event: AuditEvent, @Ctx() ctx: AppContext): Promise<User | null> {
    return event.targetUserId ? ctx.loaders.user.load(event.targetUserId) : Promise.resolve(null);
  }
}
