import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, Field, FieldResolver, ID, Info, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { ApiKey, Role, Tier, TierPolicy, User } from '../entities';
import { badInput } from '../kernel/errors';
import { emailShownTo } from '../services/access-rules';
import { assertPageSize } from '../services/album-images';
import { originOf, viewerOf, type AppContext } from './context';
import { ViewerDependent } from './viewer-dependent';

/** An email as others see it: its first character, `…`, and the domain (`b…@example.com`). */
function maskedEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const first = Array.from(email)[0] ?? '';
  return `${first}…${at >= 0 ? email.slice(at) : ''}`;
}

@ObjectType({ description: 'A signed-in session: the JWT to send as `Authorization: Bearer <token>`.' })
export class AuthPayload {
  @Field(() => String, { description: 'JWT; also accepted in graphql-ws connectionParams.authorization.' })
  token: string;

  @Field(() => User, { description: 'The signed-in user.' })
  user: User;
}

@ObjectType({ description: 'A new API key with its secret, shown only this once.' })
export class CreatedApiKey {
  @Field(() => ApiKey, { description: 'The stored key (without the secret).' })
  apiKey: ApiKey;

  @Field(() => String, { description: 'The secret (`atl_…`); store it now, it cannot be shown again.' })
  secret: string;
}

@ObjectType({ description: 'Your tier, its limits and what you have used.' })
export class Usage {
  @Field(() => Tier, { description: 'Your tier.' })
  tier: Tier;

  @Field(() => TierPolicy, { description: 'The limits of your tier.' })
  limits: TierPolicy;

  @Field(() => Int, { description: 'Your jobs queued or running now.' })
  openJobs: number;

  @Field(() => Int, { description: 'Images counted against today\'s (UTC) allowance.' })
  imagesToday: number;

  @Field(() => Int, { description: 'Seconds of video made or reserved today (counted apart from images).' })
  videoSecondsToday: number;

  @Field(() => Int, { nullable: true, description: 'Images left today; null when unlimited.' })
  imagesRemainingToday: number | null;

  @Field(() => Date, { description: 'When the daily allowance resets (next UTC midnight).' })
  resetsAt: Date;
}

@Resolver(() => User)
export class UserResolver {
  @ViewerDependent()
  @FieldResolver(() => String, {
    description: 'Email address, normalised (trimmed, lower case): in full to the user themselves and to admins; '
      + 'to anyone else who can reach the account (session members, album sharees) masked as its first character, `…` and the domain '
      + '(`b…@example.com`), so show `displayName` instead.',
  })
  email(@Root() user: User, @Ctx() ctx: AppContext, @Info() info: GraphQLResolveInfo): string {
    // AuthPayload.user is the account that just signed in (register, login, completeSignIn): the caller's own,
    // before the request has a viewer.
    const ownSignIn = info.path.prev?.typename === AuthPayload.name;
    return ownSignIn || emailShownTo(user, ctx.viewer?.user ?? null) ? user.email : maskedEmail(user.email);
  }

  @Query(() => User, { nullable: true, description: 'The signed-in user, or null for anonymous callers.' })
  me(@Ctx() ctx: AppContext): User | null {
    return ctx.viewer?.user ?? null;
  }

  @Mutation(() => AuthPayload, { description: 'Creates an account (EDITOR, FREE tier) and signs it in.' })
  register(
    @Arg('email', () => String, { description: 'Email address; normalised to lower case.' }) email: string,
    @Arg('password', () => String, { description: 'At least 8 characters.' }) password: string,
    @Arg('displayName', () => String, { nullable: true, description: 'Name shown to teammates.' }) displayName: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return ctx.services.auth.register(email, password, displayName, originOf(ctx));
  }

  @Mutation(() => AuthPayload, { description: 'Signs in with email and password.' })
  login(
    @Arg('email', () => String, { description: 'Account email.' }) email: string,
    @Arg('password', () => String, { description: 'Account password.' }) password: string,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return ctx.services.auth.login(email, password, originOf(ctx));
  }

