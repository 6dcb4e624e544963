import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Identified } from './identified';
import { User } from './user.entity';

/** Images produced for a user, per job, for daily quotas and statistics. */
@Entity('usage_records')
@Index('idx_usage_user_day', ['userId', 'day'])
@Index('uq_usage_job', ['jobId'], { unique: true })
export class UsageRecord extends Identified {
  /** Null once the user deleted their account: the usage stays, anonymised, for admins' statistics. */
  @Column('uuid', { name: 'user_id', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column('uuid', { name: 'job_id' })
  jobId: string;

  /** UTC day the usage counts against (YYYY-MM-DD). */
  @Column('date')
  day: string;

  @Column('int')
  images: number;

  /** Seconds of video the job made (VIDEO jobs; docs/video.md, "Quotas"). */
  @Column('int', { name: 'video_seconds', default: 0 })
  videoSeconds: number;
}
