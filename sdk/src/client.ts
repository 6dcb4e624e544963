import {
  SdkAddImagesToAlbumDocument, SdkAlbumDocument, SdkAlbumsDocument, SdkBatchDocument, SdkBatchJobsDocument, SdkCancelJobDocument,
  SdkCreateAlbumDocument, SdkCreateBatchDocument, SdkCreateGenerationDocument, SdkCreateSessionDocument, SdkDeleteAlbumDocument,
  SdkJobDocument, SdkJobsDocument, SdkJoinSessionDocument, SdkLeaveSessionDocument, SdkMeDocument, SdkSessionDocument,
  SdkSessionsDocument, SdkStartTrainingDocument, SdkTrainingRunDocument,
  type BatchInput, type GenerationInput, type SdkAlbumFragment, type SdkBatchFragment, type SdkImageFragment, type SdkJobFragment,
  type SdkJobVideoFragment, type SdkJobsQueryVariables, type SdkMeQuery, type SdkSessionFragment, type SdkTrainingRunFragment,
  type TrainingInput,
} from './generated/graphql';
import { AtelierError } from './errors';
import {
  batchEvents, FINAL_EVENT_TYPES, FINAL_TRAINING_EVENT_TYPES, isFinalBatchEvent, jobEvents, sessionEvents, trainingEvents,
  type JobEvent, type JobEventOptions,
} from './job-events';
import { pages, type PageOptions } from './paging';
import { Transport, type AtelierClientOptions } from './transport';

/** A job: `kind` IMAGE has its `images` once COMPLETED; `kind` VIDEO (a VIDEO preset) has no images but its clip in `video`. */
export type Job = SdkJobFragment;
export type Image = SdkImageFragment;
/** A COMPLETED VIDEO job's clip (`Job.video`): `download(video)` gives the MP4. */
export type JobVideo = SdkJobVideoFragment;
export type Session = SdkSessionFragment;
export type Album = SdkAlbumFragment;
/** A batch of jobs (prompts, or a matrix): its counts, and its grid image once a matrix is done. */
export type Batch = SdkBatchFragment;
/** A LoRA training run: its status and step, and its LoRA once COMPLETED. */
export type TrainingRun = SdkTrainingRunFragment;
export type Viewer = NonNullable<SdkMeQuery['me']>;

/** A submitted generation: the job as accepted (PENDING) and its live events. */
export interface Generation {
  job: Job;
  /** The job's events until its final one, resuming after a dropped connection. */
  events: AsyncIterable<JobEvent>;
}

/** Which jobs `jobs()` walks, newest first. */
export type JobFilter = Omit<SdkJobsQueryVariables, 'first' | 'after'>;

