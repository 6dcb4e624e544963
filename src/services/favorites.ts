import { Brackets, DataSource } from 'typeorm';
import { Favorite, Image, type User } from '../entities';
import { badInput, notFound } from '../kernel/errors';
import { decodeKeysetCursor, encodeKeysetCursor } from '../kernel/paging';
import { assertUuid } from '../kernel/ids';
import { visibleImageIds } from './image-access';
import type { Page } from './job-queries';

const encodeCursor = (f: Favorite): string => encodeKeysetCursor(f.createdAt, f.imageId);

/** Favourite images: marking any image one may see, and the list, newest favourite first. */
export class FavoriteService {
  constructor(private readonly db: DataSource) {}

  private async visibleImage(user: User, imageId: string): Promise<Image> {
    const id = assertUuid('imageId', imageId);
    const visible = await visibleImageIds(this.db, user, [id]);
    const image = visible.has(id) ? await this.db.getRepository(Image).findOneBy({ id }) : null;
    if (!image) throw notFound('Image');
    return image;
  }

  /** Marks the image; doing it twice is harmless. */
  async add(user: User, imageId: string): Promise<Image> {
    const image = await this.visibleImage(user, imageId);
    await this.db.createQueryBuilder().insert().into(Favorite).values({ userId: user.id, imageId: image.id }).orIgnore().execute();
    return image;
  }

  /** Unmarks the image. */
  async remove(user: User, imageId: string): Promise<Image> {
    const image = await this.visibleImage(user, imageId);
    await this.db.getRepository(Favorite).delete({ userId: user.id, imageId: image.id });
    return image;
  }

  /** My favourites with their images, newest favourite first (one query per page). */
  async list(user: User, first = 20, after?: string | null): Promise<Page<Image>> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', 'first must be from 1 to 100');
    const qb = this.db.getRepository(Favorite).createQueryBuilder('f').innerJoinAndSelect('f.image', 'i')
      .where('f.userId = :uid', { uid: user.id });
    if (after) {
      const c = decodeKeysetCursor(after);
      qb.andWhere(new Brackets((w) => {
        w.where('f.createdAt < :cAt', { cAt: c.at })
          .orWhere('(f.createdAt = :cAt AND f.imageId < :cId)', { cAt: c.at, cId: c.id });
      }));
    }
    const rows = await qb.orderBy('f.createdAt', 'DESC').addOrderBy('f.imageId', 'DESC').limit(first + 1).getMany();
    const page = rows.slice(0, first);
    return { nodes: page.map((f) => f.image as Image), cursors: page.map(encodeCursor), hasNextPage: rows.length > first };
  }
}
