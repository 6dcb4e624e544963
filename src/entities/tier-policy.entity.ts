import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Field, Int, ObjectType } from 'type-graphql';
import { Tier } from './enums';

@ObjectType({ description: 'The limits of one tier (editable by admins).' })
@Entity('tier_policies')
export class TierPolicy {
  @Field(() => Tier, { description: 'The tier these limits apply to.' })
  @PrimaryColumn({ type: 'enum', enum: Tier, enumName: 'tier' })
  tier: Tier;

  @Field(() => Int, { description: 'Jobs running or queued at once.' })
  @Column('int', { name: 'max_open_jobs' })
  maxOpenJobs: number;

  @Field(() => Int, { nullable: true, description: 'Images per UTC day; null means unlimited.' })
  @Column('int', { name: 'images_per_day', nullable: true })
  imagesPerDay: number | null;

  @Field(() => Int, { description: 'Largest width in pixels.' })
  @Column('int', { name: 'max_width' })
  maxWidth: number;

  @Field(() => Int, { description: 'Largest height in pixels.' })
  @Column('int', { name: 'max_height' })
  maxHeight: number;

  @Field(() => Int, { description: 'Most denoising steps per job.' })
  @Column('int', { name: 'max_steps' })
  maxSteps: number;

  @Field(() => Int, { description: 'Most images per job.' })
  @Column('int', { name: 'max_count' })
  maxCount: number;

  @Field(() => Int, { description: 'Most LoRAs per job.' })
  @Column('int', { name: 'max_loras' })
  maxLoras: number;

  @Field(() => Int, { description: 'Generation requests per minute.' })
  @Column('int', { name: 'generations_per_minute' })
  generationsPerMinute: number;

  @Field(() => Int, { description: 'All API requests per minute.' })
  @Column('int', { name: 'requests_per_minute' })
  requestsPerMinute: number;

  @Field(() => Int, { description: 'Queue priority band: lower runs first.' })
  @Column('int', { name: 'queue_priority' })
  queuePriority: number;

  @Field(() => Int, { description: 'Members allowed in a session this tier owns.' })
  @Column('int', { name: 'max_session_members' })
  maxSessionMembers: number;

  @Field(() => Int, { description: 'Query complexity budget per request.' })
  @Column('int', { name: 'max_query_complexity' })
  maxQueryComplexity: number;

  @Field(() => Int, { description: 'Megabytes of uploads not yet registered (e.g. LoRA files waiting for registerLora) one user may hold.' })
  @Column('int', { name: 'pending_upload_mb', default: 64 })
  pendingUploadMb: number;

  @Field(() => Int, { nullable: true, description: 'Days images and finished jobs are kept before housekeeping deletes them; null means forever.' })
  @Column('int', { name: 'retention_days', nullable: true })
  retentionDays: number | null;
  @Field(() => Int, { nullable: true, description: 'Seconds of video per UTC day (counted apart from images); null means unlimited.' })
  @Column('int', { name: 'video_seconds_per_day', nullable: true })
  videoSecondsPerDay: number | null;

  @Field(() => Int, { description: 'Longest video clip in seconds.' })
  @Column('int', { name: 'max_video_seconds', default: 5 })
  maxVideoSeconds: number;

  @Field(() => Int, { description: 'Most frames per second of a video clip.' })
  @Column('int', { name: 'max_video_fps', default: 30 })
  maxVideoFps: number;

  @Field(() => Int, { description: 'Largest width or height of a video clip in pixels.' })
  @Column('int', { name: 'max_video_side', default: 256 })
  maxVideoSide: number;
  @Field(() => Int, { description: 'Batches (createBatch) per rolling hour.' })
  @Column('int', { name: 'batches_per_hour', default: 5 })
  batchesPerHour: number;
  @Field(() => Int, { description: 'LoRA training runs one user may start per UTC day (0: training is not part of the tier).' })
  @Column('int', { name: 'training_runs_per_day', default: 0 })
  trainingRunsPerDay: number;

  @Field(() => Int, { description: 'Training runs one user may have queued or running at once.' })
  @Column('int', { name: 'max_concurrent_training_runs', default: 0 })
  maxConcurrentTrainingRuns: number;

  @Field(() => Int, { description: 'Most steps per training run.' })
  @Column('int', { name: 'max_training_steps', default: 0 })
  maxTrainingSteps: number;

  @Field(() => Int, { description: 'Most images per training dataset.' })
  @Column('int', { name: 'max_dataset_images', default: 20 })
  maxDatasetImages: number;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
