import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Album } from './album.entity';
import { Image } from './image.entity';

/** An image with an album, the key of `album_images` and `album_removals`; either row goes with its album or image. */
export abstract class AlbumImageKey {
  @PrimaryColumn('uuid', { name: 'album_id' })
  albumId: string;

  @PrimaryColumn('uuid', { name: 'image_id' })
  imageId: string;

  @ManyToOne(() => Album, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'album_id' })
  album?: Album;

  @ManyToOne(() => Image, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'image_id' })
  image?: Image;
}

/** An image's place in an album. */
@Entity('album_images')
@Index('idx_album_images_order', ['albumId', 'position'])
export class AlbumImage extends AlbumImageKey {
  @Column('int')
  position: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'added_at' })
  addedAt: Date;
}
