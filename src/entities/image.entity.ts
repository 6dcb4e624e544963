import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, Int, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { User } from './user.entity';
import { Job } from './job.entity';

@ObjectType({ description: 'A generated PNG.' })
@Entity('images')
// One image per (job, index): a job retried after a worker crash can never write duplicates.
@Index('uq_images_job_index', ['jobId', 'index'], { unique: true })
@Index('idx_images_owner_created', ['ownerId', 'createdAt'])
export class Image extends Identified {
  @Column('uuid', { name: 'job_id' })
  jobId: string;

  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: Job;

  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  @Field(() => Int, { description: 'Position within its job (0-based).' })
  @Column('int')
  index: number;

  @Field(() => Int, { description: 'Seed of this image (job seed + index).' })
  @Column('int')
  seed: number;

  @Field(() => Int, { description: 'Width in pixels.' })
  @Column('int')
  width: number;

  @Field(() => Int, { description: 'Height in pixels.' })
  @Column('int')
  height: number;

  @Column('text', { name: 'storage_key' })
  storageKey: string;

  @Field(() => String, { description: 'SHA-256 of the PNG bytes.' })
  @Column('text')
  sha256: string;

  @Field(() => Int, { description: 'Size of the PNG in bytes.' })
  @Column('int')
  bytes: number;

  /** Generation parameters as embedded in the PNG text chunks. */
  @Column('jsonb', { default: () => "'{}'::jsonb" })
  parameters: Record<string, unknown>;
}
