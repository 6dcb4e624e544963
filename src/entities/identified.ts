import { randomUUID } from 'node:crypto';
import { BeforeInsert, CreateDateColumn, PrimaryColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';

/**
 * UUID primary key assigned in the application, so a job's id is known before
 * its row exists (quota admission and the queue entry both use it).
 */
// Registered so subclasses inherit its fields; not reachable from the schema itself.
@ObjectType({ description: 'Base of every stored record.' })
export abstract class Identified {
  @Field(() => ID, { description: 'Stable UUID.' })
  @PrimaryColumn('uuid')
  id: string;

  @Field(() => Date, { description: 'When it was created.' })
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @BeforeInsert()
  assignId(): void {
    if (!this.id) this.id = randomUUID();
  }
}
