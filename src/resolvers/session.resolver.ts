import { nullIfNotFound } from '../kernel/errors';
import { Arg, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { CollabSession, Role, SessionInvite, SessionMember, SessionRole, User } from '../entities';
import { originOf, viewerOf, type AppContext } from './context';
import { libraryKey } from './library-loaders';
import { ViewerDependent } from './viewer-dependent';

/**
 * A session reached through another record (a job, a preset): only its
 * members (and admins) see it, so nothing of a session reaches someone who
 * left or was removed, whatever they still hold that points at it.
 */
export async function sessionSeenBy(ctx: AppContext, sessionId: string | null): Promise<CollabSession | null> {
  const user = ctx.viewer?.user;
  if (!sessionId || !user) return null;
  if (user.role !== Role.ADMIN && !(await ctx.loaders.sessionRole.load(libraryKey(sessionId, user.id)))) return null;
  return ctx.loaders.session.load(sessionId);
}

@ObjectType({ description: 'A new invite with its token, shown only this once.' })
export class CreatedSessionInvite {
  @Field(() => SessionInvite, { description: 'The stored invite.' })
  invite: SessionInvite;

  @Field(() => String, { description: 'The token to pass to joinSession; share it as a link.' })
  token: string;
}

@Resolver(() => CollabSession)
export class SessionResolver {
  @Query(() => CollabSession, { nullable: true, description: 'A session you are a member of.' })
  session(@Arg('id', () => ID, { description: 'Session id.' }) id: string, @Ctx() ctx: AppContext): Promise<CollabSession | null> {
    return nullIfNotFound(() => ctx.services.sessions.get(viewerOf(ctx).user, id));
  }

  @Query(() => [CollabSession], { description: 'Sessions you are a member of, most recently active first.' })
  sessions(@Ctx() ctx: AppContext): Promise<CollabSession[]> {
    return ctx.services.sessions.listFor(viewerOf(ctx).user);
  }

  @Mutation(() => CollabSession, { description: 'Creates a session you own.' })
  createSession(@Arg('name', () => String, { description: 'Session name.' }) name: string, @Ctx() ctx: AppContext): Promise<CollabSession> {
    return ctx.services.sessions.create(viewerOf(ctx).user, name);
  }

  @Mutation(() => CreatedSessionInvite, { description: 'OWNER: creates an invite granting a role; expiring, use-limited, revocable.' })
  async createSessionInvite(
    @Arg('sessionId', () => ID, { description: 'The session.' }) sessionId: string,
    @Arg('role', () => SessionRole, { description: 'COLLABORATOR or WATCHER.' }) role: SessionRole,
    @Ctx() ctx: AppContext,
    @Arg('expiresInSeconds', () => Int, { nullable: true, description: 'Lifetime, 60 s to 30 days (default 7 days).' }) expiresInSeconds?: number | null,
    @Arg('maxUses', () => Int, { nullable: true, description: 'People who may use it (default 1).' }) maxUses?: number | null,
  ): Promise<CreatedSessionInvite> {
    return ctx.services.sessions.createInvite(viewerOf(ctx).user, sessionId, role, expiresInSeconds ?? undefined, maxUses ?? undefined);
  }

  @Mutation(() => SessionInvite, { description: 'OWNER: revokes an invite.' })
  revokeSessionInvite(@Arg('id', () => ID, { description: 'Invite id.' }) id: string, @Ctx() ctx: AppContext): Promise<SessionInvite> {
    return ctx.services.sessions.revokeInvite(viewerOf(ctx).user, id);
  }

  @Mutation(() => CollabSession, { description: 'Joins a session with an invite token.' })
  joinSession(@Arg('token', () => String, { description: 'Invite token.' }) token: string, @Ctx() ctx: AppContext): Promise<CollabSession> {
    return ctx.services.sessions.join(viewerOf(ctx).user, token, originOf(ctx));
  }

  @Mutation(() => Boolean, { description: 'Leaves a session (owners cannot).' })
  leaveSession(@Arg('sessionId', () => ID, { description: 'The session.' }) sessionId: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.sessions.leave(viewerOf(ctx).user, sessionId, originOf(ctx));
  }

  @Mutation(() => CollabSession, { description: 'OWNER: removes a member; their live streams end at once.' })
  removeSessionMember(
    @Arg('sessionId', () => ID, { description: 'The session.' }) sessionId: string,
    @Arg('userId', () => ID, { description: 'The member to remove.' }) userId: string,
    @Ctx() ctx: AppContext,
  ): Promise<CollabSession> {
    return ctx.services.sessions.removeMember(viewerOf(ctx).user, sessionId, userId, originOf(ctx));
  }

  @FieldResolver(() => User, { description: 'Who owns the session.' })
  async owner(@Root() session: CollabSession, @Ctx() ctx: AppContext): Promise<User> {
    return (await ctx.loaders.user.load(session.ownerId)) as User;
  }

  @FieldResolver(() => [SessionMember], { description: 'Members with their roles.' })
  members(@Root() session: CollabSession, @Ctx() ctx: AppContext): Promise<SessionMember[]> {
    return ctx.services.sessions.members(session.id);
  }

  @ViewerDependent()
  @FieldResolver(() => SessionRole, { nullable: true, description: 'Your role in the session.' })
  async myRole(@Root() session: CollabSession, @Ctx() ctx: AppContext): Promise<SessionRole | null> {
    return ctx.services.access.sessionRole(session.id, viewerOf(ctx).user.id);
  }

  @FieldResolver(() => String, {
    description: 'The eventId of the last event on the session\'s stream when this was read ("0-0" before any). Subscribe to `sessionEvents` with it as `after` to receive every event after this read: none is lost between reading the session and subscribing, and a reconnection before the first event resumes from it (docs/errors.md, "Subscriptions").',
  })
  lastEventId(@Root() session: CollabSession, @Ctx() ctx: AppContext): Promise<string> {
    return ctx.services.live.sessionPosition(session.id);
  }

  @FieldResolver(() => [ID], { description: 'Members connected now.' })
  onlineUserIds(@Root() session: CollabSession, @Ctx() ctx: AppContext): Promise<string[]> {
    return ctx.services.presence.online(session.id);
  }
}

@Resolver(() => SessionMember)
export class SessionMemberResolver {
  @FieldResolver(() => User, { description: 'The member.' })
  async user(@Root() member: SessionMember, @Ctx() ctx: AppContext): Promise<User> {
    return (await ctx.loaders.user.load(member.userId)) as User;
  }
}
