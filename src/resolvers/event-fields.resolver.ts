import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Job, User } from '../entities';
import type { AppContext } from './context';
import { BatchEvent, JobEvent, SessionEvent } from './event.types';

/*
 * The job and the acting user of a live event. Each event executes with fresh
 * DataLoaders (subscriptions/ws-server.ts), so the job is read as it is now.
 * Subscribers were authorized when they subscribed (job owner or session
 * member), and a member's stream ends with the membership before any later
 * event reaches it (docs/security.md, "Shared sessions"), so the shared
 * execution per event runs this once per event, not once per subscriber.
 */
async function jobOf(event: { jobId: string | null }, ctx: AppContext): Promise<Job | null> {
  return event.jobId ? ctx.services.db.getRepository(Job).findOneBy({ id: event.jobId }) : null;
}

async function actorOf(event: { actorId: string | null }, ctx: AppContext): Promise<User | null> {
  return event.actorId ? ctx.loaders.user.load(event.actorId) : null;
}

@Resolver(() => JobEvent)
export class JobEventFieldsResolver {
  @FieldResolver(() => Job, { nullable: true, description: 'The job, as it is now.' })
  job(@Root() event: JobEvent, @Ctx() ctx: AppContext): Promise<Job | null> {
    return jobOf(event, ctx);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user whose action caused the event.' })
  user(@Root() event: JobEvent, @Ctx() ctx: AppContext): Promise<User | null> {
    return actorOf(event, ctx);
  }
}

@Resolver(() => SessionEvent)
export class SessionEventFieldsResolver {
  @FieldResolver(() => Job, { nullable: true, description: 'The job, as it is now (job events only).' })
  job(@Root() event: SessionEvent, @Ctx() ctx: AppContext): Promise<Job | null> {
    return jobOf(event, ctx);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user whose action caused the event (the member, for membership events).' })
  user(@Root() event: SessionEvent, @Ctx() ctx: AppContext): Promise<User | null> {
    return actorOf(event, ctx);
  }
}

@Resolver(() => BatchEvent)
export class BatchEventFieldsResolver {
  @FieldResolver(() => Job, { nullable: true, description: 'The job, as it is now (job events only).' })
  job(@Root() event: BatchEvent, @Ctx() ctx: AppContext): Promise<Job | null> {
    return jobOf(event, ctx);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user whose action caused the event.' })
  user(@Root() event: BatchEvent, @Ctx() ctx: AppContext): Promise<User | null> {
    return actorOf(event, ctx);
  }
}
