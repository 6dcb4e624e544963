import { BatchStatus, FINAL_JOB_STATUSES, FINAL_TRAINING_STATUSES, Role, type Job, type TrainingRun, type User } from '../entities';
import { FINAL_EVENT_TYPES, FINAL_TRAINING_EVENT_TYPES, type LoggedEvent, type LoggedTrainingEvent } from '../kernel/events';
import type { AccessPolicy } from '../services/access';
import type { Clock } from '../kernel/clock';
import { badInput, forbidden } from '../kernel/errors';
import { toGraphQLError } from '../kernel/graphql-errors';
import { assertUuid, newId } from '../kernel/ids';
import type { AsyncQueue } from './async-queue';
import { isEventId, type EventLog } from './event-log';
import type { Presence } from './presence';
import { SpreadInterval } from './spread-interval';

/** A stream's `after`, when given, must be an eventId: BAD_USER_INPUT on `after` otherwise, before anything is read. */
function assertResumePoint(after: string | null): void {
  if (after !== null && !isEventId(after)) throw badInput('after', 'after must be an eventId from an earlier event');
}

/** Ids per statement when the rows of watched jobs or runs are read after a reconnection. */
const ROWS_PER_READ = 1_000;


/** A stream kept only while its viewer's membership of a session lasts (`LiveEvents.whileMember`). */
interface MemberStream {
  sessionId: string;
  userId: string;
  /** Ends the stream: the membership is over. */
  lose(): void;
}

/** Another member's job or batch: the stream ends with FORBIDDEN, and what the viewer has not taken yet is dropped. */
function forbidOnLeaving(queue: Pick<AsyncQueue<unknown>, 'abort'>): void {
  queue.abort(toGraphQLError(forbidden('You are no longer a member of this session')));
}

/**
 * The session a viewer sees `record` (a job, a batch) through: its session,
 * unless they own it or are an admin (then no membership is needed).
 */
function seenThroughSession(user: User, record: { ownerId: string; sessionId: string | null }): string | null {
  return record.sessionId && record.ownerId !== user.id && user.role !== Role.ADMIN ? record.sessionId : null;
}

/** How LiveEvents tells a final row's end again, and finds which watched rows are final. */
export interface EndsOfFinalRows {
  job(job: Job): Promise<void>;
  run(run: TrainingRun): Promise<void>;
  /** The final rows among these job ids. */
  finalJobs(ids: string[]): Promise<Job[]>;
  /** The final rows among these run ids. */
  finalRuns(ids: string[]): Promise<TrainingRun[]>;
}

/**
 * The streams behind `jobUpdated`, `batchUpdated`, `sessionEvents` and
 * `trainingUpdated`. Authorization happens here, when the subscription starts
 * (graphql-shield only sees delivered events); a stream seen through a session
 * membership ends when the membership does (`whileMember`).
 */
export class LiveEvents {
  /** Every live session subscription's presence heartbeat, every 15 s, on one timer. */
  private readonly presenceBeats = new SpreadInterval(15_000);
  /** The open streams kept through a membership, checked again after a reconnection. */
  private readonly memberStreams = new Set<MemberStream>();

  constructor(
    private readonly events: EventLog,
    private readonly access: AccessPolicy,
    private readonly presence: Presence,
    private readonly clock: Clock,
    /** Tells a final job's or run's end again from its row (`JobLifecycle` and `TrainingLifecycle.announceEnd`). */
    private readonly ends: EndsOfFinalRows,
  ) {
    this.events.onReconnected((streams) => {
      void this.tellLostEnds(streams);
      void this.recheckMembers();
    });
  }

  /**
   * Opens a stream that shows a session's content through the membership of
   * `userId` (the viewer, or for an admin's feed the session's owner) in
   * `sessionId` (null: no membership needed, the stream is just opened) and
   * keeps it only while the membership lasts: `lose` ends it on
   * their MEMBER_LEFT (they left or were removed, or the session went with
   * its owner's account), told live on any replica. The watch is attached
   * once the stream is open and the membership read after it, so a removal
   * before the watch began is found by that read; a MEMBER_LEFT the stream
   * replays (`after`) belongs to an earlier membership and ends nothing. A
   * watch misses what an outage kept from it: `recheckMembers` reads the
   * memberships again then. `open` gets what its queue calls when it closes.
   * A stream of the session itself (`inStream`: the feed) sees that
   * MEMBER_LEFT among its own events, also those a reconnection catches up
   * on, and ends there (its `isLast`): it needs only the read after opening,
   * and no watch of its own (one less listener per subscriber on the
   * fan-out path, docs/architecture.md "Fan-out").
   */
  private async whileMember<E>(
    userId: string, sessionId: string | null, open: (onClose: () => void) => Promise<AsyncQueue<E>>, lose: (queue: AsyncQueue<E>) => void,
    inStream = false,
  ): Promise<AsyncQueue<E>> {
    if (!sessionId) return open(() => undefined);
    if (inStream) return this.readMembershipOnce(userId, sessionId, await open(() => undefined), lose);
    let release = (): void => undefined;
    const queue = await open(() => release());
    const stream: MemberStream = { sessionId, userId, lose: () => lose(queue) };
    try {
      const stopWatching = await this.events.watch('session', sessionId, (event) => {
        if (event.type === 'MEMBER_LEFT' && event.actorId === userId) stream.lose();
      });
      release = () => {
        stopWatching();
        this.memberStreams.delete(stream);
      };
      // Ended already (a final job's replay): no more to watch, but what it holds is still for members only.
      if (queue.ended) release();
      else this.memberStreams.add(stream);
    } catch (error) {
      queue.end();
      throw error;
    }
    return this.readMembershipOnce(userId, sessionId, queue, lose);
  }

