import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AiModel, JobLora, Lora, LoraVisibility, Tier, TrainingRun } from '../entities';
import { LoraVersionMetrics } from './training.types';
import { viewerOf, type AppContext } from './context';
import { loraListedFor, loraTrainingDataShownTo, loraUsableBy } from '../services/access-rules';
import { LoraInput } from './lora.types';
import { ViewerDependent } from './viewer-dependent';

@Resolver(() => Lora)
export class LoraResolver {
  @Query(() => [Lora], { description: 'Public active LoRAs, plus your private and inactive ones (admins see all), by name, newest version first.' })
  loras(@Ctx() ctx: AppContext): Promise<Lora[]> {
    return ctx.services.loras.list(viewerOf(ctx).user);
  }

  @Mutation(() => Lora, { description: 'Registers a LoRA from an upload after checking its safetensors header and tensor shapes against the base model.' })
  registerLora(@Arg('input', () => LoraInput, { description: 'The LoRA.' }) input: LoraInput, @Ctx() ctx: AppContext): Promise<Lora> {
    return ctx.services.loras.register(viewerOf(ctx).user, input);
  }

  @Mutation(() => Lora, { description: 'Switches a LoRA on or off for new jobs (its owner or an admin).' })
  setLoraActive(
    @Arg('id', () => ID, { description: 'LoRA id.' }) id: string,
    @Arg('active', () => Boolean, { description: 'Usable in new jobs.' }) active: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<Lora> {
    return ctx.services.loras.setActive(viewerOf(ctx).user, id, active);
  }

  @Mutation(() => Lora, { description: 'Publishes one version of a LoRA to everyone (PUBLIC) or takes it back (PRIVATE); its owner or an admin. Jobs already queued with it run on.' })
  setLoraVisibility(
    @Arg('id', () => ID, { description: 'LoRA id (one version).' }) id: string,
    @Arg('visibility', () => LoraVisibility, { description: 'PRIVATE or PUBLIC.' }) visibility: LoraVisibility,
    @Ctx() ctx: AppContext,
  ): Promise<Lora> {
    return ctx.services.loras.setVisibility(viewerOf(ctx).user, id, visibility);
  }

  @Mutation(() => Lora, { description: 'Sets the lowest tier allowed to use a LoRA (admins).' })
  setLoraMinTier(
    @Arg('id', () => ID, { description: 'LoRA id.' }) id: string,
    @Arg('minTier', () => Tier, { description: 'Lowest tier.' }) minTier: Tier,
    @Ctx() ctx: AppContext,
  ): Promise<Lora> {
    return ctx.services.loras.setMinTier(id, minTier);
  }

  @FieldResolver(() => AiModel, { nullable: true, description: 'The base model it adapts.' })
  baseModel(@Root() lora: Lora, @Ctx() ctx: AppContext): Promise<AiModel | null> {
    return ctx.loaders.model.load(lora.baseModelId);
  }

  @ViewerDependent()
  @FieldResolver(() => LoraVersionMetrics, {
    nullable: true,
    description: 'How this version was trained (configuration, dataset hash, loss); null for uploaded LoRAs. To others than its owner and admins, what names the data it was trained on is null: config.samplePrompts, config.seed, datasetHash.',
  })
  metrics(@Root() lora: Lora, @Ctx() ctx: AppContext): LoraVersionMetrics | null {
    if (!lora.metrics) return null;
    const metrics = { ...lora.metrics, evaluationCurve: lora.metrics.evaluationCurve ?? [] };
    if (loraTrainingDataShownTo(lora, ctx.viewer?.user ?? null)) return metrics;
    // The seed too: with it, the configuration and the file's public sha256, retraining a guessed dataset would confirm it.
    return { ...metrics, datasetHash: null, config: { ...metrics.config, samplePrompts: null, seed: null } };
  }

  @ViewerDependent()
  @FieldResolver(() => TrainingRun, { nullable: true, description: 'The training run that produced this version (for its owner and admins; null for uploaded LoRAs).' })
  trainingRun(@Root() lora: Lora, @Ctx() ctx: AppContext): Promise<TrainingRun | null> {
    if (!lora.trainingRunId || !ctx.viewer) return Promise.resolve(null);
    return ctx.services.training.get(ctx.viewer.user, lora.trainingRunId).catch(() => null);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether you registered it (owners are not shown to others: their email stays private).' })
  mine(@Root() lora: Lora, @Ctx() ctx: AppContext): boolean {
    return lora.ownerId === ctx.viewer?.user.id;
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether your jobs may apply it: active, your tier reaches it, and public or yours.' })
  usable(@Root() lora: Lora, @Ctx() ctx: AppContext): boolean {
    return !!ctx.viewer && loraUsableBy(lora, ctx.viewer.user);
  }
}

@Resolver(() => JobLora)
export class JobLoraResolver {
  @ViewerDependent()
  @FieldResolver(() => Lora, { nullable: true, description: 'The LoRA (null if it was deleted, or is another user\'s private or inactive one: what `loras` leaves out).' })
  async lora(@Root() applied: JobLora, @Ctx() ctx: AppContext): Promise<Lora | null> {
    const lora = await ctx.loaders.lora.load(applied.loraId);
    // A session member's job or preset may name its owner's private or inactive LoRA: to others it reads as a deleted one (docs/security.md).
    return lora && loraListedFor(lora, ctx.viewer?.user ?? null) ? lora : null;
  }
}
