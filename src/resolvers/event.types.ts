import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JobError } from '../entities';
import { EVENT_TYPES, REQUEUE_REASONS, type EventType, type RequeueReason } from '../kernel/events';
import { BatchCountsInfo } from './batch.types';

/** The GraphQL enum of event types, built from the one list in kernel/events.ts. */
const EventTypeEnum = Object.fromEntries(EVENT_TYPES.map((type) => [type, type])) as { [K in EventType]: K };
registerEnumType(EventTypeEnum, {
  name: 'EventType',
  description: 'What happened: job lifecycle (QUEUED, POSITION, STARTED, PROGRESS, COMPLETED, FAILED, CANCELLED), in sessions membership and presence, and BATCH_PROGRESS for batches.',
});

/** The GraphQL enum of why a started job waits in the queue again, from the list in kernel/events.ts. */
const RequeueReasonEnum = Object.fromEntries(REQUEUE_REASONS.map((reason) => [reason, reason])) as { [K in RequeueReason]: K };
registerEnumType(RequeueReasonEnum, {
  name: 'RequeueReason',
  description: 'Why a job that had started waits in the queue again: WORKER_LOST (its worker stopped without handing it back: it died, '
    + 'lost its queue lock or lost its database mid-job), HANDED_BACK (its worker gave it back while shutting down), RETRY (its run '
    + 'failed in a way that is tried again).',
  valuesConfig: {
    WORKER_LOST: { description: 'Its worker stopped without handing it back; the job was found stalled and another worker takes it.' },
    HANDED_BACK: { description: 'Its worker handed it back (shutting down) before finishing.' },
    RETRY: { description: 'Its run failed in a way that is tried again after a short wait.' },
  },
});

/** Fields shared by job and session events (type-graphql inherits them). */
@ObjectType({ description: 'Fields shared by job and session events.' })
abstract class LiveEventFields {
  @Field(() => String, { description: 'Id in the event log; pass as `after` to resume after this event.' })
  eventId: string;

  @Field(() => EventTypeEnum, { description: 'What happened.' })
  type: EventType;

  @Field(() => Date, { description: 'When it happened.' })
  at: Date;

  @Field(() => ID, { nullable: true, description: 'The job concerned, for job events.' })
  jobId: string | null;

  @Field(() => Int, { nullable: true, description: 'Denoising steps done.' })
  step: number | null;

  @Field(() => Int, { nullable: true, description: 'Denoising steps in total.' })
  totalSteps: number | null;

  @Field(() => Float, { nullable: true, description: 'Progress 0..1 for job events.' })
  progress: number | null;

  @Field(() => Int, { nullable: true, description: 'Milliseconds since the job started.' })
  elapsedMs: number | null;

  @Field(() => Int, { nullable: true, description: 'Estimated seconds remaining.' })
  etaSeconds: number | null;

  @Field(() => Int, { nullable: true, description: 'Jobs ahead in the queue (QUEUED, POSITION).' })
  queuePosition: number | null;

  @Field(() => RequeueReasonEnum, {
    nullable: true,
    description: 'QUEUED after the job had started: why it waits in the queue again (its step and progress start over at its next STARTED); null on its first QUEUED and on other events.',
  })
  requeueReason: RequeueReason | null;

  @Field(() => String, { nullable: true, description: 'Small PNG of the current latent as a data URL (every few steps).' })
  preview: string | null;

  @Field(() => [ID], { description: 'Images produced (COMPLETED).' })
  imageIds: string[];

  @Field(() => JobError, { nullable: true, description: 'Why the job failed (FAILED).' })
  error: JobError | null;

  @Field(() => ID, { nullable: true, description: 'The user whose action caused the event.' })
  actorId: string | null;

  @Field(() => ID, { nullable: true, description: 'The batch the job belongs to, or the batch of BATCH_PROGRESS.' })
  batchId: string | null;

  @Field(() => BatchCountsInfo, { nullable: true, description: 'The batch\'s counts (BATCH_PROGRESS).' })
  counts: BatchCountsInfo | null;
}

@ObjectType({ description: 'A step in one job\'s life, as streamed by `jobUpdated`.' })
export class JobEvent extends LiveEventFields {}

@ObjectType({ description: 'Something that happened in a batch, as streamed by `batchUpdated`: its jobs\' events, and BATCH_PROGRESS with the counts after each change.' })
export class BatchEvent extends LiveEventFields {}

@ObjectType({ description: 'Something that happened in a session: a job event, a member joining or leaving, or presence.' })
export class SessionEvent extends LiveEventFields {
  @Field(() => ID, { description: 'The session.' })
  sessionId: string;

  @Field(() => [ID], { description: 'PRESENCE: users connected now (several tabs count once).' })
  onlineUserIds: string[];
}
