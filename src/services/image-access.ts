import { Brackets, DataSource, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { Album, AlbumImage, AlbumRemoval, Image, Job, User } from '../entities';
import { badInput } from '../kernel/errors';
import { albumListedWhere, jobVisibleWhere } from './access-rules';
import { assertUuid } from '../kernel/ids';

/** Checks a list of image ids from a request: 1..max UUIDs, duplicates dropped. */
export function assertImageIds(field: string, ids: readonly string[], max = 500): string[] {
  if (!Array.isArray(ids) || ids.length < 1) throw badInput(field, `${field} must name at least one image`);
  if (ids.length > max) throw badInput(field, `${field} may name at most ${max} images`);
  return [...new Set(ids.map((id, i) => assertUuid(`${field}[${i}]`, id)))];
}

/**
 * Who sees an image, in SQL for the `images` row aliased `alias` of `qb`:
 * whoever may see the job that made it (jobVisibleTo: its owner, its
 * session's members, admins). With `throughAlbums`, also whoever owns an
 * album it is in or has that album shared with them (albumRoleOf): they see
 * it there, and may mark it a favourite, but may not take it further (into
 * an album of their own, or as a clip's first frame with its job's prompt
 * and settings), since that would outlive the share. An album link shows
 * the album to its visitors, nothing to keep (docs/security.md, "Favourites").
 */
export function imageVisibleWhere(qb: SelectQueryBuilder<ObjectLiteral>, alias: string, user: User, throughAlbums = false): Brackets {
  const visibleJobs = qb.subQuery().select('j.id').from(Job, 'j').where(jobVisibleWhere('j', user)).getQuery();
  if (!throughAlbums) return new Brackets((w) => w.where(`${alias}.job_id IN ${visibleJobs}`));
  const albumImages = qb.subQuery().select('ai.image_id').from(AlbumImage, 'ai')
    .innerJoin(Album, 'a', 'a.id = ai.album_id').where(albumListedWhere('a', user.id)).getQuery();
  return new Brackets((w) => {
    w.where(`${alias}.job_id IN ${visibleJobs}`).orWhere(`${alias}.id IN ${albumImages}`);
  });
}

/** The ids among `ids` of images `user` may see (imageVisibleWhere), in one query. */
export async function visibleImageIds(db: DataSource, user: User, ids: readonly string[], throughAlbums = false): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const qb = db.getRepository(Image).createQueryBuilder('i')
    .select('i.id', 'id')
    .where('i.id IN (:...ids)', { ids: [...ids] });
  const rows: { id: string }[] = await qb.andWhere(imageVisibleWhere(qb, 'i', user, throughAlbums)).getRawMany();
  return new Set(rows.map((r) => r.id));
}

/**
 * The ids among `ids` of images `editor` removed from `album` themselves (as
 * its EDITOR) that the album's owner may see (imageVisibleWhere): the owner
 * could add them back, and the editor saw them there. Another's removal,
 * or an image the owner may not see, stays out (docs/security.md, "Favourites").
 */
async function imagesRemovedBy(db: DataSource, editor: User, album: Album, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0 || album.ownerId === editor.id) return new Set();
  const owner = await db.getRepository(User).findOneByOrFail({ id: album.ownerId });
  const qb = db.getRepository(Image).createQueryBuilder('i')
    .select('i.id', 'id')
    .innerJoin(AlbumRemoval, 'r', 'r.image_id = i.id AND r.album_id = :albumId AND r.removed_by = :editorId', { albumId: album.id, editorId: editor.id })
    .where('i.id IN (:...ids)', { ids: [...ids] });
  const rows: { id: string }[] = await qb.andWhere(imageVisibleWhere(qb, 'i', owner)).getRawMany();
  return new Set(rows.map((r) => r.id));
}

/**
 * All of `ids` may go into `album` by `user` (who may edit it): images they
 * may see, and ones they removed from it that its owner may see; else
 * BAD_USER_INPUT naming the first that may not (existence is not leaked).
 */
export async function assertImagesAddable(db: DataSource, user: User, album: Album, field: string, ids: string[]): Promise<void> {
  const visible = await visibleImageIds(db, user, ids);
  const removed = await imagesRemovedBy(db, user, album, ids.filter((id) => !visible.has(id)));
  const missing = ids.findIndex((id) => !visible.has(id) && !removed.has(id));
  if (missing >= 0) throw badInput(field, `Image ${ids[missing]} not found`);
}
