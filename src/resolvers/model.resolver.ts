import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AiModel, Tier } from '../entities';
import { viewerOf, type AppContext } from './context';
import { modelUsableBy } from '../services/access-rules';
import { ViewerDependent } from './viewer-dependent';

@Resolver(() => AiModel)
export class ModelResolver {
  @Query(() => [AiModel], { description: 'Installed models with file hashes; the default first. Admins also see disabled ones.' })
  models(@Ctx() ctx: AppContext): Promise<AiModel[]> {
    return ctx.services.models.list(viewerOf(ctx).user);
  }

  @Mutation(() => AiModel, { description: 'Enables or disables a model for new jobs (admins). The default cannot be disabled.' })
  setModelEnabled(
    @Arg('id', () => ID, { description: 'Model id.' }) id: string,
    @Arg('enabled', () => Boolean, { description: 'Usable in new jobs.' }) enabled: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<AiModel> {
    return ctx.services.models.setEnabled(id, enabled);
  }

  @Mutation(() => AiModel, { description: 'Makes an enabled model the default for jobs that name none (admins).' })
  setDefaultModel(@Arg('id', () => ID, { description: 'Model id.' }) id: string, @Ctx() ctx: AppContext): Promise<AiModel> {
    return ctx.services.models.setDefault(id);
  }

  @Mutation(() => AiModel, { description: 'Sets the lowest tier allowed to use a model (admins).' })
  setModelMinTier(
    @Arg('id', () => ID, { description: 'Model id.' }) id: string,
    @Arg('minTier', () => Tier, { description: 'Lowest tier.' }) minTier: Tier,
    @Ctx() ctx: AppContext,
  ): Promise<AiModel> {
    return ctx.services.models.setMinTier(id, minTier);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether you may use it: enabled and within your tier.' })
  usable(@Root() model: AiModel, @Ctx() ctx: AppContext): boolean {
    return !!ctx.viewer && modelUsableBy(model, ctx.viewer.user.tier);
  }
}
