import { randomUUID } from 'node:crypto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { Dataset, DatasetImage, OPEN_TRAINING_STATUSES, TrainingRun, type TierPolicy, type User } from '../entities';
import { AppError, ErrorCode, badInput, forbidden, notFound } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { assertUuid } from '../kernel/ids';
import type { ArtifactStore } from '../storage/artifact-store';
import type { AccessPolicy } from './access';
import { datasetVisibleWhere, sessionRoleContributes } from './access-rules';
import { checkDatasetImage, cleanCaption, trainingText, type CheckedImage } from './dataset-images';
import type { Page } from './job-queries';
import { pageNewestFirst } from './keyset-page';
import type { UploadService } from './uploads';

/** One image to attach: an upload from POST /uploads and its caption. */
export interface DatasetImageInputData {
  uploadId: string;
  caption?: string | null;
}

const MAX_IMAGES_PER_CALL = 100;
const DATASET_NAME_CHARS = 80;

/** Where a dataset image's file lives in the artifact store. */
export const datasetImageKey = (datasetId: string, imageId: string, format: string): string => `datasets/${datasetId}/${imageId}.${format}`;

/**
 * Training datasets: captioned images, private to their owner unless shared
 * with a session (whose members may see them and train on them). Images come
 * through POST /uploads and are checked by content before anything is stored
 * (dataset-images.ts); the count per dataset is the tier's maxDatasetImages.
 * While a training run on a dataset is queued or running, the dataset does not
 * change (CONFLICT): a run reads its images at every start and resume, and a
 * checkpoint only resumes on the images it was trained on (docs/training.md,
 * "Datasets during a run").
 */
export class DatasetService {
  constructor(
    private readonly db: DataSource,
    private readonly store: ArtifactStore,
    private readonly uploads: UploadService,
    private readonly access: AccessPolicy,
    private readonly clock: Clock,
  ) {}

  async create(user: User, input: { name: string; sessionId?: string | null }): Promise<Dataset> {
    const name = trainingText(input.name, 'name', DATASET_NAME_CHARS, 1);
    if (input.sessionId) {
      const { role } = await this.access.assertSessionMember(user, assertUuid('sessionId', input.sessionId));
      if (!sessionRoleContributes(role)) throw forbidden('Watchers cannot share datasets with this session');
    }
    const repo = this.db.getRepository(Dataset);
    return repo.save(repo.create({ name, ownerId: user.id, sessionId: input.sessionId ?? null }));
  }

  /** A dataset the user can see, else NOT_FOUND (whether it exists is nobody else's business); `field` holds the id. */
  async get(user: User, id: string, field = 'id'): Promise<Dataset> {
    const dataset = await this.db.getRepository(Dataset).createQueryBuilder('d')
      .where(datasetVisibleWhere('d', user)).andWhere('d.id = :id', { id: assertUuid(field, id) }).getOne();
    if (!dataset) throw notFound('Dataset');
    return dataset;
  }

  list(user: User, first = 20, after?: string | null): Promise<Page<Dataset>> {
    return pageNewestFirst('datasets', this.db.getRepository(Dataset).createQueryBuilder('d').where(datasetVisibleWhere('d', user)), 'id', first, after);
  }

