import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, Int, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { SessionRole } from './enums';
import { CollabSession } from './session.entity';

@ObjectType({ description: 'An invitation into a session; the token is shown once and stored hashed.' })
@Entity('session_invites')
export class SessionInvite extends Identified {
  @Index()
  @Column('uuid', { name: 'session_id' })
  sessionId: string;

  @ManyToOne(() => CollabSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: CollabSession;

  @Column('uuid', { name: 'created_by_id' })
  createdById: string;

  @Field(() => SessionRole, { description: 'Role granted on joining.' })
  @Column({ type: 'enum', enum: SessionRole, enumName: 'session_role' })
  role: SessionRole;

  @Index({ unique: true })
  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @Field(() => Date, { description: 'The invite stops working after this.' })
  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Field(() => Int, { description: 'How many people may use it.' })
  @Column('int', { name: 'max_uses', default: 1 })
  maxUses: number;

  @Field(() => Int, { description: 'How many people have used it.' })
  @Column('int', { default: 0 })
  uses: number;

  @Field(() => Date, { nullable: true, description: 'Revoked invites are refused.' })
  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}
