import { DataSource, EntityManager, In } from 'typeorm';
import { Album, AlbumImage, AlbumRemoval, AlbumShare, type User } from '../entities';
import { badInput, forbidden, notFound, nullIfNotFound } from '../kernel/errors';
import { albumAccessWith, albumListedWhere, albumRoleAllows, type AlbumAccessRole, type AlbumNeed } from './access-rules';
import type { Clock } from '../kernel/clock';
import { assertUuid } from '../kernel/ids';
import { assertImageIds, assertImagesAddable } from './image-access';
import type { Page } from './job-queries';
import { pageNewestFirst } from './keyset-page';
import { isBlank } from '../kernel/visible-text';

function albumName(raw: string): string {
  const name = raw.trim();
  if (isBlank(name) || name.length > 120) throw badInput('name', 'name must be 1 to 120 characters');
  return name;
}

function albumDescription(raw: string | null | undefined): string | null {
  const text = raw?.trim() || null;
  if (text && text.length > 2000) throw badInput('description', 'description must be at most 2000 characters');
  return text;
}

/**
 * Albums: private to their owner unless shared (AlbumSharing). Outsiders get
 * NOT_FOUND, members who may only view get FORBIDDEN on changes.
 */
export class AlbumService {
  constructor(private readonly db: DataSource, private readonly clock: Clock) {}

  /** The viewer's role on `album`, or null when they may not see it. */
  roleOf(user: User, album: Album, manager: EntityManager = this.db.manager): Promise<AlbumAccessRole | null> {
    return albumAccessWith(album, user, async () => (await manager.findOneBy(AlbumShare, { albumId: album.id, userId: user.id }))?.role ?? null);
  }

  /** The album if `user` may do `need` with it; NOT_FOUND when they cannot see it, FORBIDDEN when they can only look. */
  async assertAccess(user: User, albumId: string, need: AlbumNeed, manager: EntityManager = this.db.manager, field = 'id'): Promise<Album> {
    const album = await manager.findOneBy(Album, { id: assertUuid(field, albumId) });
    const role = album ? await this.roleOf(user, album, manager) : null;
    if (!album || !role) throw notFound('Album');
    if (!albumRoleAllows(role, need, user)) {
      throw forbidden(need === 'edit' ? 'You can only view this album' : 'Only the album\'s owner can do this');
    }
    return album;
  }

  /** The album, or null when it does not exist or is not visible (the `album` query's shape). */
  find(user: User, albumId: string): Promise<Album | null> {
    return nullIfNotFound(() => this.assertAccess(user, albumId, 'view'));
  }

  async create(user: User, nameRaw: string, descriptionRaw?: string | null): Promise<Album> {
    const repo = this.db.getRepository(Album);
    const album = repo.create({ ownerId: user.id, name: albumName(nameRaw), description: albumDescription(descriptionRaw), coverImageId: null });
    return repo.save(album);
  }

  /** Renames and/or re-describes; owner and editors. */
  async update(user: User, albumId: string, changes: { name?: string | null; description?: string | null }): Promise<Album> {
    const album = await this.assertAccess(user, albumId, 'edit');
    const values: Partial<Album> = {};
    if (changes.name != null) values.name = albumName(changes.name);
    if (changes.description !== undefined) values.description = albumDescription(changes.description);
    if (Object.keys(values).length === 0) return album;
    await this.db.getRepository(Album).update({ id: album.id }, values);
    return this.db.getRepository(Album).findOneByOrFail({ id: album.id });
  }

  async delete(user: User, albumId: string): Promise<boolean> {
    const album = await this.assertAccess(user, albumId, 'own');
    await this.db.getRepository(Album).delete({ id: album.id });
    return true;
  }

  /** Albums I own or that are shared with me, newest first. */
  list(user: User, first = 20, after?: string | null): Promise<Page<Album>> {
    const qb = this.db.getRepository(Album).createQueryBuilder('a').where(albumListedWhere('a', user.id));
    return pageNewestFirst('albums', qb, 'id', first, after);
  }