  images(datasetId: string): Promise<DatasetImage[]> {
    return this.db.getRepository(DatasetImage).find({ where: { datasetId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async delete(user: User, id: string): Promise<boolean> {
    const dataset = await this.assertMine(user, id);
    const images = await this.whileNoRunOn(user, dataset.id, async (manager) => {
      const rows = await manager.getRepository(DatasetImage).findBy({ datasetId: dataset.id });
      await manager.getRepository(Dataset).delete({ id: dataset.id });
      return rows;
    });
    for (const image of images) await this.store.delete(image.storageKey);
    return true;
  }

  /**
   * Checks every upload first and stores nothing unless all pass; the count
   * check and the inserts hold the dataset's row lock, so two calls at once
   * cannot pass the tier's limit together.
   */
  async addImages(user: User, datasetId: string, inputs: DatasetImageInputData[], policy: TierPolicy): Promise<DatasetImage[]> {
    const dataset = await this.assertMine(user, datasetId, 'datasetId');
    if (inputs.length < 1 || inputs.length > MAX_IMAGES_PER_CALL) throw badInput('images', `Send 1 to ${MAX_IMAGES_PER_CALL} images per call`);
    // Before the uploads are read and decoded: refused at once, and (checked again under the lock) nothing changes.
    await this.assertNoRunOn(this.db.manager, user, dataset.id);
    const checked: { image: CheckedImage; caption: string; uploadId: string }[] = [];
    for (const [i, input] of inputs.entries()) {
      const field = `images[${i}].uploadId`;
      const first = inputs.findIndex((other) => other.uploadId === input.uploadId);
      // One upload is one file: sent twice it would be two rows over one upload (and two copies in the store).
      if (first < i) throw badInput(field, `This upload is already images[${first}] of this call: send each upload once`);
      const bytes = await this.uploads.read(user.id, input.uploadId, field);
      if (!bytes) throw badInput(field, 'Upload not found: send the file to POST /uploads first');
      checked.push({ image: await checkDatasetImage(bytes, field), caption: cleanCaption(input.caption, `images[${i}].caption`), uploadId: input.uploadId });
    }
    const now = this.clock.now().getTime();
    const rows = checked.map(({ image, caption }, i) => {
      const id = randomUUID();
      // A millisecond apart: images keep the order they were sent in (the order the trainer and the dataset hash see).
      return this.db.getRepository(DatasetImage).create({
        id, datasetId: dataset.id, createdAt: new Date(now + i), caption, storageKey: datasetImageKey(dataset.id, id, image.format),
        format: image.format, width: image.width, height: image.height, bytes: image.bytes.length, sha256: image.sha256,
      });
    });
    // The files before the rows that name them (docs/operations.md, "Backups and restore"): a run admitted the
    // moment the rows commit, or a process that dies in between, never meets a row without its file.
    await this.storeFiles(rows, checked.map((c) => c.image));
    try {
      await this.whileNoRunOn(user, dataset.id, async (manager) => {
        const count = await manager.getRepository(DatasetImage).countBy({ datasetId: dataset.id });
        if (count + rows.length > policy.maxDatasetImages) {
          throw new AppError(ErrorCode.QUOTA_EXCEEDED, `A dataset holds at most ${policy.maxDatasetImages} images on your ${policy.tier} tier (it has ${count})`,
            { field: 'images', limit: policy.maxDatasetImages });
        }
        await manager.getRepository(DatasetImage).insert(rows);
      });
    } catch (error) {
      await this.removeFiles(rows);
      throw error;
    }
    for (const { uploadId } of checked) await this.uploads.discard(user.id, uploadId);
    return rows;
  }

  async updateImage(user: User, imageId: string, caption: string): Promise<DatasetImage> {
    const image = await this.db.getRepository(DatasetImage).findOneBy({ id: assertUuid('id', imageId) });
    if (!image) throw notFound('Dataset image');
    await this.assertMine(user, image.datasetId);
    image.caption = cleanCaption(caption, 'caption');
    await this.whileNoRunOn(user, image.datasetId, (manager) => manager.getRepository(DatasetImage).update({ id: image.id }, { caption: image.caption }));
    return image;
  }

  /** Removes images from the dataset (ids of other datasets are refused); returns how many went. */
  async removeImages(user: User, datasetId: string, imageIds: string[]): Promise<number> {
    const dataset = await this.assertMine(user, datasetId, 'datasetId');
    imageIds.forEach((id, i) => assertUuid(`imageIds[${i}]`, id));
    const images = await this.whileNoRunOn(user, dataset.id, async (manager) => {
      const rows = imageIds.length ? await manager.getRepository(DatasetImage).findBy({ id: In(imageIds), datasetId: dataset.id }) : [];
      if (rows.length !== new Set(imageIds).size) throw badInput('imageIds', 'imageIds must be images of this dataset');
      await manager.getRepository(DatasetImage).delete({ id: In(rows.map((i) => i.id)) });
      return rows;
    });
    for (const image of images) await this.store.delete(image.storageKey);
    return images.length;
  }

  /**
   * Runs `change` in a transaction that holds the dataset's row lock and has found no open run on it
   * (`assertNoRunOn`). startTraining's admission shares that lock, so no run is admitted between the check and
   * the change: the change either commits before the run exists (which then trains on it) or is refused.
   */
  private whileNoRunOn<T>(user: User, datasetId: string, change: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (manager) => {
      await manager.getRepository(Dataset).createQueryBuilder('d').setLock('pessimistic_write').where('d.id = :id', { id: datasetId }).getOne();
      await this.assertNoRunOn(manager, user, datasetId);
      return change(manager);
    });
  }

  /** CONFLICT, naming the run (when it is the caller's), while a training run on the dataset is QUEUED or RUNNING. */
  private async assertNoRunOn(manager: EntityManager, user: User, datasetId: string): Promise<void> {
    const run = await manager.getRepository(TrainingRun).findOne({
      where: { datasetId, status: In([...OPEN_TRAINING_STATUSES]) }, order: { createdAt: 'ASC' },
    });
    if (!run) return;
    const mine = run.ownerId === user.id;
    const what = mine ? `Training run ${run.id} ("${run.loraName}")` : 'A session member\'s training run';
    const next = mine ? 'wait for it to end, or cancel it (cancelTraining)' : 'wait for it to end (its owner can cancel it)';
    throw new AppError(ErrorCode.CONFLICT, `${what} is ${run.status} on this dataset, which cannot change until the run ends: ${next}`,
      mine ? { runId: run.id } : {});
  }

  /** Only the owner changes a dataset; session members only see it. */
  private async assertMine(user: User, id: string, field = 'id'): Promise<Dataset> {
    const dataset = await this.get(user, id, field);
    if (dataset.ownerId !== user.id) throw forbidden('Only the dataset\'s owner can change it');
    return dataset;
  }

  /** The files after the rows: a failed write removes the rows again, so no row points at a missing file. */
  /** Stores the images' files; on a failure, those stored already are removed again. */
  private async storeFiles(rows: DatasetImage[], images: CheckedImage[]): Promise<void> {
    try {
      for (const [i, row] of rows.entries()) await this.store.put(row.storageKey, images[i].bytes, `image/${row.format}`);
    } catch (error) {
      await this.removeFiles(rows);
      throw error;
    }
  }

  /** Files no row will name (a refused or failed call): removed, best effort. */
  private async removeFiles(rows: DatasetImage[]): Promise<void> {
    for (const row of rows) await this.store.delete(row.storageKey).catch(() => undefined);
  }
}
