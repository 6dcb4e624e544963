import { Arg, Ctx, Field, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { AppContext } from './context';
import { unauthenticated } from '../kernel/errors';
import { AuthPayload } from './user.resolver';

@ObjectType({ description: 'A way to sign in besides email and password: single sign-on with an OpenID Connect provider.' })
export class AuthProvider {
  @Field(() => ID, { description: 'Stable identifier (`oidc`).' })
  id: string;

  @Field(() => String, { description: 'Display name: offer "Sign in with <name>".' })
  name: string;

  @Field(() => String, {
    description: 'Absolute URL the browser navigates to (a full page load, not a fetch) to sign in; append `?next=/path` to return there. '
      + 'The browser comes back to `/signin/sso#code=…` (or `#error=<reason>`); redeem the code with `completeSignIn`.',
  })
  startUrl: string;
}

@Resolver()
export class AuthProviderResolver {
  @Query(() => [AuthProvider], { description: 'Single sign-on providers this service offers; empty when none is configured.' })
  authProviders(@Ctx() ctx: AppContext): AuthProvider[] {
    return ctx.services.oidc ? [ctx.services.oidc.describe()] : [];
  }

  @Mutation(() => AuthPayload, {
    description: 'Finishes single sign-on: trades the one-time code from the `/signin/sso#code=…` landing for a token. '
      + 'A code works once, within two minutes; otherwise UNAUTHENTICATED.',
  })
  completeSignIn(
    @Arg('code', () => String, { description: 'The `code` from the landing URL\'s fragment.' }) code: string,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    if (!ctx.services.oidc) throw unauthenticated('Single sign-on is not configured on this service');
    return ctx.services.oidc.redeem(code);
  }
}
