import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AiModel, CollabSession, Preset, PresetCategory } from '../entities';
import { policyOf, viewerOf, type AppContext } from './context';
import { presetIsMine } from '../services/access-rules';
import { AppliedPreset, PresetInput } from './preset.types';
import { sessionSeenBy } from './session.resolver';
import { ViewerDependent } from './viewer-dependent';

@Resolver(() => Preset)
export class PresetResolver {
  @Query(() => [Preset], { description: 'Built-in presets, then yours and those shared with your sessions.' })
  presets(
    @Arg('category', () => PresetCategory, { nullable: true, description: 'Only IMAGE or only VIDEO presets.' }) category: PresetCategory | null,
    @Ctx() ctx: AppContext,
  ): Promise<Preset[]> {
    return ctx.services.presets.list(viewerOf(ctx).user, category);
  }

  @Query(() => [Preset], { description: 'The presets you can see, most used first.' })
  popularPresets(
    @Arg('limit', () => Int, { nullable: true, description: 'How many, 1..50 (default 10).' }) limit: number | null,
    @Ctx() ctx: AppContext,
  ): Promise<Preset[]> {
    return ctx.services.presets.popular(viewerOf(ctx).user, limit ?? 10);
  }

  @Mutation(() => Preset, { description: 'Creates a custom preset, private unless shared with a session.' })
  createPreset(@Arg('input', () => PresetInput, { description: 'The preset.' }) input: PresetInput, @Ctx() ctx: AppContext): Promise<Preset> {
    return ctx.services.presets.create(viewerOf(ctx).user, input);
  }

  @Mutation(() => Preset, { description: 'Replaces one of your presets; built-ins cannot change.' })
  updatePreset(
    @Arg('id', () => ID, { description: 'Preset id.' }) id: string,
    @Arg('input', () => PresetInput, { description: 'The new contents.' }) input: PresetInput,
    @Ctx() ctx: AppContext,
  ): Promise<Preset> {
    return ctx.services.presets.update(viewerOf(ctx).user, id, input);
  }

  @Mutation(() => Boolean, { description: 'Deletes one of your presets; built-ins cannot be deleted.' })
  deletePreset(@Arg('id', () => ID, { description: 'Preset id.' }) id: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.presets.delete(viewerOf(ctx).user, id);
  }

  @Mutation(() => AppliedPreset, { description: 'Shows what a preset does to a prompt on your tier: the parameters createGeneration would use (nothing is stored or counted).' })
  applyPreset(
    @Arg('id', () => ID, { description: 'Preset id.' }) id: string,
    @Arg('prompt', () => String, { description: 'Your prompt.' }) prompt: string,
    @Ctx() ctx: AppContext,
  ): Promise<AppliedPreset> {
    return policyOf(ctx).then((policy) => ctx.services.presets.apply(viewerOf(ctx).user, id, prompt, policy));
  }

  @FieldResolver(() => AiModel, { nullable: true, description: 'Model the preset uses (null: the default model).' })
  model(@Root() preset: Preset, @Ctx() ctx: AppContext): Promise<AiModel | null> {
    return preset.modelId ? ctx.loaders.model.load(preset.modelId) : Promise.resolve(null);
  }

  @ViewerDependent()
  @FieldResolver(() => CollabSession, { nullable: true, description: 'The session the preset is shared with (null unless you are a member).' })
  session(@Root() preset: Preset, @Ctx() ctx: AppContext): Promise<CollabSession | null> {
    return sessionSeenBy(ctx, preset.sessionId);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether you own it (and may change or delete it).' })
  mine(@Root() preset: Preset, @Ctx() ctx: AppContext): boolean {
    return presetIsMine(preset, ctx.viewer?.user.id);
  }
}
