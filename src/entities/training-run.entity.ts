import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { TrainingConfig } from '../kernel/training-parameters';
import { Dataset } from './dataset.entity';
import { TrainingStatus } from './enums';
import { Identified } from './identified';
import { JobError } from './job.entity';
import { AiModel } from './model.entity';
import { User } from './user.entity';

@ObjectType({ description: 'A LoRA training run: a dataset, a base model and hyperparameters (docs/training.md).' })
@Entity('training_runs')
@Index('idx_training_runs_owner_created', ['ownerId', 'createdAt'])
@Index('idx_training_runs_status', ['status'])
export class TrainingRun extends Identified {
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  /** Null once the dataset is deleted; the run keeps its dataset hash. */
  @Column('uuid', { name: 'dataset_id', nullable: true })
  datasetId: string | null;

  @ManyToOne(() => Dataset, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'dataset_id' })
  dataset?: Dataset;

  @Column('uuid', { name: 'base_model_id' })
  baseModelId: string;

  @ManyToOne(() => AiModel, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'base_model_id' })
  baseModel?: AiModel;

  @Field(() => String, { description: 'Name of the LoRA the run registers a new version of.' })
  @Column('text', { name: 'lora_name' })
  loraName: string;

  @Field(() => TrainingStatus, { description: 'Where the run is in its life.' })
  @Column({ type: 'enum', enum: TrainingStatus, enumName: 'training_status', default: TrainingStatus.QUEUED })
  status: TrainingStatus;

  @Column('jsonb')
  config: TrainingConfig;

  @Field(() => Int, { description: 'Last step done.' })
  @Column('int', { default: 0 })
  step: number;

  @Field(() => Float, { nullable: true, description: 'Loss at the last reported step.' })
  @Column('real', { nullable: true })
  loss: number | null;

  /** The last checkpoint (LoRA weights and optimizer state) in the artifact store. */
  @Column('text', { name: 'checkpoint_key', nullable: true })
  checkpointKey: string | null;

  @Field(() => Int, { nullable: true, description: 'Step of the last checkpoint (a resumed run continues from it).' })
  @Column('int', { name: 'checkpoint_step', nullable: true })
  checkpointStep: number | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 over the dataset\'s images and captions as trained on.' })
  @Column('text', { name: 'dataset_hash', nullable: true })
  datasetHash: string | null;

  /** The LoRA version this run registered (once COMPLETED). */
  @Column('uuid', { name: 'lora_id', nullable: true })
  loraId: string | null;

  @Field(() => JobError, { nullable: true, description: 'Why the run failed.' })
  @Column('jsonb', { nullable: true })
  error: JobError | null;

  @Field(() => Int, { description: 'How many times a worker started (or resumed) the run.' })
  @Column('int', { default: 0 })
  attempts: number;

  @Field(() => Date, { nullable: true, description: 'When a worker first started it.' })
  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it reached a final status.' })
  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;
}
