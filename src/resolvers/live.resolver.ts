import { Arg, Ctx, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { LoggedEvent } from '../gpu-worker/protocol';
import { viewerOf, type AppContext } from '../schema/context';
import { toGraphQLError, findAppError, unauthenticated } from '../schema/errors';
import { EventType, JobEvent, SessionEvent } from './event.types';

function toFields(event: LoggedEvent) {
  return {
    eventId: event.eventId,
    type: event.type as EventType,
    at: new Date(event.at),
    jobId: event.jobId,
    step: event.step ?? null,
    totalSteps: event.totalSteps ?? null,
    progress: event.totalSteps ? Math.min(1, (event.step ?? 0) / event.totalSteps) : event.jobId ? 0 : null,
    elapsedMs: event.elapsedMs ?? null,
    etaSeconds: event.etaMs != null ? Math.ceil(event.etaMs / 1000) : null,
    queuePosition: event.queuePosition ?? null,
    preview: event.preview ?? null,
    imageIds: event.imageIds ?? [],
    error: event.error ?? null,
    actorId: event.actorId,
  };
}

/** Errors leaving `subscribe` go straight to graphql-ws, so they carry their code here. */
async function authorized<T>(ctx: AppContext, open: () => Promise<T>): Promise<T> {
  try {
    if (!ctx.viewer) throw unauthenticated();
    const { user } = ctx.viewer;
    const limits = ctx.services.quotas.rateLimitsOf(user, await ctx.services.quotas.policyFor(user.tier));
    await ctx.services.rateLimiter.hit('requests', [`user:${user.id}`], limits.requestsPerMinute);
    return await open();
  } catch (error) {
    const appError = findAppError(error);
    throw appError ? toGraphQLError(appError) : error;
  }
}

@Resolver()
export class LiveResolver {
  @Subscription(() => JobEvent, {
    description: 'A job\'s events: first those so far (replay), then live; completes after the final event.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, AppContext>) =>
      authorized(context, () => context.services.live.jobUpdates(viewerOf(context).user, args.jobId)),
  })
  jobUpdated(@Root() event: LoggedEvent, @Arg('jobId', () => ID, { description: 'The job to watch.' }) _jobId: string): JobEvent {
    return toFields(event);
  }

  @Subscription(() => SessionEvent, {
    description: 'Everything happening in a session. With `after`, replays from that event first; without, starts live.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { sessionId: string; after?: string | null }, AppContext>) =>
      authorized(context, () => context.services.live.sessionFeed(viewerOf(context).user, args.sessionId, args.after ?? null)),
  })
  sessionEvents(
    @Root() event: LoggedEvent,
    @Arg('sessionId', () => ID, { description: 'The session to watch.' }) sessionId: string,
    @Ctx() _ctx: AppContext,
    @Arg('after', () => String, { nullable: true, description: 'eventId to resume after.' }) _after?: string | null,
  ): SessionEvent {
    return { ...toFields(event), sessionId, onlineUserIds: event.online ?? [] };
  }
}
