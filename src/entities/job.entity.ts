import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { GenerationSettings, Sampler } from '../kernel/generation-parameters';
import { JobLora, ParameterColumn } from './generation-columns';
import { Identified } from './identified';
import { JobKind, JobStatus } from './enums';
import { JobFailureCode } from '../kernel/errors';
import { User } from './user.entity';
import { CollabSession } from './session.entity';
import { Album } from './album.entity';
import { AiModel } from './model.entity';
import { ApiKey } from './api-key.entity';
import { Batch } from './batch.entity';

@ObjectType({ description: 'Why a job failed.' })
export class JobError {
  @Field(() => JobFailureCode, { description: 'Machine-readable reason, e.g. TIMEOUT, MODEL_INVALID, LORA_INVALID, DEADLINE_EXCEEDED.' })
  code: JobFailureCode;

  @Field(() => String, { description: 'Human-readable explanation.' })
  message: string;
}

/** Where a finished clip lives and what it is (the jobs.video column; docs/video.md). */
export interface JobVideoFile {
  storageKey: string;
  posterKey: string;
  mimeType: string;
  bytes: number;
  frames: number;
  fps: number;
  width: number;
  height: number;
  durationSeconds: number;
}

@ObjectType({ description: 'An image- or video-generation job and the parameters it runs with.' })
@Entity('jobs')
@Index('idx_jobs_owner_created', ['ownerId', 'createdAt'])
@Index('idx_jobs_session_created', ['sessionId', 'createdAt'])
@Index('idx_jobs_status_created', ['status', 'createdAt'])
@Index('idx_jobs_owner_idempotency', ['ownerId', 'idempotencyKey'])
// Partial: only API-key jobs pay for it; it keeps the ON DELETE SET NULL from scanning jobs.
@Index('idx_jobs_api_key', ['apiKeyId'], { where: 'api_key_id IS NOT NULL' })
@Index('idx_jobs_batch', ['batchId', 'batchIndex'], { where: 'batch_id IS NOT NULL' })
// The line, in the order the queue hands it out: a place in line counts the entries ahead in this small index alone (docs/architecture.md, "The request path").
@Index('idx_jobs_pending_order', ['priority', 'createdAt'], { where: `status = 'PENDING'` })
export class Job extends Identified implements GenerationSettings {
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  @Column('uuid', { name: 'session_id', nullable: true })
  sessionId: string | null;

