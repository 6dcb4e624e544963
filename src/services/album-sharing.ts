import { randomBytes } from 'node:crypto';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { Album, AlbumLink, AlbumRole, AlbumShare, User } from '../entities';
import { badInput, notFound } from '../kernel/errors';
import type { AlbumService } from './albums';
import type { Clock } from '../kernel/clock';
import { sha256 } from '../kernel/hashing';
import { assertUuid } from '../kernel/ids';

const LINK_PREFIX = 'alb_';

/** A share with its user, for the owner's view of an album. */
export interface AlbumMemberView {
  user: User;
  role: AlbumRole;
  sharedAt: Date;
}

/**
 * Sharing an album with users (VIEWER or EDITOR) and through expiring,
 * revocable read-only links whose token is shown once and stored hashed.
 */
export class AlbumSharing {
  constructor(private readonly db: DataSource, private readonly albums: AlbumService, private readonly clock: Clock) {}

  /** Shares (or changes the role of a share) with another user; owner only. */
  async share(owner: User, albumId: string, userId: string, role: AlbumRole): Promise<Album> {
    const album = await this.albums.assertAccess(owner, albumId, 'own', this.db.manager, 'albumId');
    if (assertUuid('userId', userId) === album.ownerId) throw badInput('userId', 'The owner already has the album');
    if (!(await this.db.getRepository(User).existsBy({ id: userId }))) throw badInput('userId', 'User not found');
    await this.db.createQueryBuilder().insert().into(AlbumShare).values({ albumId: album.id, userId, role })
      .orUpdate(['role'], ['album_id', 'user_id']).execute();
    return album;
  }

  /** Ends a share: the owner removes anyone, a member may leave. */
  async unshare(user: User, albumId: string, userId: string): Promise<Album> {
    assertUuid('userId', userId);
    const album = await this.albums.assertAccess(user, albumId, userId === user.id ? 'view' : 'own', this.db.manager, 'albumId');
    await this.db.getRepository(AlbumShare).delete({ albumId: album.id, userId });
    return album;
  }

  /** The album's members with their users (two queries, whatever the count). */
  async members(album: Album): Promise<AlbumMemberView[]> {
    const shares = await this.db.getRepository(AlbumShare).find({ where: { albumId: album.id }, relations: { user: true }, order: { createdAt: 'ASC' } });
    return shares.map((s) => ({ user: s.user as User, role: s.role, sharedAt: s.createdAt }));
  }

  /** Creates a read-only link valid for `expiresInHours` (1..8760, default 7 days); the token is returned only here. */
  async createLink(owner: User, albumId: string, expiresInHours: number | null | undefined): Promise<{ link: AlbumLink; token: string }> {
    const hours = expiresInHours ?? 24 * 7;
    if (!Number.isInteger(hours) || hours < 1 || hours > 8760) throw badInput('expiresInHours', 'expiresInHours must be from 1 to 8760');
    const album = await this.albums.assertAccess(owner, albumId, 'own', this.db.manager, 'albumId');
    const token = `${LINK_PREFIX}${randomBytes(24).toString('base64url')}`;
    const repo = this.db.getRepository(AlbumLink);
    const link = await repo.save(repo.create({
      albumId: album.id, tokenHash: sha256(token), revokedAt: null,
      expiresAt: new Date(this.clock.now().getTime() + hours * 3600_000),
    }));
    return { link, token };
  }

  /** Revokes a link at once; owner only. */
  async revokeLink(owner: User, linkId: string): Promise<AlbumLink> {
    const repo = this.db.getRepository(AlbumLink);
    const link = await repo.findOneBy({ id: assertUuid('id', linkId) });
    if (!link) throw notFound('Album link');
    await this.albums.assertAccess(owner, link.albumId, 'own').catch(() => {
      throw notFound('Album link');
    });
    if (!link.revokedAt) {
      link.revokedAt = this.clock.now();
      await repo.update({ id: link.id }, { revokedAt: link.revokedAt });
    }
    return link;
  }

  /** Links of an album that still work, newest first. */
  activeLinks(album: Album): Promise<AlbumLink[]> {
    return this.db.getRepository(AlbumLink).find({
      where: { albumId: album.id, revokedAt: IsNull(), expiresAt: MoreThan(this.clock.now()) }, order: { createdAt: 'DESC' },
    });
  }

  /** The album behind a link token, or null when the token is unknown, expired or revoked. */
  async albumByToken(token: string): Promise<Album | null> {
    if (typeof token !== 'string' || !token.startsWith(LINK_PREFIX) || token.length > 100) return null;
    const link = await this.db.getRepository(AlbumLink).findOne({ where: { tokenHash: sha256(token) }, relations: { album: true } });
    if (!link || link.revokedAt || link.expiresAt <= this.clock.now()) return null;
    return link.album ?? null;
  }
}