  /** The membership read once a stream is open: a removal just before it began ends it. Keeps nothing per stream. */
  private async readMembershipOnce<E>(userId: string, sessionId: string, queue: AsyncQueue<E>, lose: (queue: AsyncQueue<E>) => void): Promise<AsyncQueue<E>> {
    try {
      if (!(await this.access.sessionRole(sessionId, userId))) lose(queue);
    } catch (error) {
      queue.end();
      throw error;
    }
    return queue;
  }

  /**
   * After the event log's connection came back from an outage: a MEMBER_LEFT
   * published meanwhile reached no watch, so the membership of each stream
   * kept through one is read again. One that cannot be read now is read at
   * the next reconnection.
   */
  private async recheckMembers(): Promise<void> {
    const streams = [...this.memberStreams];
    const sessions = [...new Set(streams.map((stream) => stream.sessionId))];
    // One statement per ROWS_PER_READ sessions, not one per stream: every replica does this at each reconnection.
    for (let i = 0; i < sessions.length; i += ROWS_PER_READ) {
      const batch = new Set(sessions.slice(i, i + ROWS_PER_READ));
      const members = await this.access.membershipsOf([...batch]).catch(() => null);
      if (!members) continue;
      for (const stream of streams) {
        if (batch.has(stream.sessionId) && !members.has(`${stream.sessionId} ${stream.userId}`)) stream.lose();
      }
    }
  }

  /**
   * After the event log's connection came back from an outage: a watched job
   * or run whose row went final meanwhile may have no end in its log. A
   * worker's ending is retried and its entry taken again; an ending the API
   * made (a waiting job withdrawn, the reconciler giving a lost job up, a
   * waiting run cancelled) fails fast and has no entry left for a worker. Its
   * end is told here from the row, once (`announceEnd` is a no-op when it was
   * told), so its subscribers hear it (docs/operations.md, "Outages of
   * PostgreSQL or Redis"). One that fails now is tried at the next reconnection.
   */
  private async tellLostEnds(streams: readonly { kind: string; id: string }[]): Promise<void> {
    const idsOf = (kind: string) => streams.filter((s) => s.kind === kind).map((s) => s.id);
    for (let i = 0, jobIds = idsOf('job'); i < jobIds.length; i += ROWS_PER_READ) {
      const rows = await this.ends.finalJobs(jobIds.slice(i, i + ROWS_PER_READ)).catch(() => []);
      for (const job of rows) await this.ends.job(job).catch(() => undefined);
    }
    for (let i = 0, runIds = idsOf('training'); i < runIds.length; i += ROWS_PER_READ) {
      const rows = await this.ends.finalRuns(runIds.slice(i, i + ROWS_PER_READ)).catch(() => []);
      for (const run of rows) await this.ends.run(run).catch(() => undefined);
    }
  }

  /**
   * Replays the job's events so far (or those after `after`, for a client
   * resuming after a dropped socket), continues live, completes after the final
   * event. A job that does not exist or that the viewer may not see is
   * NOT_FOUND, as `job(id)` reads null and `cancelJob` answers: existence is
   * not revealed (a malformed id is BAD_USER_INPUT on `jobId`). Another
   * member's session job is watched only while the membership lasts: removal
   * or leaving ends the open stream at once with FORBIDDEN.
   */
  async jobUpdates(user: User, jobId: string, after: string | null = null): Promise<AsyncIterable<LoggedEvent>> {
    assertResumePoint(after);
    const job = await this.access.assertCanSeeJob(user, assertUuid('jobId', jobId));
    const queue = await this.whileMember(user.id, seenThroughSession(user, job), (onClose) => this.events.subscribe('job', job.id, after ?? 'start', {
      isLast: (event) => FINAL_EVENT_TYPES.has(event.type), onClose,
    }), forbidOnLeaving);
    if ((FINAL_JOB_STATUSES as readonly string[]).includes(job.status)) await endOfFinal(queue, () => this.ends.job(job));
    return queue;
  }

