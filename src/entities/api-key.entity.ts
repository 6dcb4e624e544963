import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { User } from './user.entity';

@ObjectType({ description: 'An API key for integrators; the secret is shown once and stored hashed.' })
@Entity('api_keys')
export class ApiKey extends Identified {
  @Index()
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Field(() => String, { description: 'Label chosen by the owner.' })
  @Column('text')
  name: string;

  @Field(() => String, { description: 'First characters of the secret, to recognise the key.' })
  @Column('text')
  prefix: string;

  /** SHA-256 of the whole secret (high-entropy secrets need no slow hash). */
  @Index({ unique: true })
  @Column('text', { name: 'secret_hash' })
  secretHash: string;

  @Field(() => Date, { nullable: true, description: 'Last time the key authenticated a request.' })
  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the key was revoked; revoked keys are refused.' })
  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  /** Where job state changes are POSTed (see src/services/webhooks.ts); exposed to the owner by a field resolver. */
  @Column('text', { name: 'webhook_url', nullable: true })
  webhookUrl: string | null;

  /**
   * HMAC-SHA256 key for signing deliveries (`whsec_…`). Kept in plain text on
   * purpose: unlike the API key secret it must be readable to sign each delivery.
   */
  @Column('text', { name: 'webhook_secret', nullable: true })
  webhookSecret: string | null;
}
