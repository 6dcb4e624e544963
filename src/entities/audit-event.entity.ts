import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AuditEventKind } from './enums';

/**
 * One security-relevant event (sign-ins, keys, roles, memberships, admin
 * actions). Append-only: rows are inserted, never updated (a trigger refuses
 * UPDATE, but for raising the `count` in the details of a coalesced event:
 * docs/security.md, "Audit log"), and deleted only by retention
 * (ATELIER_AUDIT_RETENTION_DAYS).
 * No foreign keys: the record outlives the accounts it names.
 */
@ObjectType({ description: 'A security audit event (ADMIN only): who did what, from where, and why it failed if it did.' })
@Entity('audit_events')
@Index('idx_audit_events_at', ['at'])
@Index('idx_audit_events_actor', ['actorId'])
@Index('idx_audit_events_target', ['targetUserId'])
export class AuditEvent {
  /** Increasing with insertion: newest first is `id DESC`, and it is the page cursor. */
  @Field(() => ID, { description: 'Increasing event number.' })
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Field(() => Date, { description: 'When it happened.' })
  @Column('timestamptz')
  at: Date;

  /** Text rather than a database enum: new kinds need no migration. */
  @Field(() => AuditEventKind, { description: 'What happened.' })
  @Column('text')
  kind: AuditEventKind;

  @Field(() => ID, { nullable: true, description: 'Who acted; null when anonymous (a failed sign-in for an unknown email) or the service itself.' })
  @Column('uuid', { name: 'actor_id', nullable: true })
  actorId: string | null;

  @Field(() => ID, { nullable: true, description: 'Whose account it concerns, when not only the actor\'s (role and tier changes, removed members).' })
  @Column('uuid', { name: 'target_user_id', nullable: true })
  targetUserId: string | null;

  @Field(() => String, { nullable: true, description: 'Client address as the API saw it (per ATELIER_TRUST_PROXY).' })
  @Column('text', { nullable: true })
  address: string | null;

  @Field(() => String, { nullable: true, description: 'The client\'s User-Agent header.' })
  @Column('text', { name: 'user_agent', nullable: true })
  userAgent: string | null;

  @Field(() => String, { nullable: true, description: 'Why it failed, for failures: WRONG_PASSWORD, UNKNOWN_EMAIL, RATE_LIMITED, INVALID_TOKEN, TOKEN_EXPIRED, INVALID_API_KEY.' })
  @Column('text', { nullable: true })
  reason: string | null;

  @Field(() => GraphQLJSONObject, { description: 'Facts of this kind of event: before/after values, key, session or invite ids, the email tried, the admin action and its arguments.' })
  @Column('jsonb')
  details: Record<string, unknown>;
}
