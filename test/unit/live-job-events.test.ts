import { describe, expect, it } from 'vitest';
import { applyJobEvent, type JobEventFields, type StreamRequeues } from '../../client/src/lib/useLiveJob';

/*
 * The web client's cached job as its streams move it (client/src/lib/useLiveJob.ts): a job back in the queue
 * moves back to PENDING at step 0 once, a stream replaying what came before that changes nothing, and what a
 * stream delivers after that QUEUED is news whatever its `at` says (docs/architecture.md, "Back in the queue").
 */
type CachedJob = { status: string; step: number; progress: number; totalSteps: number; queuePosition: number | null; etaSeconds: number | null };

/** The part of Apollo's cache applyJobEvent uses: `identify` and `modify` with field functions, over plain objects. */
function cacheOf(jobs: Map<string, CachedJob>) {
  return {
    identify: ({ id }: { id: string }) => id,
    modify: ({ id, fields }: { id: string; fields: Record<string, (old: unknown) => unknown> }) => {
      const job = jobs.get(id)! as Record<string, unknown>;
      for (const [name, change] of Object.entries(fields)) job[name] = change(job[name]);
      return true;
    },
  } as unknown as Parameters<typeof applyJobEvent>[0];
}

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
const pending = (): CachedJob => ({ status: 'PENDING', step: 0, progress: 0, totalSteps: 20, queuePosition: 0, etaSeconds: null });

/** A job's first run to step 5 of 20, then back in the queue at 400 ms with place 3. */
const firstRun: JobEventFields[] = [
  { type: 'QUEUED', at: at(0), queuePosition: 0 },
  { type: 'STARTED', at: at(100), step: 0 },
  { type: 'PROGRESS', at: at(200), step: 5, progress: 0.25 },
  { type: 'QUEUED', at: at(400), requeueReason: 'WORKER_LOST', queuePosition: 3 },
];

function setUp(jobId: string) {
  const jobs = new Map([[jobId, pending()]]);
  const cache = cacheOf(jobs);
  const stream: StreamRequeues = new Map();
  for (const event of firstRun) applyJobEvent(cache, jobId, event, stream);
  expect(jobs.get(jobId)).toMatchObject({ status: 'PENDING', step: 0, progress: 0, queuePosition: 3 });
  return { job: () => jobs.get(jobId)!, cache, stream };
}

describe('a job back in the queue, in the web client', () => {
  it('takes a POSITION that came after the requeue on the same stream, though stamped before it (the line read earlier)', () => {
    const { job, cache, stream } = setUp('position-after');
    applyJobEvent(cache, 'position-after', { type: 'POSITION', at: at(390), queuePosition: 1, etaSeconds: 12 }, stream);
    expect(job()).toMatchObject({ status: 'PENDING', queuePosition: 1, etaSeconds: 12 });
  });

  it('takes the next run\'s STARTED and PROGRESS stamped by a machine whose clock is behind', () => {
    const { job, cache, stream } = setUp('clock-behind');
    applyJobEvent(cache, 'clock-behind', { type: 'STARTED', at: at(380), step: 0 }, stream);
    applyJobEvent(cache, 'clock-behind', { type: 'PROGRESS', at: at(395), step: 2, progress: 0.1 }, stream);
    expect(job()).toMatchObject({ status: 'PROCESSING', step: 2, progress: 0.1 });
  });

  it('ignores another stream\'s replay of the run before, then follows it once it is past the requeue', () => {
    const { job, cache } = setUp('replay');
    const card: StreamRequeues = new Map();
    for (const event of firstRun.slice(0, 3)) applyJobEvent(cache, 'replay', event, card);
    expect(job()).toMatchObject({ status: 'PENDING', step: 0, progress: 0, queuePosition: 3 });
    applyJobEvent(cache, 'replay', firstRun[3], card);
    applyJobEvent(cache, 'replay', { type: 'STARTED', at: at(380), step: 0 }, card);
    expect(job()).toMatchObject({ status: 'PROCESSING', step: 0 });
  });

  it('moves back once per return: an older one replayed changes nothing', () => {
    const { job, cache, stream } = setUp('twice');
    applyJobEvent(cache, 'twice', { type: 'STARTED', at: at(500), step: 0 }, stream);
    applyJobEvent(cache, 'twice', { type: 'PROGRESS', at: at(600), step: 7, progress: 0.35 }, stream);
    applyJobEvent(cache, 'twice', firstRun[3], new Map());
    expect(job()).toMatchObject({ status: 'PROCESSING', step: 7 });
  });
});
