import { Arg, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { asJobFailureCode, nullIfNotFound } from '../kernel/errors';
import { AiModel, CollabSession, Image, InferenceBackend, Job, JobError, JobStatus, User, workSteps } from '../entities';
import { viewerOf, type AppContext } from './context';
import { ViewerDependent } from './viewer-dependent';
import { pagedComplexity } from './complexity';
import { JobConnection, GenerationInput } from './job.types';
import { sessionSeenBy } from './session.resolver';

@Resolver(() => Job)
export class JobResolver {
  @Query(() => Job, { nullable: true, description: 'A job you own or that belongs to a session you are in.' })
  job(@Arg('id', () => ID, { description: 'Job id.' }) id: string, @Ctx() ctx: AppContext): Promise<Job | null> {
    return nullIfNotFound(() => ctx.services.access.assertCanSeeJob(viewerOf(ctx).user, id));
  }

  @Query(() => JobConnection, { complexity: pagedComplexity(20), description: 'Your jobs (or a session\'s, for members), newest first.' })
  async jobs(
    @Ctx() ctx: AppContext,
    @Arg('status', () => JobStatus, { nullable: true, description: 'Only jobs in this status.' }) status?: JobStatus | null,
    @Arg('sessionId', () => ID, { nullable: true, description: 'Jobs of this session instead of your own.' }) sessionId?: string | null,
    @Arg('createdAfter', () => Date, { nullable: true, description: 'Created at or after.' }) createdAfter?: Date | null,
    @Arg('createdBefore', () => Date, { nullable: true, description: 'Created before.' }) createdBefore?: Date | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<JobConnection> {
    const page = await ctx.services.jobQueries.list(viewerOf(ctx).user, { status, sessionId, createdAfter, createdBefore }, first ?? 20, after);
    return {
      edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    };
  }

  @Mutation(() => Job, { description: 'Submits a generation job; returns at once with status PENDING and the seed it will use.' })
  createGeneration(
    @Arg('input', () => GenerationInput, { description: 'What to generate.' }) input: GenerationInput,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'Same key and input from the same user within 24 h returns the same job; the key with other input is a CONFLICT.' })
    idempotencyKey: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Job> {
    return ctx.services.jobs.createGeneration(viewerOf(ctx), input, idempotencyKey ?? null, ctx.requestId);
  }

  @Mutation(() => Job, { description: 'Cancels a pending job at once, or a running one at its next step.' })
  cancelJob(@Arg('id', () => ID, { description: 'Job id.' }) id: string, @Ctx() ctx: AppContext): Promise<Job> {
    return ctx.services.jobs.cancelJob(viewerOf(ctx), id);
  }

  @Mutation(() => Job, { description: 'Runs a FAILED or CANCELLED job again as a new job with the same parameters and seed.' })
  retryJob(@Arg('id', () => ID, { description: 'Job id.' }) id: string, @Ctx() ctx: AppContext): Promise<Job> {
    return ctx.services.jobs.retryJob(viewerOf(ctx), id, ctx.requestId);
  }

  @FieldResolver(() => Int, { description: 'Total denoising steps; for a VIDEO job, frames (step then counts finished frames).' })
  totalSteps(@Root() job: Job): number {
    return workSteps(job);
  }

  @FieldResolver(() => Float, { description: 'Progress from 0 to 1.' })
  progress(@Root() job: Job): number {
    if (job.status === JobStatus.COMPLETED) return 1;
    const total = workSteps(job);
    return total > 0 ? Math.min(1, job.step / total) : 0;
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Jobs ahead of this one while PENDING (0 = next).' })
  queuePosition(@Root() job: Job, @Ctx() ctx: AppContext): Promise<number | null> {
    return ctx.services.jobQueries.queuePosition(job, ctx.loaders.queuePlace);
  }

  @FieldResolver(() => InferenceBackend, {
    nullable: true,
    description: 'While PENDING: the backend this job waits for because every endpoint of its model is unreachable (its ETA is then unknown); null otherwise.',
  })
  waitingFor(@Root() job: Job, @Ctx() ctx: AppContext): Promise<InferenceBackend | null> {
    return ctx.services.jobQueries.waitingFor(job) as Promise<InferenceBackend | null>;
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Estimated seconds until completion, from recent step times; null while its backend is down.' })
  async etaSeconds(@Root() job: Job, @Ctx() ctx: AppContext): Promise<number | null> {
    const ms = await ctx.services.jobQueries.etaMs(job, ctx.loaders.queuePlace);
    return ms === null ? null : Math.ceil(ms / 1000);
  }

  @FieldResolver(() => JobError, { nullable: true, description: 'Why the job failed.' })
  error(@Root() job: Job): JobError | null {
    return job.errorCode ? { code: asJobFailureCode(job.errorCode), message: job.errorMessage ?? job.errorCode } : null;
  }

  @FieldResolver(() => User, { description: 'Who submitted the job.' })
  async owner(@Root() job: Job, @Ctx() ctx: AppContext): Promise<User> {
    return (await ctx.loaders.user.load(job.ownerId)) as User;
  }

  @ViewerDependent()
  @FieldResolver(() => CollabSession, { nullable: true, description: 'The session the job appears in (null unless you are a member).' })
  session(@Root() job: Job, @Ctx() ctx: AppContext): Promise<CollabSession | null> {
    return sessionSeenBy(ctx, job.sessionId);
  }

  @FieldResolver(() => AiModel, { nullable: true, description: 'The model used.' })
  model(@Root() job: Job, @Ctx() ctx: AppContext): Promise<AiModel | null> {
    return ctx.loaders.model.load(job.modelId);
  }

  @FieldResolver(() => [Image], { description: 'Images produced (empty until COMPLETED).' })
  images(@Root() job: Job, @Ctx() ctx: AppContext): Promise<Image[]> {
    return ctx.loaders.imagesByJob.load(job.id);
  }
}