const FINAL_STATUSES: ReadonlySet<Job['status']> = new Set<Job['status']>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** A typed client of Atelier's GraphQL API; see sdk/README.md. */
export function createAtelierClient(options: AtelierClientOptions) {
  const transport = new Transport(options);

  /** The job, or null when there is none you may see; an id that is no UUID is an AtelierError BAD_USER_INPUT. */
  async function job(id: string): Promise<Job | null> {
    return (await transport.request(SdkJobDocument, { id })).job;
  }

  /** Follows the job's events to the end, then returns the job as stored (with its images). */
  async function waitForJob(id: string, eventOptions: JobEventOptions = {}): Promise<Job> {
    for await (const event of jobEvents(transport, id, eventOptions)) {
      if (FINAL_EVENT_TYPES.has(event.type)) break;
    }
    const finished = await job(id);
    if (!finished) throw new AtelierError('The job is gone', 'NOT_FOUND');
    if (!FINAL_STATUSES.has(finished.status)) throw new AtelierError(`The job's events ended while it was ${finished.status}`, 'NETWORK');
    return finished;
  }

  return {
    /**
     * Submits a generation; iterate `events` for progress, or call waitForJob(job.id). Without an
     * `idempotencyKey`, one is made for the call, so a retry after a lost answer returns the job the
     * first attempt created instead of making a second one.
     */
    async generate(input: GenerationInput, submit: { idempotencyKey?: string } = {}): Promise<Generation> {
      const idempotencyKey = submit.idempotencyKey ?? globalThis.crypto.randomUUID();
      const { createGeneration } = await transport.request(SdkCreateGenerationDocument, { input, idempotencyKey }, true);
      return { job: createGeneration, events: { [Symbol.asyncIterator]: () => jobEvents(transport, createGeneration.id) } };
    },
    /** A job's events (from the first, or after `options.after`), resuming after a dropped connection. */
    jobEvents: (jobId: string, eventOptions?: JobEventOptions) => jobEvents(transport, jobId, eventOptions),
    waitForJob,
    job,
    async cancelJob(id: string): Promise<Job> {
      return (await transport.request(SdkCancelJobDocument, { id })).cancelJob;
    },
    /** Every job matching the filter, newest first, fetched a page at a time. */
    jobs(filter: JobFilter = {}, paging: PageOptions = {}): AsyncGenerator<Job> {
      return pages(paging, async (first, after) => (await transport.request(SdkJobsDocument, { ...filter, first, after })).jobs);
    },
    /** The bytes behind a signed URL: an image's PNG, a clip's MP4 (`job.video`), or its poster (`{ url: job.video.posterUrl }`). */
    download: (file: Pick<Image | JobVideo, 'url'>) => transport.download(file.url),
    async me(): Promise<Viewer> {
      const { me } = await transport.request(SdkMeDocument, {});
      if (!me) throw new AtelierError('Not signed in', 'UNAUTHENTICATED');
      return me;
    },
    sessions: {
      create: async (name: string) => (await transport.request(SdkCreateSessionDocument, { name })).createSession,
      list: async () => (await transport.request(SdkSessionsDocument, {})).sessions,
      get: async (id: string) => (await transport.request(SdkSessionDocument, { id })).session,
      join: async (token: string) => (await transport.request(SdkJoinSessionDocument, { token })).joinSession,
      leave: async (sessionId: string) => (await transport.request(SdkLeaveSessionDocument, { sessionId })).leaveSession,
      /** The session's live events (from now, or after `options.after`) until you stop iterating; resumes after a dropped connection, also before the first event. */
      events: (sessionId: string, eventOptions?: JobEventOptions) => sessionEvents(transport, sessionId, eventOptions),
      /** The session's jobs, newest first. */
      jobs: (sessionId: string, paging: PageOptions = {}) =>
        pages(paging, async (first, after) => (await transport.request(SdkJobsDocument, { sessionId, first, after })).jobs),
    },
    batches: {
      /**
       * Submits a batch (docs/batches.md). Without an `idempotencyKey`, one is made for the call, so a retry
       * after a lost answer returns the batch the first attempt created.
       */
      async create(input: BatchInput, submit: { idempotencyKey?: string } = {}): Promise<Batch> {
        const idempotencyKey = submit.idempotencyKey ?? globalThis.crypto.randomUUID();
        return (await transport.request(SdkCreateBatchDocument, { input, idempotencyKey }, true)).createBatch;
      },
      /** The batch, or null when there is none you may see. */
      get: async (id: string): Promise<Batch | null> => (await transport.request(SdkBatchDocument, { id })).batch,
      /** The batch's jobs in batch order. */
      jobs: (batchId: string, paging: PageOptions = {}): AsyncGenerator<Job> =>
        pages(paging, async (first, after) => {
          const { batch } = await transport.request(SdkBatchJobsDocument, { id: batchId, first, after });
          if (!batch) throw new AtelierError('Batch not found', 'NOT_FOUND');
          return batch.jobs;
        }),
      /** The batch's events (from the first, or after `options.after`) until its final counts, resuming after a dropped connection. */
      events: (batchId: string, eventOptions?: JobEventOptions) => batchEvents(transport, batchId, eventOptions),
      /** Follows the batch's events to its final counts, then returns the batch as stored. */
      async wait(batchId: string, eventOptions: JobEventOptions = {}): Promise<Batch> {
        for await (const event of batchEvents(transport, batchId, eventOptions)) if (isFinalBatchEvent(event)) break;
        const finished = (await transport.request(SdkBatchDocument, { id: batchId })).batch;
        if (!finished) throw new AtelierError('The batch is gone', 'NOT_FOUND');
        return finished;
      },
    },
    training: {
      /** Starts a LoRA training run on one of your datasets (docs/training.md); it counts against the tier's training limits. */
      start: async (input: TrainingInput): Promise<TrainingRun> => (await transport.request(SdkStartTrainingDocument, { input })).startTraining,
      /** The run, or null when there is none you may see (the API answers NOT_FOUND for it). */
      async get(id: string): Promise<TrainingRun | null> {
        try {
          return (await transport.request(SdkTrainingRunDocument, { id })).trainingRun;
        } catch (error) {
          if (error instanceof AtelierError && error.code === 'NOT_FOUND') return null;
          throw error;
        }
      },
      /** The run's events (from the first, or after `options.after`) until its final one, resuming after a dropped connection. */
      events: (runId: string, eventOptions?: JobEventOptions) => trainingEvents(transport, runId, eventOptions),
      /** Follows the run's events to its end, then returns the run as stored (with its LoRA when COMPLETED). */
      async wait(runId: string, eventOptions: JobEventOptions = {}): Promise<TrainingRun> {
        for await (const event of trainingEvents(transport, runId, eventOptions)) if (FINAL_TRAINING_EVENT_TYPES.has(event.type)) break;
        return (await transport.request(SdkTrainingRunDocument, { id: runId })).trainingRun;
      },
    },
    albums: {
      create: async (name: string, description?: string) => (await transport.request(SdkCreateAlbumDocument, { name, description })).createAlbum,
      list: (paging: PageOptions = {}): AsyncGenerator<Album> =>
        pages(paging, async (first, after) => (await transport.request(SdkAlbumsDocument, { first, after })).albums),
      get: async (id: string) => (await transport.request(SdkAlbumDocument, { id, first: 1 })).album,
      /** The album's images in album order. */
      images: (albumId: string, paging: PageOptions = {}): AsyncGenerator<Image> =>
        pages(paging, async (first, after) => {
          const { album } = await transport.request(SdkAlbumDocument, { id: albumId, first, after });
          if (!album) throw new AtelierError('Album not found', 'NOT_FOUND');
          return album.images;
        }),
      addImages: async (albumId: string, imageIds: string[]) =>
        (await transport.request(SdkAddImagesToAlbumDocument, { albumId, imageIds })).addImagesToAlbum,
      delete: async (id: string) => (await transport.request(SdkDeleteAlbumDocument, { id })).deleteAlbum,
    },
    /** Closes the live-events socket; HTTP calls need no closing. */
    close: () => transport.close(),
  };
}

/** What createAtelierClient returns. */
export type AtelierClient = ReturnType<typeof createAtelierClient>;
