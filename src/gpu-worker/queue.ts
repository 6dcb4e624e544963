import { Queue, type ConnectionOptions } from 'bullmq';
import { GENERATION_QUEUE, type GenerationJobData, type GenerationQueue } from '../kernel/queues';


/**
 * The BullMQ queue jobs are submitted to. `prefix` keeps separate
 * deployments (and test files) from seeing each other's jobs.
 */
export function createGenerationQueue(connection: ConnectionOptions, prefix: string): GenerationQueue {
  return new Queue<GenerationJobData, void, 'generate'>(GENERATION_QUEUE, {
    connection,
    prefix: `${prefix}:bull`,
    defaultJobOptions: {
      // Transient failures retry with exponential backoff; the worker marks
      // permanent ones unrecoverable so they fail at once.
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
