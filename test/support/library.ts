import { randomUUID } from 'node:crypto';
import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Redis } from 'ioredis';
import { AiModel, Image, Job, JobKind, JobStatus, Lora, LoraVisibility, type JobLora } from '../../src/entities';
import { recordStepCost } from '../../src/services/queue-positions';
import type { AppContext } from '../../src/resolvers/context';
import { createLoaders, type Loaders } from '../../src/resolvers/loaders';
import type { Services } from '../../src/resolvers/context';
import type { Viewer } from '../../src/services/auth';
import { job, type TestJob } from './factories';

/** Runs `fn` and returns the SQL statements the DataSource sent meanwhile (through its logger hook). */
export async function countStatements<T>(db: DataSource, fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const logger = db.logger as { logQuery: (...args: unknown[]) => unknown };
  const original = logger.logQuery;
  const statements: string[] = [];
  logger.logQuery = (...args: unknown[]) => {
    statements.push(String(args[0]));
    return original.apply(logger, args);
  };
  try {
    return { result: await fn(), statements };
  } finally {
    logger.logQuery = original;
  }
}

/** Executes an operation in-process against the app schema, as one HTTP request would (fresh loaders unless given). */
export async function executeAs(
  schema: GraphQLSchema, services: Services, viewer: Viewer | null, query: string,
  variables: Record<string, unknown> = {}, loaders: Loaders = createLoaders(services.db),
): Promise<ExecutionResult> {
  const contextValue: AppContext = { requestId: randomUUID(), viewer, services, loaders, transport: 'http' };
  return execute({ schema, document: parse(query), variableValues: variables, contextValue });
}

/** A LoRA row for the default model (the file is not needed for read paths); PUBLIC unless `overrides` says otherwise. */
export async function seedLora(db: DataSource, ownerId: string, name: string, overrides: Partial<Lora> = {}): Promise<Lora> {
  const model = await db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
  const lora = db.getRepository(Lora).create({
    id: randomUUID(), ownerId, name, baseModelId: model.id, triggerWords: [], defaultWeight: 1, storageKey: `loras/${name}.safetensors`,
    sha256: '0'.repeat(64), version: 1, active: true, visibility: LoraVisibility.PUBLIC, ...overrides,
  });
  await db.getRepository(Lora).insert(lora);
  return lora;
}

/** Inserts album rows directly (fixtures for read benchmarks; the API path is tested in albums.test.ts). */
export async function seedAlbum(db: DataSource, ownerId: string, imageIds: string[]): Promise<string> {
  const id = randomUUID();
  await db.query('INSERT INTO albums (id, owner_id, name) VALUES ($1, $2, $3)', [id, ownerId, `album ${id.slice(0, 6)}`]);
  await db.query(
    'INSERT INTO album_images (album_id, image_id, position) SELECT $1, t.id, t.pos FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, pos)',
    [id, imageIds],
  );
  return id;
}

/**
 * Writes COMPLETED jobs with `perJob` image rows each, as the worker would
 * (without running the model): for tests that need many images quickly.
 */
/** A 64² job row of `ownerId` on `modelId`, with `fields` over it (not yet written). */
function seededJob(db: DataSource, modelId: string, ownerId: string, fields: Partial<Job>): Job {
  return db.getRepository(Job).create({
    id: randomUUID(), ownerId, sessionId: null, albumId: null, modelId, presetId: null, negativePrompt: null, width: 64, height: 64,
    guidanceScale: 7.5, count: 1, loras: [], idempotencyKey: null, requestId: null, priority: 0, deadlineAt: null, ...fields,
  });
}

export async function seedImages(
  db: DataSource, ownerId: string, count: number,
  options: { perJob?: number; sessionId?: string | null; loras?: JobLora[] } = {},
): Promise<Image[]> {
  const perJob = options.perJob ?? 1;
  const model = await db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
  const images: Image[] = [];
  for (let start = 0; start < count; start += perJob) {
    const n = Math.min(perJob, count - start);
    const job = seededJob(db, model.id, ownerId, {
      sessionId: options.sessionId ?? null, status: JobStatus.COMPLETED, prompt: `seeded ${start}`, steps: 2, seed: start, count: n,
      loras: options.loras ?? [], step: 2, attempts: 1, completedAt: new Date(),
    });
    await db.getRepository(Job).insert(job);
    const rows = Array.from({ length: n }, (_, index) => db.getRepository(Image).create({
      id: randomUUID(), jobId: job.id, ownerId, index, seed: start + index, width: 64, height: 64,
      storageKey: `images/${job.id}/${index}.png`, sha256: '0'.repeat(64), bytes: 1, parameters: {},
    }));
    // jsonb `parameters` trips TypeORM's deep-partial insert type; the rows are complete entities.
    await db.getRepository(Image).insert(rows as never);
    images.push(...rows);
  }
  return images;
}

/** Runs a real (tiny, fast) generation and waits until it completes; returns the job with its images. */
export async function generate(url: string, token: string, input: Record<string, unknown> = {}): Promise<TestJob> {
  const done = await job({ url }, { token }, input, { wait: true });
  if (done.status !== 'COMPLETED') throw new Error(`job ${done.status}: ${done.error?.message}`);
  return done;
}

/**
 * PENDING job rows of `ownerId` (no queue entries: for an API-only app, where
 * nothing starts them), `priorities[i]` for the i-th, each a millisecond
 * younger than the one before; returns their ids in that order.
 */
export async function seedPendingJobs(db: DataSource, ownerId: string, priorities: number[]): Promise<string[]> {
  const model = await db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
  const start = Date.now() - priorities.length;
  const rows = priorities.map((priority, i) => seededJob(db, model.id, ownerId, {
    status: JobStatus.PENDING, prompt: `waiting ${i}`, steps: 4, seed: i, priority, step: 0, attempts: 0, createdAt: new Date(start + i),
  }));
  await db.getRepository(Job).insert(rows);
  return rows.map((row) => row.id);
}

/** Sets the default model's cost per one-megapixel denoising step (what ETAs count from), as a first finished job would. */
export async function setStepCost(db: DataSource, redis: Redis, prefix: string, msPerMp: number): Promise<void> {
  const model = await db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
  // One 1000×1000 image of 10 steps: 10 one-megapixel steps.
  await recordStepCost(redis, prefix, { modelId: model.id, width: 1000, height: 1000, kind: JobKind.IMAGE, steps: 10, count: 1, videoFrames: null }, msPerMp * 10);
}
