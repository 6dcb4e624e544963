import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { AiModel, Dataset, Lora, TrainingRun, TrainingStatus } from '../entities';
import type { LoggedTrainingEvent } from '../kernel/events';
import { findAppError, unauthenticated } from '../kernel/errors';
import { toGraphQLError } from '../kernel/graphql-errors';
import { pagedComplexity } from './complexity';
import { policyOf, viewerOf, type AppContext } from './context';
import { TrainingConfigView, TrainingEventView, TrainingInput, TrainingRunConnection, TrainingSamplePoint } from './training.types';

@Resolver(() => TrainingRun)
export class TrainingResolver {
  @Mutation(() => TrainingRun, { description: 'Starts a LoRA training run (QUEUED); watch it with trainingUpdated. Counts against the tier\'s training limits.' })
  async startTraining(@Arg('input', () => TrainingInput, { description: 'Dataset, base model, name and hyperparameters.' }) input: TrainingInput, @Ctx() ctx: AppContext): Promise<TrainingRun> {
    return ctx.services.training.start(viewerOf(ctx).user, input, await policyOf(ctx), ctx.requestId);
  }

  @Mutation(() => TrainingRun, { description: 'Cancels a run: a queued one at once, a running one before its next step (its last checkpoint stays downloadable).' })
  cancelTraining(@Arg('id', () => ID, { description: 'Training run id.' }) id: string, @Ctx() ctx: AppContext): Promise<TrainingRun> {
    return ctx.services.training.cancel(viewerOf(ctx).user, id);
  }

  @Query(() => TrainingRun, { description: 'One of your training runs (admins: any).' })
  trainingRun(@Arg('id', () => ID, { description: 'Training run id.' }) id: string, @Ctx() ctx: AppContext): Promise<TrainingRun> {
    return ctx.services.training.get(viewerOf(ctx).user, id);
  }

  @Query(() => TrainingRunConnection, { complexity: pagedComplexity(20), description: 'Your training runs, newest first (admins see everyone\'s).' })
  async trainingRuns(
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
    @Arg('status', () => TrainingStatus, { nullable: true, description: 'Only runs in this status.' }) status?: TrainingStatus | null,
  ): Promise<TrainingRunConnection> {
    const page = await ctx.services.training.list(viewerOf(ctx).user, first ?? 20, after, status);
    return { edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null } };
  }

  @Subscription(() => TrainingEventView, {
    description: 'A training run\'s events: those so far (replay; or, with `after`, those after that event), then live; completes after COMPLETED, FAILED or CANCELLED. If the server cannot show it has every event (its Redis connection was lost and what followed could not be read back), it ends the subscription with SERVICE_UNAVAILABLE after the events it gave: subscribe again with `after` the last eventId you have (docs/errors.md). An `after` whose following events are no longer all kept is BAD_USER_INPUT.',
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, { runId: string; after?: string | null }, AppContext>) => {
      try {
        if (!context.viewer) throw unauthenticated();
        const run = await context.services.training.get(context.viewer.user, args.runId, 'runId');
        return await context.services.live.trainingUpdates(run, args.after ?? null);
      } catch (error) {
        throw findAppError(error) ? toGraphQLError(error) : error;
      }
    },
  })
  trainingUpdated(
    @Root() event: LoggedTrainingEvent,
    @Ctx() ctx: AppContext,
    @Arg('runId', () => ID, { description: 'The run to watch.' }) _runId: string,
    @Arg('after', () => String, { nullable: true, description: 'eventId to resume after (a reconnecting client); without it the stream starts at the first event.' }) _after?: string | null,
  ): TrainingEventView {
    const sign = (key: string) => ctx.services.urlSigner.sign(key, ctx.services.clock.now());
    return {
      eventId: event.eventId, type: event.type, at: new Date(event.at), runId: event.runId, step: event.step, totalSteps: event.totalSteps,
      loss: event.type === 'PROGRESS' ? event.loss : null,
      evaluationLoss: event.type === 'EVALUATION' ? event.evaluationLoss : null,
      learningRate: event.type === 'PROGRESS' ? event.learningRate : null,
      etaSeconds: event.type === 'PROGRESS' ? Math.ceil(event.etaMs / 1000) : null,
      samples: event.type === 'SAMPLE' ? event.samples.map((s) => ({ prompt: s.prompt, url: sign(s.key) })) : [],
      resumedFrom: event.type === 'STARTED' ? event.resumedFrom : null,
      checkpointStep: event.type === 'CANCELLED' ? event.checkpointStep : null,
      loraId: event.type === 'COMPLETED' ? event.loraId : null,
      finalLoss: event.type === 'COMPLETED' ? event.finalLoss : null,
      error: event.type === 'FAILED' ? event.error : null,
    };
  }

  @FieldResolver(() => TrainingConfigView, { description: 'The hyperparameters.' })
  config(@Root() run: TrainingRun): TrainingConfigView {
    return run.config;
  }

  @FieldResolver(() => Int, { description: 'Steps in all.' })
  totalSteps(@Root() run: TrainingRun): number {
    return run.config.steps;
  }

  @FieldResolver(() => Dataset, { nullable: true, description: 'The dataset (null once deleted, or if you can no longer see it).' })
  dataset(@Root() run: TrainingRun, @Ctx() ctx: AppContext): Promise<Dataset | null> {
    return run.datasetId ? ctx.services.datasets.get(viewerOf(ctx).user, run.datasetId).catch(() => null) : Promise.resolve(null);
  }

  @FieldResolver(() => AiModel, { nullable: true, description: 'The base model.' })
  baseModel(@Root() run: TrainingRun, @Ctx() ctx: AppContext): Promise<AiModel | null> {
    return ctx.loaders.model.load(run.baseModelId);
  }

  @FieldResolver(() => Lora, { nullable: true, description: 'The LoRA version the run registered (once COMPLETED).' })
  lora(@Root() run: TrainingRun, @Ctx() ctx: AppContext): Promise<Lora | null> {
    return run.loraId ? ctx.loaders.lora.load(run.loraId) : Promise.resolve(null);
  }

  @FieldResolver(() => [TrainingSamplePoint], {
    description: 'The sample images of every save point so far, step 0 (the base model) first: what the comparison gallery shows, kept with the run (trainingUpdated\'s SAMPLE events announce them as they come).',
  })
  async samples(@Root() run: TrainingRun, @Ctx() ctx: AppContext): Promise<TrainingSamplePoint[]> {
    const sign = (key: string) => ctx.services.urlSigner.sign(key, ctx.services.clock.now());
    const points = new Map<number, TrainingSamplePoint>();
    for (const row of await ctx.loaders.trainingSamples.load(run.id)) {
      const point = points.get(row.step) ?? { step: row.step, samples: [] };
      point.samples.push({ prompt: row.prompt, url: sign(row.storageKey) });
      points.set(row.step, point);
    }
    return [...points.values()];
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed URL of the last checkpoint (LoRA safetensors), e.g. to keep a cancelled run\'s progress.' })
  checkpointUrl(@Root() run: TrainingRun, @Ctx() ctx: AppContext): string | null {
    return run.checkpointKey ? ctx.services.urlSigner.sign(run.checkpointKey, ctx.services.clock.now()) : null;
  }
}
