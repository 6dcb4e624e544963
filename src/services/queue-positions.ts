import { DataSource } from 'typeorm';
import { Job, JobStatus } from '../entities';
import type { EventLog } from '../subscriptions/event-log';
import type { Clock } from './clock';

/** Positions are pushed for the first jobs in line; further back, `queuePosition` answers on demand. */
const PUSH_LIMIT = 200;

/**
 * Publishes a POSITION event (with an ETA when step times are known) to every
 * pending job near the front of the queue. Called when the line moves: a job
 * starts, or a pending one is cancelled.
 */
export async function publishQueuePositions(db: DataSource, events: EventLog, clock: Clock, stepMs: number | null): Promise<void> {
  const pending = await db.getRepository(Job).find({
    select: { id: true, sessionId: true, ownerId: true, steps: true, count: true },
    where: { status: JobStatus.PENDING },
    order: { priority: 'ASC', createdAt: 'ASC' },
    take: PUSH_LIMIT,
  });
  let ahead = 0;
  const at = clock.now().toISOString();
  for (const [position, job] of pending.entries()) {
    const own = job.steps * job.count;
    const etaMs = stepMs === null ? undefined : Math.round((ahead + own) * stepMs);
    ahead += own;
    await events.publish({ type: 'POSITION', at, jobId: job.id, sessionId: job.sessionId, actorId: job.ownerId, queuePosition: position, etaMs, step: 0, totalSteps: job.steps });
  }
}
