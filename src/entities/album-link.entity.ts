import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Identified } from './identified';
import { Album } from './album.entity';

/** An expiring, revocable read-only link to an album; the token is stored hashed. */
@Entity('album_links')
export class AlbumLink extends Identified {
  @Index()
  @Column('uuid', { name: 'album_id' })
  albumId: string;

  @ManyToOne(() => Album, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'album_id' })
  album?: Album;

  @Index({ unique: true })
  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}
