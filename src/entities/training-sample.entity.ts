import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TrainingRun } from './training-run.entity';

/**
 * One image a training run rendered at a save point, for one sample prompt
 * (docs/training.md, "Samples"). The record the run page's comparison gallery
 * reads (`TrainingRun.samples`): kept with the run in PostgreSQL, so it
 * outlives the run's events in Redis, and moved by `atelier export` with its
 * file (a `storage_key` column, like every other stored file's row).
 */
@Entity('training_samples')
export class TrainingSampleImage {
  @PrimaryColumn('uuid', { name: 'run_id' })
  runId: string;

  @ManyToOne(() => TrainingRun, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id' })
  run?: TrainingRun;

  /** The save point (0: the base model, before training). */
  @PrimaryColumn('int')
  step: number;

  /** Where its prompt stands in the run's `samplePrompts`. */
  @PrimaryColumn('int')
  position: number;

  @Column('text')
  prompt: string;

  /** The PNG in the artifact store (`training/<run>/sample-<step>-<position>.png`). */
  @Column('text', { name: 'storage_key' })
  storageKey: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
