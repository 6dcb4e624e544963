import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AlbumRole } from './enums';
import { Album } from './album.entity';
import { User } from './user.entity';

/** An album shared with a user as VIEWER or EDITOR. */
@Entity('album_shares')
@Index('idx_album_shares_user', ['userId'])
export class AlbumShare {
  @PrimaryColumn('uuid', { name: 'album_id' })
  albumId: string;

  @PrimaryColumn('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => Album, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'album_id' })
  album?: Album;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'enum', enum: AlbumRole, enumName: 'album_role' })
  role: AlbumRole;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
