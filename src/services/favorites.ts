import { DataSource } from 'typeorm';
import { Favorite, Image, type User } from '../entities';
import { notFound } from '../kernel/errors';
import { assertUuid } from '../kernel/ids';
import { imageVisibleWhere, visibleImageIds } from './image-access';
import type { Page } from './job-queries';
import { pageNewestFirst } from './keyset-page';

/**
 * Favourite images follow visibility (image-access.ts): any image one may see
 * can be marked, and the list shows only those one may still see (docs/security.md, "Favourites").
 */
export class FavoriteService {
  constructor(private readonly db: DataSource) {}

  /** The image, if `user` may see it; null otherwise. */
  private async visibleImage(user: User, id: string): Promise<Image | null> {
    const visible = await visibleImageIds(this.db, user, [id], true);
    return visible.has(id) ? this.db.getRepository(Image).findOneBy({ id }) : null;
  }

  /** Marks the image; doing it twice is harmless. */
  async add(user: User, imageId: string): Promise<Image> {
    const image = await this.visibleImage(user, assertUuid('imageId', imageId));
    if (!image) throw notFound('Image');
    await this.db.createQueryBuilder().insert().into(Favorite).values({ userId: user.id, imageId: image.id }).orIgnore().execute();
    return image;
  }

  /**
   * Unmarks the image, also one the caller no longer sees (a session left, an
   * album unshared): their favourite stays theirs to remove. Returns the image
   * only while they may see it, so no URL is signed for what they lost.
   */
  async remove(user: User, imageId: string): Promise<Image | null> {
    const id = assertUuid('imageId', imageId);
    await this.db.getRepository(Favorite).delete({ userId: user.id, imageId: id });
    return this.visibleImage(user, id);
  }

  /**
   * My favourites that I may still see, with their images, newest favourite first (one query per page). A
   * favourite has no id of its own: its image breaks ties, unique among one user's favourites.
   */
  async list(user: User, first = 20, after?: string | null): Promise<Page<Image>> {
    const qb = this.db.getRepository(Favorite).createQueryBuilder('f').innerJoinAndSelect('f.image', 'i')
      .where('f.userId = :uid', { uid: user.id });
    qb.andWhere(imageVisibleWhere(qb, 'i', user, true));
    const page = await pageNewestFirst('favorites', qb, 'imageId', first, after);
    return { ...page, nodes: page.nodes.map((f) => f.image as Image) };
  }
}
