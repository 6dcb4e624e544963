import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { User } from './user.entity';
import { CollabSession } from './session.entity';
import { AiModel } from './model.entity';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { PresetCategory } from './enums';
import { JobLora, ParameterColumn } from './generation-columns';
import type { Sampler } from '../kernel/generation-parameters';

@ObjectType({ description: 'A prompt template with default parameters.' })
@Entity('presets')
@Index('idx_presets_owner', ['ownerId'])
@Index('uq_presets_builtin_name', ['name'], { unique: true, where: 'built_in' })
export class Preset extends Identified {
  /** Null for built-in presets. */
  @Column('uuid', { name: 'owner_id', nullable: true })
  ownerId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  /** A custom preset shared with a session is visible to its members. */
  @Column('uuid', { name: 'session_id', nullable: true })
  sessionId: string | null;

  @ManyToOne(() => CollabSession, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'session_id' })
  session?: CollabSession;

  @Field(() => String, { description: 'Preset name.' })
  @Column('text')
  name: string;

  @Field(() => PresetCategory, { description: 'IMAGE or VIDEO.' })
  @Column({ type: 'enum', enum: PresetCategory, enumName: 'preset_category', default: PresetCategory.IMAGE })
  category: PresetCategory;

  @Field(() => String, { description: 'Prompt template; `{prompt}` is replaced by the user\'s prompt.' })
  @Column('text')
  template: string;

  @ParameterColumn('negativePrompt', { nullable: true, description: 'Default negative prompt.' })
  negativePrompt: string | null;

  @ParameterColumn('width', { nullable: true, description: 'Default width.' })
  width: number | null;

  @ParameterColumn('height', { nullable: true, description: 'Default height.' })
  height: number | null;

  @ParameterColumn('guidanceScale', { nullable: true, description: 'Default guidance scale.' })
  guidanceScale: number | null;

  @ParameterColumn('sampler', { nullable: true, description: 'Default sampler (null: the model\'s own).' })
  sampler: Sampler | null;

  @ParameterColumn('steps', { nullable: true, description: 'Default steps.' })
  steps: number | null;

  @Column('uuid', { name: 'model_id', nullable: true })
  modelId: string | null;

  @ManyToOne(() => AiModel, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'model_id' })
  model?: AiModel;

  @ParameterColumn('loras', { description: 'LoRAs bundled with the preset.' })
  loras: JobLora[];

  @Field(() => Float, { nullable: true, description: 'Video length in seconds (VIDEO presets).' })
  @Column('real', { name: 'duration_seconds', nullable: true })
  durationSeconds: number | null;

  @Field(() => Int, { nullable: true, description: 'Frames per second (VIDEO presets).' })
  @Column('int', { nullable: true })
  fps: number | null;

  @Field(() => Boolean, { description: 'Built-in presets cannot be changed or deleted.' })
  @Column('boolean', { name: 'built_in', default: false })
  builtIn: boolean;

  @Field(() => Int, { description: 'How many jobs used this preset.' })
  @Column('int', { name: 'usage_count', default: 0 })
  usageCount: number;
}
