import { Column, Entity, Index, UpdateDateColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { Role, Tier } from './enums';

@ObjectType({ description: 'A person or integration account.' })
@Entity('users')
export class User extends Identified {
  /** Normalised (trimmed, lower-case). GraphQL's `User.email` is UserResolver.email: masked for others (docs/security.md). */
  @Index({ unique: true })
  @Column('text')
  email: string;

  @Field(() => String, { nullable: true, description: 'Name shown to teammates.' })
  @Column('text', { name: 'display_name', nullable: true })
  displayName: string | null;

  /** argon2id hash; never exposed. Null for accounts created by single sign-on (no password to sign in with). */
  @Column('text', { name: 'password_hash', nullable: true })
  passwordHash: string | null;

  /**
   * Named by every sign-in token issued (its `gen` claim); a password change moves it on, and every token
   * issued before stops working (docs/security.md, "Tokens"). Never exposed.
   */
  @Column('int', { name: 'token_generation', default: 0 })
  tokenGeneration: number;

  @Field(() => Role, { description: 'What the user may do across the service.' })
  @Column({ type: 'enum', enum: Role, enumName: 'user_role', default: Role.EDITOR })
  role: Role;

  @Field(() => Tier, { description: 'Service tier that sets the limits.' })
  @Column({ type: 'enum', enum: Tier, enumName: 'tier', default: Tier.FREE })
  tier: Tier;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
