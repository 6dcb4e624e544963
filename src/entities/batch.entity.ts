import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, Int, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { BatchKind, BatchStatus } from './enums';
import { User } from './user.entity';
import { CollabSession } from './session.entity';

/** The axes of a matrix batch: job (row r, column c) sits at batch index r × columns + c. */
export interface BatchAxes {
  rowLabels: string[];
  columnLabels: string[];
}

@ObjectType({ description: 'Many jobs submitted together with shared parameters, tracked as one (docs/batches.md).' })
@Entity('batches')
@Index('idx_batches_owner_created', ['ownerId', 'createdAt'])
export class Batch extends Identified {
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

  @Field(() => String, { description: 'Name given at creation (default: the first prompt).' })
  @Column('text')
  name: string;

  @Field(() => BatchKind, { description: 'A list of prompts or a matrix.' })
  @Column({ type: 'enum', enum: BatchKind, enumName: 'batch_kind' })
  kind: BatchKind;

  @Field(() => Int, { description: 'Jobs in the batch.' })
  @Column('int')
  total: number;

  // Counts only grow; the lifecycle recounts them from the jobs table after every final transition.
  @Field(() => Int, { description: 'Jobs COMPLETED.' })
  @Column('int', { default: 0 })
  completed: number;

  @Field(() => Int, { description: 'Jobs FAILED.' })
  @Column('int', { default: 0 })
  failed: number;

  @Field(() => Int, { description: 'Jobs CANCELLED.' })
  @Column('int', { default: 0 })
  cancelled: number;

  @Field(() => BatchStatus, { description: 'Where the batch stands.' })
  @Column({ type: 'enum', enum: BatchStatus, enumName: 'batch_status', default: BatchStatus.RUNNING })
  status: BatchStatus;

  /** Row and column labels of a matrix batch; null for a list of prompts. */
  @Column('jsonb', { nullable: true })
  axes: BatchAxes | null;

  /** Storage key of the grid PNG (matrix batches, once finished). */
  @Column('text', { name: 'grid_key', nullable: true })
  gridKey: string | null;

  @Column('int', { name: 'grid_width', nullable: true })
  gridWidth: number | null;

  @Column('int', { name: 'grid_height', nullable: true })
  gridHeight: number | null;

  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey: string | null;

  /** Set by cancelBatch: the batch ends CANCELLED even if every job had already started. */
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true })
  cancelRequestedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the last job reached a final status.' })
  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt: Date | null;
}