  @Mutation(() => Boolean, { description: 'Changes your password after checking the current one; throttled like sign-in and recorded in the audit log. Every sign-in token issued before, this one included, stops working (open sockets close with 4401): sign in again with the new password. API keys are not affected.' })
  changePassword(
    @Arg('currentPassword', () => String, { description: 'Your password now.' }) currentPassword: string,
    @Arg('newPassword', () => String, { description: 'The new password, 8 to 256 characters.' }) newPassword: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return ctx.services.auth.changePassword(viewerOf(ctx).user, currentPassword, newPassword, originOf(ctx));
  }

  @Query(() => [ApiKey], { description: 'Your API keys, newest first: every key not revoked and the 50 revoked last (secrets are never shown again).' })
  apiKeys(@Ctx() ctx: AppContext): Promise<ApiKey[]> {
    return ctx.services.auth.listApiKeys(viewerOf(ctx).user);
  }

  @Mutation(() => CreatedApiKey, { description: 'Creates an API key; the secret is returned once and stored hashed. At most 50 keys that are not revoked (QUOTA_EXCEEDED on name).' })
  createApiKey(@Arg('name', () => String, { description: 'Label for the key.' }) name: string, @Ctx() ctx: AppContext): Promise<CreatedApiKey> {
    return ctx.services.auth.createApiKey(viewerOf(ctx).user, name, originOf(ctx));
  }

  @Mutation(() => ApiKey, { description: 'Revokes one of your API keys; it is refused from then on.' })
  revokeApiKey(@Arg('id', () => ID, { description: 'The key to revoke.' }) id: string, @Ctx() ctx: AppContext): Promise<ApiKey> {
    return ctx.services.auth.revokeApiKey(viewerOf(ctx).user, id, originOf(ctx));
  }

  @Query(() => Usage, { description: 'Your tier, its limits and what you have used today.' })
  async usage(@Ctx() ctx: AppContext): Promise<Usage> {
    const { user } = viewerOf(ctx);
    const snap = await ctx.services.quotas.snapshot(user.id, user.tier);
    const limit = snap.policy.imagesPerDay;
    return {
      tier: snap.tier, limits: snap.policy, openJobs: snap.openJobs, imagesToday: snap.imagesToday, videoSecondsToday: snap.videoSecondsToday,
      imagesRemainingToday: limit === null ? null : Math.max(0, limit - snap.imagesToday), resetsAt: snap.resetsAt,
    };
  }

  @Query(() => [User], { description: 'ADMIN: accounts, newest first.' })
  users(
    @Arg('first', () => Int, { defaultValue: 50, description: 'Page size (1-200).' }) first: number,
    @Arg('offset', () => Int, { defaultValue: 0, description: 'Rows to skip.' }) offset: number,
    @Ctx() ctx: AppContext,
  ): Promise<User[]> {
    if (offset < 0) throw badInput('offset', 'offset must be 0 or more');
    return ctx.services.users.list(assertPageSize(first), offset);
  }

  @Mutation(() => User, { description: 'ADMIN: moves a user to another tier; limits apply from their next request.' })
  setUserTier(
    @Arg('userId', () => ID, { description: 'The user.' }) userId: string,
    @Arg('tier', () => Tier, { description: 'The new tier.' }) tier: Tier,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return ctx.services.users.setTier(viewerOf(ctx).user, userId, tier, originOf(ctx));
  }

  @Mutation(() => User, { description: 'ADMIN: changes a user\'s role.' })
  setUserRole(
    @Arg('userId', () => ID, { description: 'The user.' }) userId: string,
    @Arg('role', () => Role, { description: 'The new role.' }) role: Role,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return ctx.services.users.setRole(viewerOf(ctx).user, userId, role, originOf(ctx));
  }
}
