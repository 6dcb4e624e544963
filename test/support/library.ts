import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AiModel, Image, Job, JobStatus, type JobLora } from '../../src/entities';
import { gqlData, waitFor } from './graphql';

/**
 * Writes COMPLETED jobs with `perJob` image rows each, as the worker would
 * (without running the model): for tests that need many images quickly.
 */
export async function seedImages(
  db: DataSource, ownerId: string, count: number,
  options: { perJob?: number; sessionId?: string | null; loras?: JobLora[] } = {},
): Promise<Image[]> {
  const perJob = options.perJob ?? 1;
  const model = await db.getRepository(AiModel).findOneByOrFail({ isDefault: true });
  const images: Image[] = [];
  for (let start = 0; start < count; start += perJob) {
    const n = Math.min(perJob, count - start);
    const job = db.getRepository(Job).create({
      id: randomUUID(), ownerId, sessionId: options.sessionId ?? null, albumId: null, modelId: model.id, presetId: null,
      status: JobStatus.COMPLETED, prompt: `seeded ${start}`, negativePrompt: null, width: 64, height: 64, steps: 2,
      guidanceScale: 7.5, seed: start, count: n, loras: options.loras ?? [], idempotencyKey: null, requestId: null,
      priority: 0, step: 2, attempts: 1, deadlineAt: null, completedAt: new Date(),
    });
    await db.getRepository(Job).insert(job);
    const rows = Array.from({ length: n }, (_, index) => db.getRepository(Image).create({
      id: randomUUID(), jobId: job.id, ownerId, index, seed: start + index, width: 64, height: 64,
      storageKey: `images/${job.id}/${index}.png`, sha256: '0'.repeat(64), bytes: 1, parameters: {},
    }));
    await db.getRepository(Image).insert(rows);
    images.push(...rows);
  }
  return images;
}

/** Runs a real (tiny, fast) generation and waits until it completes; returns the job with its images. */
export async function generate(url: string, token: string, input: Record<string, unknown> = {}): Promise<{ id: string; images: { id: string }[] }> {
  const created = await gqlData<any>(url, 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }', {
    i: { prompt: 'a small red fox', width: 64, height: 64, steps: 2, ...input },
  }, token);
  const id = created.createGeneration.id;
  return waitFor(async () => {
    const data = await gqlData<any>(url, 'query($id:ID!){ job(id:$id){ id status error { message } images { id } } }', { id }, token);
    if (data.job.status === 'FAILED') throw new Error(`job failed: ${data.job.error?.message}`);
    return data.job.status === 'COMPLETED' ? data.job : null;
  }, 60_000);
}