  @ManyToOne(() => CollabSession, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'session_id' })
  session?: CollabSession;

  @Column('uuid', { name: 'album_id', nullable: true })
  albumId: string | null;

  @ManyToOne(() => Album, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'album_id' })
  album?: Album;

  @Column('uuid', { name: 'model_id' })
  modelId: string;

  @ManyToOne(() => AiModel, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'model_id' })
  model?: AiModel;

  @Column('uuid', { name: 'preset_id', nullable: true })
  presetId: string | null;

  /** The API key that submitted the job (null for JWT callers): its webhook hears about state changes. */
  @Column('uuid', { name: 'api_key_id', nullable: true })
  apiKeyId: string | null;

  @ManyToOne(() => ApiKey, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'api_key_id' })
  apiKey?: ApiKey;

  /** The batch the job was submitted in (docs/batches.md); its counts follow this job's transitions. */
  @Field(() => ID, { nullable: true, description: 'The batch the job was submitted in (createBatch), if any.' })
  @Column('uuid', { name: 'batch_id', nullable: true })
  batchId: string | null;

  @ManyToOne(() => Batch, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'batch_id' })
  batch?: Batch;

  @Field(() => Int, { nullable: true, description: 'Position in its batch (0-based); in a matrix, row × columns + column.' })
  @Column('int', { name: 'batch_index', nullable: true })
  batchIndex: number | null;

  @Field(() => JobStatus, { description: 'Where the job is in its lifecycle.' })
  @Column({ type: 'enum', enum: JobStatus, enumName: 'job_status', default: JobStatus.PENDING })
  status: JobStatus;

  @Field(() => String, { description: 'The prompt, after trimming and any preset template.' })
  @Column('text')
  prompt: string;

  @ParameterColumn('negativePrompt', { nullable: true, description: 'What the image should avoid.' })
  negativePrompt: string | null;

  @ParameterColumn('width', { description: 'Image width in pixels.' })
  width: number;

  @ParameterColumn('height', { description: 'Image height in pixels.' })
  height: number;

  @ParameterColumn('steps', { description: 'Denoising steps.' })
  steps: number;

  @ParameterColumn('guidanceScale', { description: 'Classifier-free guidance scale.' })
  guidanceScale: number;

  @Field(() => Int, { description: 'Seed actually used (chosen and recorded when the request gave none).' })
  @Column('int')
  seed: number;

  @Field(() => Int, { description: 'Images in this job; image i uses seed + i.' })
  @Column('int')
  count: number;

  @ParameterColumn('loras', { description: 'LoRAs applied, with weights.' })
  loras: JobLora[];

  @ParameterColumn('sampler', { nullable: true, description: 'The sampler asked for; null runs the one the model\'s scheduler config names.' })
  sampler: Sampler | null;

  @Field(() => JobKind, { description: 'IMAGE (count images) or VIDEO (one clip of videoFrames frames).' })
  @Column({ type: 'enum', enum: JobKind, enumName: 'job_kind', default: JobKind.IMAGE })
  kind: JobKind;

  @Field(() => Int, { nullable: true, description: 'VIDEO jobs: frames in the clip (duration × fps).' })
  @Column('int', { name: 'video_frames', nullable: true })
  videoFrames: number | null;

  @Field(() => Int, { nullable: true, description: 'VIDEO jobs: frames per second.' })
  @Column('int', { name: 'video_fps', nullable: true })
  videoFps: number | null;

  @Field(() => String, { nullable: true, description: 'VIDEO jobs: the prompt the clip moves toward (image-to-video with a new prompt); null keeps the prompt.' })
  @Column('text', { name: 'end_prompt', nullable: true })
  endPrompt: string | null;

  @Field(() => ID, { nullable: true, description: 'VIDEO jobs: the image the clip was animated from (its seed and parameters).' })
  @Column('uuid', { name: 'source_image_id', nullable: true })
  sourceImageId: string | null;

  /** The finished clip (VIDEO jobs, once COMPLETED); exposed as Job.video with signed URLs. */
  @Column('jsonb', { name: 'video', nullable: true })
  video: JobVideoFile | null;

  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey: string | null;

  @Field(() => Date, { nullable: true, description: 'The job fails with DEADLINE_EXCEEDED if it has not started by then.' })
  @Column('timestamptz', { name: 'deadline_at', nullable: true })
  deadlineAt: Date | null;

  @Field(() => Int, { description: 'Last completed denoising step.' })
  @Column('int', { default: 0 })
  step: number;

  @Column('int', { name: 'priority', default: 0 })
  priority: number;

  @Field(() => String, { nullable: true, description: 'ONNX execution provider the worker used (cuda, cpu, …).' })
  @Column('text', { name: 'execution_provider', nullable: true })
  executionProvider: string | null;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode: string | null;

  @Column('text', { name: 'error_message', nullable: true })
  errorMessage: string | null;

  @Column('int', { default: 0 })
  attempts: number;

  /** Request id of the mutation that created the job, carried into worker logs. */
  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  @Field(() => Date, { nullable: true, description: 'When a worker started it.' })
  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it reached a final status.' })
  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt: Date | null;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

/**
 * What PROGRESS counts for a job: denoising steps for images, frames for a
 * clip (each frame is a full run of `steps` steps).
 */
export function workSteps(job: Pick<Job, 'kind' | 'steps' | 'videoFrames'>): number {
  return job.kind === JobKind.VIDEO ? job.videoFrames ?? 0 : job.steps;
}

/** Denoising steps a job still has to run once `done` units of work (steps, or frames of a clip) are finished: what ETAs count. */
export function remainingDenoisingSteps(job: Pick<Job, 'kind' | 'steps' | 'count' | 'videoFrames'>, done = 0): number {
  return job.kind === JobKind.VIDEO ? Math.max(0, (job.videoFrames ?? 0) - done) * job.steps : Math.max(0, job.steps - done) * job.count;
}
