import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { Dataset, DatasetImage, type TierPolicy, type User } from '../entities';
import { AppError, ErrorCode, badInput, forbidden, notFound } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { assertUuid } from '../kernel/ids';
import type { ArtifactStore } from '../storage/artifact-store';
import type { AccessPolicy } from './access';
import { datasetVisibleWhere, sessionRoleContributes } from './access-rules';
import { checkDatasetImage, cleanCaption, type CheckedImage } from './dataset-images';
import type { Page } from './job-queries';
import { pageNewestFirst } from './keyset-page';
import type { UploadService } from './uploads';

/** One image to attach: an upload from POST /uploads and its caption. */
export interface DatasetImageInputData {
  uploadId: string;
  caption?: string | null;
}

const MAX_IMAGES_PER_CALL = 100;

/** Where a dataset image's file lives in the artifact store. */
export const datasetImageKey = (datasetId: string, imageId: string, format: string): string => `datasets/${datasetId}/${imageId}.${format}`;

/**
 * Training datasets: captioned images, private to their owner unless shared
 * with a session (whose members may see them and train on them). Images come
 * through POST /uploads and are checked by content before anything is stored
 * (dataset-images.ts); the count per dataset is the tier's maxDatasetImages.
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
    const name = (input.name ?? '').trim();
    if (name.length < 1 || name.length > 80) throw badInput('name', 'name must be 1 to 80 characters');
    if (input.sessionId) {
      const { role } = await this.access.assertSessionMember(user, assertUuid('sessionId', input.sessionId));
      if (!sessionRoleContributes(role)) throw forbidden('Watchers cannot share datasets with this session');
    }
    const repo = this.db.getRepository(Dataset);
    return repo.save(repo.create({ name, ownerId: user.id, sessionId: input.sessionId ?? null }));
  }

  /** A dataset the user can see, else NOT_FOUND (whether it exists is nobody else's business). */
  async get(user: User, id: string): Promise<Dataset> {
    const dataset = await this.db.getRepository(Dataset).createQueryBuilder('d')
      .where(datasetVisibleWhere('d', user)).andWhere('d.id = :id', { id: assertUuid('id', id) }).getOne();
    if (!dataset) throw notFound('Dataset');
    return dataset;
  }

  list(user: User, first = 20, after?: string | null): Promise<Page<Dataset>> {
    return pageNewestFirst(this.db.getRepository(Dataset).createQueryBuilder('d').where(datasetVisibleWhere('d', user)), 'd', first, after);
  }

  images(datasetId: string): Promise<DatasetImage[]> {
    return this.db.getRepository(DatasetImage).find({ where: { datasetId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async delete(user: User, id: string): Promise<boolean> {
    const dataset = await this.assertMine(user, id);
    const images = await this.images(dataset.id);
    await this.db.getRepository(Dataset).delete({ id: dataset.id });
    for (const image of images) await this.store.delete(image.storageKey);
    return true;
  }

  /**
   * Checks every upload first and stores nothing unless all pass; the count
   * check and the inserts hold the dataset's row lock, so two calls at once
   * cannot pass the tier's limit together.
   */
  async addImages(user: User, datasetId: string, inputs: DatasetImageInputData[], policy: TierPolicy): Promise<DatasetImage[]> {
    const dataset = await this.assertMine(user, datasetId);
    if (inputs.length < 1 || inputs.length > MAX_IMAGES_PER_CALL) throw badInput('images', `Send 1 to ${MAX_IMAGES_PER_CALL} images per call`);
    const checked: { image: CheckedImage; caption: string; uploadId: string }[] = [];
    for (const [i, input] of inputs.entries()) {
      const field = `images[${i}].uploadId`;
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
    await this.db.transaction(async (manager) => {
      await manager.getRepository(Dataset).createQueryBuilder('d').setLock('pessimistic_write').where('d.id = :id', { id: dataset.id }).getOne();
      const count = await manager.getRepository(DatasetImage).countBy({ datasetId: dataset.id });
      if (count + rows.length > policy.maxDatasetImages) {
        throw new AppError(ErrorCode.QUOTA_EXCEEDED, `A dataset holds at most ${policy.maxDatasetImages} images on your ${policy.tier} tier (it has ${count})`,
          { field: 'images', limit: policy.maxDatasetImages });
      }
      await manager.getRepository(DatasetImage).insert(rows);
    });
    await this.storeFiles(rows, checked.map((c) => c.image));
    for (const { uploadId } of checked) await this.uploads.discard(user.id, uploadId);
    return rows;
  }

  async updateImage(user: User, imageId: string, caption: string): Promise<DatasetImage> {
    const image = await this.db.getRepository(DatasetImage).findOneBy({ id: assertUuid('id', imageId) });
    if (!image) throw notFound('Dataset image');
    await this.assertMine(user, image.datasetId);
    image.caption = cleanCaption(caption, 'caption');
    await this.db.getRepository(DatasetImage).update({ id: image.id }, { caption: image.caption });
    return image;
  }

  /** Removes images from the dataset (ids of other datasets are refused); returns how many went. */
  async removeImages(user: User, datasetId: string, imageIds: string[]): Promise<number> {
    const dataset = await this.assertMine(user, datasetId);
    imageIds.forEach((id, i) => assertUuid(`imageIds[${i}]`, id));
    const images = imageIds.length ? await this.db.getRepository(DatasetImage).findBy({ id: In(imageIds), datasetId: dataset.id }) : [];
    if (images.length !== new Set(imageIds).size) throw badInput('imageIds', 'imageIds must be images of this dataset');
    await this.db.getRepository(DatasetImage).delete({ id: In(images.map((i) => i.id)) });
    for (const image of images) await this.store.delete(image.storageKey);
    return images.length;
  }

  /** Only the owner changes a dataset; session members only see it. */
  private async assertMine(user: User, id: string): Promise<Dataset> {
    const dataset = await this.get(user, id);
    if (dataset.ownerId !== user.id) throw forbidden('Only the dataset\'s owner can change it');
    return dataset;
  }

  /** The files after the rows: a failed write removes the rows again, so no row points at a missing file. */
  private async storeFiles(rows: DatasetImage[], images: CheckedImage[]): Promise<void> {
    try {
      for (const [i, row] of rows.entries()) await this.store.put(row.storageKey, images[i].bytes, `image/${row.format}`);
    } catch (error) {
      await this.db.getRepository(DatasetImage).delete({ id: In(rows.map((r) => r.id)) });
      for (const row of rows) await this.store.delete(row.storageKey).catch(() => undefined);
      throw error;
    }
  }
}
