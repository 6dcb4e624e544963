import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { SessionRole } from './enums';
import { CollabSession } from './session.entity';
import { User } from './user.entity';

@ObjectType({ description: 'A user\'s membership in a session.' })
@Entity('session_members')
@Index('idx_session_members_user', ['userId'])
export class SessionMember {
  @PrimaryColumn('uuid', { name: 'session_id' })
  sessionId: string;

  @PrimaryColumn('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => CollabSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: CollabSession;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Field(() => SessionRole, { description: 'OWNER, COLLABORATOR (may generate) or WATCHER (read-only).' })
  @Column({ type: 'enum', enum: SessionRole, enumName: 'session_role' })
  role: SessionRole;

  @Field(() => Date, { description: 'When the member joined.' })
  @CreateDateColumn({ type: 'timestamptz', name: 'joined_at' })
  joinedAt: Date;
}