  /**
   * Appends images the caller may see, and images an editor removed from it
   * themselves that its owner may see (assertImagesAddable), in the order
   * given; images already in the album stay where they are. One id outside
   * these refuses the whole call.
   */
  async addImages(user: User, albumId: string, imageIdsRaw: readonly string[]): Promise<Album> {
    const imageIds = assertImageIds('imageIds', imageIdsRaw);
    const edited = await this.assertAccess(user, albumId, 'edit', this.db.manager, 'albumId');
    await assertImagesAddable(this.db, user, edited, 'imageIds', imageIds);
    return this.db.transaction(async (m) => {
      const album = await this.lockAlbum(m, albumId);
      const last = (await m.getRepository(AlbumImage).maximum('position', { albumId })) ?? 0;
      const present = new Set((await m.findBy(AlbumImage, { albumId, imageId: In(imageIds) })).map((r) => r.imageId));
      const fresh = imageIds.filter((id) => !present.has(id));
      if (fresh.length) {
        await m.createQueryBuilder().insert().into(AlbumImage)
          .values(fresh.map((imageId, i) => ({ albumId, imageId, position: last + 1 + i }))).orIgnore().execute();
        // Back in the album: an earlier removal no longer says who may add it back.
        await m.delete(AlbumRemoval, { albumId, imageId: In(fresh) });
        await this.touch(m, album.id);
      }
      return m.findOneByOrFail(Album, { id: album.id });
    });
  }

  /**
   * Removes images (ids not in the album are ignored); clears the cover if it
   * was one of them. An editor's removals are recorded, so that they may add
   * those images back (addImages).
   */
  async removeImages(user: User, albumId: string, imageIdsRaw: readonly string[]): Promise<Album> {
    const imageIds = assertImageIds('imageIds', imageIdsRaw);
    await this.assertAccess(user, albumId, 'edit', this.db.manager, 'albumId');
    return this.db.transaction(async (m) => {
      const album = await this.lockAlbum(m, albumId);
      if (album.ownerId !== user.id) {
        await m.query(
          `INSERT INTO album_removals (album_id, image_id, removed_by) SELECT ai.album_id, ai.image_id, $2 FROM album_images ai
           WHERE ai.album_id = $1 AND ai.image_id = ANY($3::uuid[])
           ON CONFLICT (album_id, image_id) DO UPDATE SET removed_by = EXCLUDED.removed_by, removed_at = now()`,
          [albumId, user.id, imageIds],
        );
      }
      await m.delete(AlbumImage, { albumId, imageId: In(imageIds) });
      if (album.coverImageId && imageIds.includes(album.coverImageId)) await m.update(Album, { id: albumId }, { coverImageId: null });
      await this.touch(m, album.id);
      return m.findOneByOrFail(Album, { id: album.id });
    });
  }

  /** Sets (or with null clears) the cover; it must be one of the album's images. */
  async setCover(user: User, albumId: string, imageId: string | null): Promise<Album> {
    const album = await this.assertAccess(user, albumId, 'edit', this.db.manager, 'albumId');
    if (imageId !== null) {
      const inAlbum = await this.db.getRepository(AlbumImage).existsBy({ albumId, imageId: assertUuid('imageId', imageId) });
      if (!inAlbum) throw badInput('imageId', 'The cover must be an image of this album');
    }
    await this.db.getRepository(Album).update({ id: album.id }, { coverImageId: imageId });
    return this.db.getRepository(Album).findOneByOrFail({ id: album.id });
  }

  /** Puts the album in the given order; `imageIds` must list each of its images exactly once. */
  async reorder(user: User, albumId: string, imageIdsRaw: readonly string[]): Promise<Album> {
    const imageIds = assertImageIds('imageIds', imageIdsRaw, 10_000);
    if (imageIds.length !== imageIdsRaw.length) throw badInput('imageIds', 'imageIds lists an image twice');
    await this.assertAccess(user, albumId, 'edit', this.db.manager, 'albumId');
    return this.db.transaction(async (m) => {
      const album = await this.lockAlbum(m, albumId);
      const current = await m.findBy(AlbumImage, { albumId });
      const have = new Set(current.map((r) => r.imageId));
      if (current.length !== imageIds.length || imageIds.some((id) => !have.has(id))) {
        throw badInput('imageIds', `imageIds must list each of the album's ${current.length} images exactly once`);
      }
      // One UPDATE … FROM unnest: positions 1..n in the given order.
      await m.query(
        `UPDATE album_images ai SET position = o.pos FROM unnest($2::uuid[]) WITH ORDINALITY AS o(image_id, pos)
         WHERE ai.album_id = $1 AND ai.image_id = o.image_id`,
        [albumId, imageIds],
      );
      await this.touch(m, album.id);
      return m.findOneByOrFail(Album, { id: album.id });
    });
  }

  /** Serialises concurrent changes to one album (positions are computed from the current maximum). */
  private async lockAlbum(m: EntityManager, albumId: string): Promise<Album> {
    const album = await m.getRepository(Album).createQueryBuilder('a').setLock('pessimistic_write').where('a.id = :albumId', { albumId }).getOne();
    if (!album) throw notFound('Album');
    return album;
  }

  private async touch(m: EntityManager, albumId: string): Promise<void> {
    await m.update(Album, { id: albumId }, { updatedAt: this.clock.now() });
  }
}
