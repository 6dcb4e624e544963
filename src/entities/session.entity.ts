import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { SessionStatus } from './enums';
import { User } from './user.entity';

@ObjectType('Session', { description: 'A shared room where members watch each other\'s jobs live.' })
@Entity('sessions')
export class CollabSession extends Identified {
  @Index()
  @Column('uuid', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: User;

  @Field(() => String, { description: 'Name shown to members.' })
  @Column('text')
  name: string;

  @Field(() => SessionStatus, { description: 'ARCHIVED sessions are read-only.' })
  @Column({ type: 'enum', enum: SessionStatus, enumName: 'session_status', default: SessionStatus.ACTIVE })
  status: SessionStatus;

  @Field(() => Date, { description: 'Last job or membership change; idle sessions are archived.' })
  @Column('timestamptz', { name: 'last_activity_at', default: () => 'now()' })
  lastActivityAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the session was archived.' })
  @Column('timestamptz', { name: 'archived_at', nullable: true })
  archivedAt: Date | null;
}
