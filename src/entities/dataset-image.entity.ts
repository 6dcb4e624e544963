import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, Int, ObjectType } from 'type-graphql';
import { Dataset } from './dataset.entity';
import { Identified } from './identified';

@ObjectType({ description: 'One training image of a dataset, with its caption.' })
@Entity('dataset_images')
@Index('idx_dataset_images_dataset', ['datasetId', 'createdAt'])
export class DatasetImage extends Identified {
  @Column('uuid', { name: 'dataset_id' })
  datasetId: string;

  @ManyToOne(() => Dataset, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id' })
  dataset?: Dataset;

  @Field(() => String, { description: 'What the image shows, as the trainer reads it.' })
  @Column('text', { default: '' })
  caption: string;

  @Column('text', { name: 'storage_key' })
  storageKey: string;

  @Field(() => String, { description: 'png, jpeg or webp, as decoded (never taken from the file name).' })
  @Column('text')
  format: string;

  @Field(() => Int, { description: 'Width in pixels.' })
  @Column('int')
  width: number;

  @Field(() => Int, { description: 'Height in pixels.' })
  @Column('int')
  height: number;

  @Field(() => Int, { description: 'Size of the file in bytes.' })
  @Column('int')
  bytes: number;

  @Field(() => String, { description: 'SHA-256 of the file.' })
  @Column('text')
  sha256: string;
}
