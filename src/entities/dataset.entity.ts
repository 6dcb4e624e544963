import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { CollabSession } from './session.entity';
import { User } from './user.entity';

@ObjectType({ description: 'Captioned training images, private to their owner unless shared with a session.' })
@Entity('datasets')
@Index('idx_datasets_owner_created', ['ownerId', 'createdAt'])
export class Dataset extends Identified {
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  @Field(() => String, { description: 'Dataset name.' })
  @Column('text')
  name: string;

  /** Members of this session see (and may train on) the dataset; only the owner changes it. */
  @Column('uuid', { name: 'session_id', nullable: true })
  sessionId: string | null;

  @ManyToOne(() => CollabSession, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'session_id' })
  session?: CollabSession;
}
