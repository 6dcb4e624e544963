import { useApolloClient, useSubscription } from '@apollo/client/react';
import { useState } from 'react';
import type { JobFieldsFragment, JobStatus } from '../gql/graphql';
import { JobQuery, JobUpdatedSubscription } from '../operations/jobs';

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

/**
 * Follows a job live through `jobUpdated` while it is not final: each event is
 * written into the Apollo cache (so every view of the job moves together) and
 * the latest latent preview is kept here. When the job ends, the job is
 * fetched again for its images. The subscription replays the job's story
 * first, so a viewer who arrives late still sees where it is.
 */
export function useLiveJob(job: JobFieldsFragment): { preview: string | null } {
  const client = useApolloClient();
  const [preview, setPreview] = useState<string | null>(null);
  useSubscription(JobUpdatedSubscription, {
    variables: { jobId: job.id },
    skip: FINAL_STATUSES.has(job.status),
    onData: ({ data }) => {
      const event = data.data?.jobUpdated;
      if (!event) return;
      if (event.preview) setPreview(event.preview);
      const status = STATUS_OF_EVENT[event.type];
      client.cache.modify<JobFieldsFragment>({
        id: client.cache.identify({ __typename: 'Job', id: job.id }),
        fields: {
          status: (old) => status ?? old,
          step: (old) => event.step ?? old,
          totalSteps: (old) => event.totalSteps ?? old,
          progress: (old) => (event.type === 'COMPLETED' ? 1 : (event.progress ?? old)),
          queuePosition: (old) => (status === 'PENDING' ? (event.queuePosition ?? old) : null),
          etaSeconds: (old) => event.etaSeconds ?? old,
        },
      });
      if (status && FINAL_STATUSES.has(status)) {
        void client.query({ query: JobQuery, variables: { id: job.id }, fetchPolicy: 'network-only' }).catch(() => undefined);
      }
    },
  });
  return { preview: FINAL_STATUSES.has(job.status) ? null : preview };
}
