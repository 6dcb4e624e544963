import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { User } from './user.entity';

@ObjectType({ description: 'A curated collection of images; private unless shared.' })
@Entity('albums')
@Index('idx_albums_owner_created', ['ownerId', 'createdAt'])
// Deleting an image clears the covers chosen among it (DataLifecycle): found here, not by reading every album.
@Index('idx_albums_cover_image', ['coverImageId'], { where: 'cover_image_id IS NOT NULL' })
export class Album extends Identified {
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  @Field(() => String, { description: 'Album name.' })
  @Column('text')
  name: string;

  @Field(() => String, { nullable: true, description: 'Free text.' })
  @Column('text', { nullable: true })
  description: string | null;

  @Column('uuid', { name: 'cover_image_id', nullable: true })
  coverImageId: string | null;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
