import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { AiModel } from './model.entity';
import { User } from './user.entity';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { LoraVisibility, Tier } from './enums';
import type { TrainingConfig } from '../kernel/training-parameters';

/** What a trained LoRA version records about how it was made. */
export interface LoraTrainingMetrics {
  config: TrainingConfig;
  datasetHash: string;
  initialLoss: number;
  finalLoss: number;
  /** Every step's training loss (noisy: the minibatch at its sampled timesteps). */
  lossCurve: { step: number; loss: number }[];
  /** The evaluation loss at its cadence (docs/training.md, "Losses reported"); absent on versions trained before it was recorded. */
  evaluationCurve?: { step: number; loss: number }[];
}

@ObjectType({ description: 'A LoRA adapter (safetensors) for a base model.' })
@Entity('loras')
@Index('uq_loras_owner_name_version', ['ownerId', 'name', 'version'], { unique: true })
// One LoRA per training run, whatever races a resumed run meets (docs/training.md, "Resume guarantees").
@Index('uq_loras_training_run', ['trainingRunId'], { unique: true, where: 'training_run_id IS NOT NULL' })
export class Lora extends Identified {
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @Field(() => String, { description: 'LoRA name.' })
  @Column('text')
  name: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  @Column('uuid', { name: 'base_model_id' })
  baseModelId: string;

  @ManyToOne(() => AiModel, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'base_model_id' })
  baseModel?: AiModel;

  @Field(() => [String], { description: 'Words that activate the LoRA\'s concept.' })
  @Column('text', { name: 'trigger_words', array: true, default: () => "'{}'" })
  triggerWords: string[];

  @Field(() => Float, { description: 'Weight used when a job gives none.' })
  @Column('real', { name: 'default_weight', default: 1 })
  defaultWeight: number;

  @Column('text', { name: 'storage_key' })
  storageKey: string;

  @Field(() => String, { description: 'SHA-256 of the safetensors file.' })
  @Column('text')
  sha256: string;

  @Field(() => Int, { description: 'Version number, counting up per name.' })
  @Column('int', { default: 1 })
  version: number;

  @Field(() => Boolean, { description: 'Inactive LoRAs cannot be used in new jobs.' })
  @Column('boolean', { default: true })
  active: boolean;

  /**
   * PRIVATE unless set: a path that forgets to choose publishes nothing. Rows
   * from before visibility existed were made PUBLIC by the migration
   * (docs/security.md, "Private LoRAs").
   */
  @Field(() => LoraVisibility, { description: 'PRIVATE: only its owner uses it (admins see it); PUBLIC: everyone its tier allows, while active. Set with setLoraVisibility, per version.' })
  @Column({ type: 'enum', enum: LoraVisibility, enumName: 'lora_visibility', default: LoraVisibility.PRIVATE })
  visibility: LoraVisibility;

  @Field(() => Tier, { description: 'Lowest tier allowed to use it.' })
  @Column({ type: 'enum', enum: Tier, enumName: 'tier', name: 'min_tier', default: Tier.FREE })
  minTier: Tier;

  /** The training run that produced this version; null for uploaded LoRAs. */
  @Column('uuid', { name: 'training_run_id', nullable: true })
  trainingRunId: string | null;

  /** Training configuration, dataset hash and loss of a trained version (LoraVersionMetrics in GraphQL). */
  @Column('jsonb', { nullable: true })
  metrics: LoraTrainingMetrics | null;
}