  /**
   * Replays a batch's events so far (its jobs' and BATCH_PROGRESS), or those
   * after `after`, continues live, completes after the BATCH_PROGRESS that
   * reports a final status.
   * Who may watch: whoever may see the batch (its owner, admins, its
   * session's members); a member only while the membership lasts, as
   * `jobUpdates`. Anyone else gets NOT_FOUND, as from `batch(id)`.
   */
  async batchUpdates(user: User, batchId: string, after: string | null = null): Promise<AsyncIterable<LoggedEvent>> {
    assertResumePoint(after);
    const batch = await this.access.assertCanSeeBatch(user, assertUuid('batchId', batchId), 'batchId');
    const queue = await this.whileMember(user.id, seenThroughSession(user, batch), (onClose) => this.events.subscribe('batch', batch.id, after ?? 'start', {
      isLast: (event) => event.type === 'BATCH_PROGRESS' && event.counts.status !== 'RUNNING', onClose,
    }), forbidOnLeaving);
    // A finished batch whose log expired has nothing more to say.
    if (batch.status !== BatchStatus.RUNNING && queue.size === 0) queue.end();
    return queue;
  }

  /**
   * Replays a training run's events so far (or those after `after`) and
   * continues live; ends after the final event. `run` was already read for
   * the viewer (owner or admin).
   */
  async trainingUpdates(run: TrainingRun, after: string | null = null): Promise<AsyncIterable<LoggedTrainingEvent>> {
    assertResumePoint(after);
    const queue = await this.events.subscribe<LoggedTrainingEvent>('training', run.id, after ?? 'start', {
      isLast: (event) => FINAL_TRAINING_EVENT_TYPES.has(event.type),
    });
    if ((FINAL_TRAINING_STATUSES as readonly string[]).includes(run.status)) await endOfFinal(queue, () => this.ends.run(run));
    return queue;
  }

  /**
   * Where a session's stream stands now: the eventId of its last event ('0-0'
   * before any). A client that reads the session with it and subscribes with
   * it as `after` gets every event that came after its read, none lost in
   * between, and has a resume point before its first event arrives
   * (docs/errors.md, "Subscriptions"). The caller has checked the viewer may
   * read the session.
   */
  sessionPosition(sessionId: string): Promise<string> {
    return this.events.lastEventId('session', sessionId);
  }

  /**
   * Session feed from `after` (exclusive) or live, with presence while it
   * runs. A member's feed lasts as long as the membership: their own
   * MEMBER_LEFT is the last event. Admins see every session and keep theirs
   * as long as the session lasts: its owner's MEMBER_LEFT is the last event,
   * told only when the session is deleted with the owner's account (an owner
   * neither leaves nor is removed; docs/security.md, "Shared sessions").
   * A session that does not exist or that the viewer is not in is NOT_FOUND,
   * as from `session(id)` and `jobs(sessionId)`.
   */
  async sessionFeed(user: User, sessionId: string, after: string | null): Promise<AsyncIterable<LoggedEvent>> {
    assertUuid('sessionId', sessionId);
    assertResumePoint(after);
    const { session } = await this.access.assertSessionMember(user, sessionId);
    const connectionId = newId();
    const announce = async (online: string[] | null) => {
      if (online) {
        await this.events.publish({ type: 'PRESENCE', at: this.clock.now().toISOString(), jobId: null, sessionId, actorId: user.id, online });
      }
    };
    const leave = () => void this.presence.leave(sessionId, user.id, connectionId).then(announce).catch(() => undefined);
    let closed = false;
    let stopBeating = (): void => undefined;
    // Whose membership the feed lasts through: a member's own; an admin's, the owner's, which ends only with the session.
    const keptThrough = user.role === Role.ADMIN ? session.ownerId : user.id;
    // Set once the replay from `after` is in: a MEMBER_LEFT of `keptThrough` from then on is the feed's last event,
    // there in the stream, so nothing that follows it reaches them, also among the events a reconnection catches up
    // on. One in the replay belongs to an earlier membership and ends nothing (`whileMember`).
    let replayed = false;
    const queue = await this.whileMember(keptThrough, sessionId, (onClose) => this.events.subscribe('session', sessionId, after, {
      isLast: (event) => replayed && event.type === 'MEMBER_LEFT' && event.actorId === keptThrough,
      onClose: () => {
        closed = true;
        onClose();
        stopBeating();
        leave();
      },
    }).then((feed) => {
      replayed = true;
      return feed;
    }), (feed) => feed.end(), true);
    await announce(await this.presence.enter(sessionId, user.id, connectionId));
    // Closed while it was being entered: its leave may have run first, so leave again and keep no heartbeat.
    if (closed) {
      leave();
      return queue;
    }
    stopBeating = this.presenceBeats.add(() => {
      this.presence.heartbeat(sessionId, user.id, connectionId).then(announce).catch(() => undefined);
    });
    return queue;
  }
}

/**
 * The stream of a job or run whose row is final, once its log is replayed. A
 * log with nothing (more) to replay has nothing more to say: it expired, or
 * the subscriber resumed after the end. One replayed without its final event
 * lost it to an outage (or is about to get it): `announceEnd` appends it from
 * the row, once, so it reaches this subscriber live, and every other; if even
 * that fails, the stream ends after its replay rather than never
 * (docs/operations.md, "Outages of PostgreSQL or Redis").
 */
async function endOfFinal(queue: Pick<AsyncQueue<unknown>, 'ended' | 'size' | 'end'>, announceEnd: () => Promise<void>): Promise<void> {
  if (queue.ended) return;
  if (queue.size === 0) return queue.end();
  await announceEnd().catch(() => queue.end());
}
