import { Arg, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Batch, CollabSession, User } from '../entities';
import { nullIfNotFound } from '../kernel/errors';
import { progressOf } from '../services/batch-progress';
import type { Page } from '../services/job-queries';
import { BatchAxesInfo, BatchConnection, BatchGridImage, BatchInput } from './batch.types';
import { pagedComplexity } from './complexity';
import { viewerOf, type AppContext } from './context';
import { JobConnection } from './job.types';
import { sessionSeenBy } from './session.resolver';
import { ViewerDependent } from './viewer-dependent';

function connection<T>(page: Page<T>): { edges: { node: T; cursor: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } {
  return {
    edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
  };
}

@Resolver(() => Batch)
export class BatchResolver {
  @Query(() => Batch, { nullable: true, description: 'A batch you own or that belongs to a session you are in.' })
  batch(@Arg('id', () => ID, { description: 'Batch id.' }) id: string, @Ctx() ctx: AppContext): Promise<Batch | null> {
    return nullIfNotFound(() => ctx.services.batches.get(viewerOf(ctx).user, id));
  }

  @Query(() => BatchConnection, { complexity: pagedComplexity(20), description: 'Your batches, newest first.' })
  async batches(
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<BatchConnection> {
    return connection(await ctx.services.batches.list(viewerOf(ctx).user, first ?? 20, after));
  }

  @Mutation(() => Batch, { description: 'Submits many jobs at once; all are admitted against your quotas together, or none is (docs/batches.md).' })
  createBatch(
    @Arg('input', () => BatchInput, { description: 'The shared parameters, and prompts or a matrix.' }) input: BatchInput,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'Same key and input from the same user within 24 h returns the same batch; the key with other input is a CONFLICT.' })
    idempotencyKey: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Batch> {
    return ctx.services.batches.createBatch(viewerOf(ctx), input, idempotencyKey ?? null, ctx.requestId);
  }

  @Mutation(() => Batch, { description: 'Cancels a running batch: waiting jobs at once, running ones at their next step.' })
  cancelBatch(@Arg('id', () => ID, { description: 'Batch id.' }) id: string, @Ctx() ctx: AppContext): Promise<Batch> {
    return ctx.services.batches.cancelBatch(viewerOf(ctx), id);
  }

  @FieldResolver(() => Float, { description: 'Finished jobs (any final status) ÷ total, 0..1.' })
  progress(@Root() batch: Batch): number {
    return progressOf(batch);
  }

  @FieldResolver(() => JobConnection, { complexity: pagedComplexity(20), description: 'The batch\'s jobs in batch order (a matrix row by row).' })
  async jobs(
    @Root() batch: Batch,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<JobConnection> {
    return connection(await ctx.services.batches.jobsOf(batch, first ?? 20, after));
  }

  @FieldResolver(() => BatchGridImage, { nullable: true, description: 'The labelled grid PNG of a matrix batch, once it has finished.' })
  grid(@Root() batch: Batch, @Ctx() ctx: AppContext): BatchGridImage | null {
    if (!batch.gridKey) return null;
    return { url: ctx.services.urlSigner.sign(batch.gridKey, ctx.services.clock.now()), width: batch.gridWidth ?? 0, height: batch.gridHeight ?? 0 };
  }

  @FieldResolver(() => BatchAxesInfo, { nullable: true, description: 'Rows and columns of a matrix batch (null for a list of prompts).' })
  axes(@Root() batch: Batch): BatchAxesInfo | null {
    return batch.axes;
  }

  @FieldResolver(() => User, { description: 'Who submitted the batch.' })
  async owner(@Root() batch: Batch, @Ctx() ctx: AppContext): Promise<User> {
    return (await ctx.loaders.user.load(batch.ownerId)) as User;
  }

  @ViewerDependent()
  @FieldResolver(() => CollabSession, { nullable: true, description: 'The session the batch appears in (null unless you are a member).' })
  session(@Root() batch: Batch, @Ctx() ctx: AppContext): Promise<CollabSession | null> {
    return sessionSeenBy(ctx, batch.sessionId);
  }
}
