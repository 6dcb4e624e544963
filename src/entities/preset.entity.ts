import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { User } from './user.entity';
import { CollabSession } from './session.entity';
import { AiModel } from './model.entity';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { PresetCategory } from './enums';
import { JobLora } from './job.entity';

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

  @Field(() => String, { nullable: true, description: 'Default negative prompt.' })
  @Column('text', { name: 'negative_prompt', nullable: true })
  negativePrompt: string | null;

  @Field(() => Int, { nullable: true, description: 'Default width.' })
  @Column('int', { nullable: true })
  width: number | null;

  @Field(() => Int, { nullable: true, description: 'Default height.' })
  @Column('int', { nullable: true })
  height: number | null;

  @Field(() => Float, { nullable: true, description: 'Default guidance scale.' })
  @Column('real', { name: 'guidance_scale', nullable: true })
  guidanceScale: number | null;

  @Field(() => Int, { nullable: true, description: 'Default steps.' })
  @Column('int', { nullable: true })
  steps: number | null;

  @Column('uuid', { name: 'model_id', nullable: true })
  modelId: string | null;

  @ManyToOne(() => AiModel, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'model_id' })
  model?: AiModel;

  @Field(() => [JobLora], { description: 'LoRAs bundled with the preset.' })
  @Column('jsonb', { default: () => "'[]'::jsonb" })
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
