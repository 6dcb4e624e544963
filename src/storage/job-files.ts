import { JobKind, type Job } from '../entities';

/** Where image `index` of a job lies in the artifact store. */
export function jobImageKey(jobId: string, index: number): string {
  return `images/${jobId}/${index}.png`;
}

/** Where a VIDEO job's clip and its poster lie in the artifact store. */
export function jobClipKeys(jobId: string): { storageKey: string; posterKey: string } {
  return { storageKey: `videos/${jobId}/clip.mp4`, posterKey: `videos/${jobId}/poster.png` };
}

/**
 * Every key a job's results may have been stored under, recorded or not: a
 * worker stores the files before the completion records them, so a run cut
 * short (a crash, a lost lock) can leave them behind for a job that then ends
 * FAILED or CANCELLED (services/job-lifecycle.ts removes them).
 */
export function jobResultKeys(job: Pick<Job, 'id' | 'count' | 'kind'>): string[] {
  if (job.kind === JobKind.VIDEO) return Object.values(jobClipKeys(job.id));
  return Array.from({ length: job.count }, (_, index) => jobImageKey(job.id, index));
}
