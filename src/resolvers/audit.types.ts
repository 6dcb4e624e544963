import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { AuditEvent, AuditEventKind } from '../entities';
import { PageInfo } from './job.types';

@InputType({ description: 'Narrows audit events; every field is optional and they combine with AND.' })
export class AuditEventFilter {
  @Field(() => [AuditEventKind], { nullable: true, description: 'Only these kinds.' })
  kinds?: AuditEventKind[] | null;

  @Field(() => ID, { nullable: true, description: 'Only events this user did or that concern them.' })
  userId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only events from this client address.' })
  address?: string | null;

  @Field(() => Date, { nullable: true, description: 'At or after this time.' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Before this time.' })
  until?: Date | null;
}

@ObjectType({ description: 'An audit event in a page of audit events.' })
export class AuditEventEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => AuditEvent, { description: 'The event.' })
  node: AuditEvent;
}

@ObjectType({ description: 'A page of audit events, newest first.' })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge], { description: 'The events with cursors.' })
  edges: AuditEventEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}
