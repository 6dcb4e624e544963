import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne } from 'typeorm';
import { AlbumImageKey } from './album-image.entity';
import { User } from './user.entity';

/**
 * An image an album's EDITOR removed from it, and who: they may add it back
 * while its owner may see it, as the owner could (docs/security.md,
 * "Favourites"). Gone once the image is in the album again, and with the
 * album, the image or the editor's account.
 */
@Entity('album_removals')
export class AlbumRemoval extends AlbumImageKey {
  @Column('uuid', { name: 'removed_by' })
  removedBy: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'removed_by' })
  remover?: User;

  @CreateDateColumn({ type: 'timestamptz', name: 'removed_at' })
  removedAt: Date;
}
