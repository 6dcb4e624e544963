import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { AlbumImage, AlbumRole, AlbumShare, Favorite, Job, SessionMember, SessionRole } from '../entities';
import { albumPageKey, loadAlbumImagePages, type AlbumImagesPage, type AlbumImagesPageKey } from '../services/album-images';

/** `${a}:${b}` keys for pairs (ids are UUIDs, so ':' cannot occur inside). */
const pair = (a: string, b: string): string => `${a}:${b}`;
const split = (key: string): [string, string] => key.split(':') as [string, string];

/** Loads rows for (x, y) pairs in one query and answers each pair. */
function pairLoader<T>(
  fetch: (xs: string[], ys: string[]) => Promise<T[]>,
  keyOf: (row: T) => string,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (keys) => {
    const pairs = keys.map(split);
    const rows = await fetch([...new Set(pairs.map((p) => p[0]))], [...new Set(pairs.map((p) => p[1]))]);
    const map = new Map(rows.map((r) => [keyOf(r), r]));
    return keys.map((k) => map.get(k) ?? null);
  });
}

/**
 * Loaders for the creative library (albums, favourites, jobs behind images),
 * merged into the per-request loaders. Pair keys are built with {@link libraryKey}.
 */
export function createLibraryLoaders(db: DataSource) {
  const albumShares = pairLoader(
    (albumIds, userIds) => db.getRepository(AlbumShare).findBy({ albumId: In(albumIds), userId: In(userIds) }),
    (s) => pair(s.albumId, s.userId),
  );
  const favorites = pairLoader(
    (userIds, imageIds) => db.getRepository(Favorite).findBy({ userId: In(userIds), imageId: In(imageIds) }),
    (f) => pair(f.userId, f.imageId),
  );
  const members = pairLoader(
    (sessionIds, userIds) => db.getRepository(SessionMember).findBy({ sessionId: In(sessionIds), userId: In(userIds) }),
    (m) => pair(m.sessionId, m.userId),
  );
  return {
    job: new DataLoader<string, Job | null>(async (ids) => {
      const rows = await db.getRepository(Job).findBy({ id: In([...ids]) });
      const map = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => map.get(id) ?? null);
    }),
    /** Key: libraryKey(albumId, userId). */
    albumShareRole: { load: async (key: string): Promise<AlbumRole | null> => (await albumShares.load(key))?.role ?? null },
    /** Key: libraryKey(userId, imageId). */
    isFavorite: { load: async (key: string): Promise<boolean> => (await favorites.load(key)) !== null },
    /** Key: libraryKey(sessionId, userId). */
    sessionRole: { load: async (key: string): Promise<SessionRole | null> => (await members.load(key))?.role ?? null },
    albumImages: new DataLoader<AlbumImagesPageKey, AlbumImagesPage, string>(
      (keys) => loadAlbumImagePages(db, keys), { cacheKeyFn: albumPageKey },
    ),
    albumImageCount: new DataLoader<string, number>(async (albumIds) => {
      const rows: { albumId: string; count: string }[] = await db.getRepository(AlbumImage).createQueryBuilder('ai')
        .select('ai.albumId', 'albumId').addSelect('COUNT(*)', 'count')
        .where('ai.albumId IN (:...albumIds)', { albumIds: [...albumIds] }).groupBy('ai.albumId').getRawMany();
      const map = new Map(rows.map((r) => [r.albumId, Number(r.count)]));
      return albumIds.map((id) => map.get(id) ?? 0);
    }),
  };
}

/** The key of a pair loader. */
export const libraryKey = pair;

export type LibraryLoaders = ReturnType<typeof createLibraryLoaders>;
