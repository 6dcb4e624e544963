import { Queue, type ConnectionOptions } from 'bullmq';
import { GENERATION_QUEUE, TRAINING_QUEUE, type GenerationJobData, type GenerationQueue, type TrainingJobData, type TrainingQueue } from '../kernel/queues';


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

/**
 * The training queue. A run is one long entry: a crash is recovered by
 * BullMQ's stalled-job check handing the entry to another worker, which
 * resumes from the last checkpoint (docs/training.md, "Resume guarantees"),
 * so attempts count crashes, not failures (a failing run is failed by the worker).
 */
export function createTrainingQueue(connection: ConnectionOptions, prefix: string): TrainingQueue {
  return new Queue<TrainingJobData, void, 'train'>(TRAINING_QUEUE, {
    connection,
    prefix: `${prefix}:bull`,
    defaultJobOptions: {
      attempts: 1,
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
