import type { ApolloCache, ApolloClient } from '@apollo/client';
import { useApolloClient } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import type { JobFieldsFragment, JobStatus } from '../gql/graphql';
import { JobQuery, JobUpdatedSubscription } from '../operations/jobs';
import { useResumableSubscription } from './useResumableSubscription';

export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

const STATUS_OF_EVENT: Record<string, JobStatus> = {
  QUEUED: 'PENDING',
  POSITION: 'PENDING',
  STARTED: 'PROCESSING',
  PROGRESS: 'PROCESSING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
};

const STATUS_RANK: Record<JobStatus, number> = { PENDING: 0, PROCESSING: 1, COMPLETED: 2, FAILED: 2, CANCELLED: 2 };

/** The parts of a job or session event that move a job along. */
export interface JobEventFields {
  type: string;
  /** When it happened (ISO): news from before the job's last return to the queue is stale. */
  at?: string | null;
  /** QUEUED after the job had started: why it waits again; its step and progress start over. */
  requeueReason?: string | null;
  step?: number | null;
  totalSteps?: number | null;
  progress?: number | null;
  queuePosition?: number | null;
  etaSeconds?: number | null;
}

/**
 * When each job last went back to the queue, as this page heard it (the `at`
 * of a QUEUED with a `requeueReason`): the one time a job moves backwards.
 */
const requeuedAt = new Map<string, string>();

/**
 * What one stream (a subscription) has told of jobs going back to the queue:
 * for each job, the `at` of the last such QUEUED it delivered. A stream is in
 * order, so what it delivers after that QUEUED is news whatever its `at`
 * says (a POSITION stamped when the line was read, another machine's clock).
 */
export type StreamRequeues = Map<string, string>;

/**
 * Writes a job event into the cached Job, so every view of it moves together;
 * returns the status the event implies (undefined for non-job events).
 * `stream`: what the stream delivering it has told (`StreamRequeues`).
 */
export function applyJobEvent(cache: ApolloCache, jobId: string, event: JobEventFields, stream?: StreamRequeues): JobStatus | undefined {
  const status = STATUS_OF_EVENT[event.type];
  if (!status) return undefined;
  const back = requeuedAt.get(jobId);
  if (event.type === 'QUEUED' && event.requeueReason && event.at) {
    stream?.set(jobId, event.at);
    // An older return to the queue, replayed: the job has started again since.
    if (!back || event.at > back) applyRequeue(cache, jobId, event, event.at);
    return status;
  }
  // A stream replaying what another already told: news from before the job's last return to the queue changes
  // nothing. One that told that return itself is past it.
  if (back && stream?.get(jobId) !== back && event.at && event.at < back) return status;
  cache.modify<JobFieldsFragment>({
    id: cache.identify({ __typename: 'Job', id: jobId }),
    // Two streams (the room's and the card's replay) may deliver the same story at different
    // times: a job only moves forward, so older news never pulls it back.
    fields: {
      status: (old) => (STATUS_RANK[status] >= STATUS_RANK[old as JobStatus] ? status : old),
      step: (old) => Math.max(old as number, event.step ?? 0),
      totalSteps: (old) => event.totalSteps ?? old,
      progress: (old) => Math.max(old as number, event.type === 'COMPLETED' ? 1 : (event.progress ?? 0)),
      queuePosition: (old) => (status === 'PENDING' ? (event.queuePosition ?? old) : null),
      etaSeconds: (old) => event.etaSeconds ?? old,
    },
  });
  return status;
}

/** A started job waits in the queue again (its worker was lost, or handed it back): its run starts over. */
function applyRequeue(cache: ApolloCache, jobId: string, event: JobEventFields, at: string): void {
  requeuedAt.set(jobId, at);
  cache.modify<JobFieldsFragment>({
    id: cache.identify({ __typename: 'Job', id: jobId }),
    fields: {
      status: (old) => (FINAL_STATUSES.has(old as JobStatus) ? old : 'PENDING'),
      step: () => 0,
      progress: () => 0,
      queuePosition: (old) => event.queuePosition ?? old,
      etaSeconds: () => null,
    },
  });
}

/** A job that just ended: fetch it again for its images (and final timings). */
export function refetchFinishedJob(client: ApolloClient, jobId: string): void {
  void client.query({ query: JobQuery, variables: { id: jobId }, fetchPolicy: 'network-only' }).catch(() => undefined);
}

/**
 * Follows a job live through `jobUpdated` while it is not final: each event is
 * written into the Apollo cache (so every view of the job moves together) and
 * the latest latent preview is kept here. When the job ends, the job is
 * fetched again for its images. The subscription replays the job's story
 * first, so a viewer who arrives late still sees where it is.
 */
export function useLiveJob(job: JobFieldsFragment): { preview: string | null; stopped: unknown } {
  const client = useApolloClient();
  const [preview, setPreview] = useState<string | null>(null);
  const requeues = useRef<StreamRequeues>(new Map());
  const final = FINAL_STATUSES.has(job.status);
  // Seen open, now ended (by its events, a cancel or a refetch): the usage on screen
  // (open jobs, today's images) changed, and a refusal measured against it may be stale.
  const wasOpen = useRef(!final);
  useEffect(() => {
    if (!final || !wasOpen.current) return;
    wasOpen.current = false;
    void client.refetchQueries({ include: ['Usage'] }).catch(() => undefined);
  }, [final, client]);
  // An error ends the stream: FORBIDDEN when the viewer left or was removed from the job's session; NOT_FOUND
  // when it is started again (the socket dropped and came back) for a job no longer shared, or deleted. After a
  // drop, or an end the server could not avoid (SERVICE_UNAVAILABLE), it resumes after its last event.
  const { error: stopped } = useResumableSubscription(JobUpdatedSubscription, {
    variables: { jobId: job.id },
    skip: final,
    eventIdOf: (data) => data.jobUpdated.eventId,
    onData: (data) => {
      const event = data.jobUpdated;
      if (event.preview) setPreview(event.preview);
      const status = applyJobEvent(client.cache, job.id, event, requeues.current);
      if (status && FINAL_STATUSES.has(status)) refetchFinishedJob(client, job.id);
    },
  });
  return { preview: final ? null : preview, stopped: final ? undefined : stopped };
}
