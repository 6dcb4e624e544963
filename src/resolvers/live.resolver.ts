import { Arg, Ctx, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { AnyEventFields, LoggedEvent } from '../kernel/events';
import { viewerOf, type AppContext } from './context';
import { findAppError, unauthenticated } from '../kernel/errors';
import { toGraphQLError } from '../kernel/graphql-errors';
import { BatchEvent, JobEvent, SessionEvent } from './event.types';
import { progressOf } from '../services/batch-progress';
import type { BatchStatus } from '../entities';

function toFields(logged: LoggedEvent) {
  const event = logged as AnyEventFields & { eventId: string };
  return {
    eventId: event.eventId,
    type: event.type,
    at: new Date(event.at),
    jobId: event.jobId,
    step: event.step ?? null,
    totalSteps: event.totalSteps ?? null,
    progress: event.totalSteps ? Math.min(1, (event.step ?? 0) / event.totalSteps) : event.jobId ? 0 : null,
    elapsedMs: event.elapsedMs ?? null,
    etaSeconds: event.etaMs != null ? Math.ceil(event.etaMs / 1000) : null,
    queuePosition: event.queuePosition ?? null,
    requeueReason: event.requeueReason ?? null,
    preview: event.preview ?? null,
    imageIds: event.imageIds ?? [],
    error: event.error ?? null,
    actorId: event.actorId,
    batchId: event.batchId ?? null,
    // The kernel spells BatchStatus as a string union (it imports no entities).
    counts: event.counts ? { ...event.counts, status: event.counts.status as BatchStatus, progress: progressOf(event.counts) } : null,
  };
}

/** Errors leaving `subscribe` go straight to graphql-ws, so they carry their code here. The socket already throttled the operation. */
async function authorized<T>(ctx: AppContext, open: () => Promise<T>): Promise<T> {
  try {
    if (!ctx.viewer) throw unauthenticated();
    return await open();
  } catch (error) {
    throw findAppError(error) ? toGraphQLError(error) : error;
  }
}

@Resolver()
export class LiveResolver {
  @Subscription(() => JobEvent, {
    description: 'A job\'s events: first those so far (or, with `after`, those after that event), then live; completes after the final event. If the server cannot show it has every event (its Redis connection was lost and what followed could not be read back), it ends the subscription with SERVICE_UNAVAILABLE after the events it gave: subscribe again with `after` the last eventId you have (docs/errors.md). An `after` whose following events are no longer all kept is BAD_USER_INPUT.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string; after?: string | null }, AppContext>) =>
      authorized(context, () => context.services.live.jobUpdates(viewerOf(context).user, args.jobId, args.after ?? null)),
  })
  jobUpdated(
    @Root() event: LoggedEvent,
    @Arg('jobId', () => ID, { description: 'The job to watch.' }) _jobId: string,
    @Arg('after', () => String, { nullable: true, description: 'eventId to resume after (a reconnecting client); without it the stream starts at the first event.' }) _after?: string | null,
  ): JobEvent {
    return toFields(event);
  }

  @Subscription(() => BatchEvent, {
    description: 'A batch\'s events: its jobs\' events and BATCH_PROGRESS (the counts after each change), from the start (replay; or, with `after`, those after that event), then live; completes when the batch is final. If the server cannot show it has every event (its Redis connection was lost and what followed could not be read back), it ends the subscription with SERVICE_UNAVAILABLE after the events it gave: subscribe again with `after` the last eventId you have (docs/errors.md). An `after` whose following events are no longer all kept is BAD_USER_INPUT.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { batchId: string; after?: string | null }, AppContext>) =>
      authorized(context, () => context.services.live.batchUpdates(viewerOf(context).user, args.batchId, args.after ?? null)),
  })
  batchUpdated(
    @Root() event: LoggedEvent,
    @Arg('batchId', () => ID, { description: 'The batch to watch.' }) _batchId: string,
    @Arg('after', () => String, { nullable: true, description: 'eventId to resume after (a reconnecting client); without it the stream starts at the first event.' }) _after?: string | null,
  ): BatchEvent {
    return toFields(event);
  }

  @Subscription(() => SessionEvent, {
    description: 'Everything happening in a session. With `after`, replays from that event first; without, starts live. If the server cannot show it has every event (its Redis connection was lost and what followed could not be read back), it ends the subscription with SERVICE_UNAVAILABLE after the events it gave: subscribe again with `after` the last eventId you have (docs/errors.md). An `after` whose following events are no longer all kept is BAD_USER_INPUT.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { sessionId: string; after?: string | null }, AppContext>) =>
      authorized(context, () => context.services.live.sessionFeed(viewerOf(context).user, args.sessionId, args.after ?? null)),
  })
  sessionEvents(
    @Root() event: LoggedEvent,
    @Arg('sessionId', () => ID, { description: 'The session to watch.' }) sessionId: string,
    @Ctx() _ctx: AppContext,
    @Arg('after', () => String, { nullable: true, description: 'eventId to resume after.' }) _after?: string | null,
  ): SessionEvent {
    return { ...toFields(event), sessionId, onlineUserIds: event.type === 'PRESENCE' ? event.online : [] };
  }
}
