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
}
