import { DataSource } from 'typeorm';
import { AlbumImage } from '../entities';
import { badInput } from '../kernel/errors';
import { isUuid } from '../kernel/ids';
import { cursorPayload, encodeCursor } from '../kernel/paging';

/** Which page of one album's images to read. */
export interface AlbumImagesPageKey {
  albumId: string;
  first: number;
  after: string | null;
}

/** One page of an album, in album order; items carry their image. */
export interface AlbumImagesPage {
  items: AlbumImage[];
  cursors: string[];
  hasNextPage: boolean;
}

export const albumPageKey = (key: AlbumImagesPageKey): string => `${key.albumId}|${key.first}|${key.after ?? ''}`;

export function encodeAlbumCursor(item: Pick<AlbumImage, 'position' | 'imageId'>): string {
  return encodeCursor('Album.images', `${item.position}|${item.imageId}`);
}

/** The largest PostgreSQL `integer`: the type of `album_images.position`. */
const MAX_POSITION = 2_147_483_647;

/** Decodes a cursor from `encodeAlbumCursor`; anything else (another list's, a forged id or position) is BAD_USER_INPUT on `after`. */
export function decodeAlbumCursor(cursor: string): { position: number; imageId: string } {
  const parts = cursorPayload('Album.images', cursor).split('|');
  const [pos, imageId] = parts;
  const position = /^\d{1,10}$/.test(pos ?? '') ? Number(pos) : -1;
  if (parts.length !== 2 || !isUuid(imageId) || position < 0 || position > MAX_POSITION) throw badInput('after', 'Invalid cursor');
  return { position, imageId };
}

export function assertPageSize(first: number | null | undefined, fallback = 50): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > 200) throw badInput('first', 'first must be from 1 to 200');
  return size;
}

/**
 * Reads pages of several albums in one statement: a window over album_images
 * numbers each album's items, and the outer query joins their images. Keys
 * with the same page size and no cursor (an album grid) share one query.
 */
export async function loadAlbumImagePages(db: DataSource, keys: readonly AlbumImagesPageKey[]): Promise<AlbumImagesPage[]> {
  const groups = new Map<string, AlbumImagesPageKey[]>();
  for (const key of keys) {
    const group = key.after ? albumPageKey(key) : `${key.first}|`;
    groups.set(group, [...(groups.get(group) ?? []), key]);
  }
  const pages = new Map<string, AlbumImagesPage>();
  for (const group of groups.values()) {
    const { first, after } = group[0];
    const rows = await pageQuery(db, group.map((k) => k.albumId), first, after);
    for (const key of group) {
      const mine = rows.filter((r) => r.albumId === key.albumId);
      const items = mine.slice(0, first);
      pages.set(albumPageKey(key), { items, cursors: items.map(encodeAlbumCursor), hasNextPage: mine.length > first });
    }
  }
  return keys.map((k) => pages.get(albumPageKey(k)) as AlbumImagesPage);
}

async function pageQuery(db: DataSource, albumIds: string[], first: number, after: string | null): Promise<AlbumImage[]> {
  const cursor = after ? decodeAlbumCursor(after) : null;
  const cursorSql = cursor ? 'AND (x.position, x.image_id) > (:cPos, CAST(:cId AS uuid))' : '';
  return db.getRepository(AlbumImage).createQueryBuilder('ai')
    .innerJoinAndSelect('ai.image', 'i')
    .where(`(ai.album_id, ai.image_id) IN (
      SELECT w.album_id, w.image_id FROM (
        SELECT x.album_id, x.image_id, ROW_NUMBER() OVER (PARTITION BY x.album_id ORDER BY x.position, x.image_id) AS rn
        FROM album_images x WHERE x.album_id IN (:...albumIds) ${cursorSql}
      ) w WHERE w.rn <= :limit)`, { albumIds, limit: first + 1, cPos: cursor?.position, cId: cursor?.imageId })
    .orderBy('ai.albumId', 'ASC').addOrderBy('ai.position', 'ASC').addOrderBy('ai.imageId', 'ASC')
    .getMany();
}
