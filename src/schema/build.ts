import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import { AlbumResolver } from '../resolvers/album.resolver';
import { BatchResolver } from '../resolvers/batch.resolver';
import { AuthProviderResolver } from '../resolvers/auth-provider.resolver';
import { AuditResolver } from '../resolvers/audit.resolver';
import { DataLifecycleResolver } from '../resolvers/data-lifecycle.resolver';
import { FavoriteResolver } from '../resolvers/favorite.resolver';
import { ImageResolver } from '../resolvers/image.resolver';
import { JobResolver } from '../resolvers/job.resolver';
import { VideoResolver } from '../resolvers/video.resolver';
import { LiveResolver } from '../resolvers/live.resolver';
import { BatchEventFieldsResolver, JobEventFieldsResolver, SessionEventFieldsResolver } from '../resolvers/event-fields.resolver';
import { JobLoraResolver, LoraResolver } from '../resolvers/lora.resolver';
import { ModelResolver } from '../resolvers/model.resolver';
import { PresetResolver } from '../resolvers/preset.resolver';
import { MonitoringResolver } from '../resolvers/monitoring.resolver';
import { SessionMemberResolver, SessionResolver } from '../resolvers/session.resolver';
import { SuggestionResolver } from '../resolvers/suggestion.resolver';
import { UserResolver } from '../resolvers/user.resolver';
import { TierResolver } from '../resolvers/tier.resolver';
import { WebhookResolver } from '../resolvers/webhook.resolver';
import { DatasetImageResolver, DatasetResolver } from '../resolvers/dataset.resolver';
import { TrainingResolver } from '../resolvers/training.resolver';
import { errorCodeEnum } from './enums';
import { adminActionAudit } from './admin-audit';
import { ADMIN_MUTATIONS, permissions } from './permissions';

export const RESOLVERS = [
  UserResolver, JobResolver, BatchResolver, ImageResolver, ModelResolver, SessionResolver, SessionMemberResolver, LiveResolver, JobEventFieldsResolver, SessionEventFieldsResolver, BatchEventFieldsResolver, TierResolver,
  MonitoringResolver, WebhookResolver, AuthProviderResolver, AuditResolver, DataLifecycleResolver,
  AlbumResolver, FavoriteResolver, PresetResolver, SuggestionResolver, LoraResolver, JobLoraResolver, VideoResolver,
  DatasetResolver, DatasetImageResolver, TrainingResolver,
] as const;

/** The type-graphql schema without permissions (what schema.graphql prints). */
export async function buildBaseSchema(): Promise<GraphQLSchema> {
  // Subscriptions bring their own streams (EventLog); type-graphql still insists on a pubSub.
  const built = await buildSchema({ resolvers: [...RESOLVERS], validate: false, pubSub: createPubSub() });
  const config = built.toConfig();
  const schema = new GraphQLSchema({ ...config, types: [...config.types, errorCodeEnum] });
  // type-graphql cannot describe the root types; the contract wants every type described.
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  if (query) query.description = 'Reads. Most fields need a signed-in caller (Authorization: Bearer <JWT or API key>).';
  if (mutation) mutation.description = 'Changes. Errors carry extensions.code (and extensions.field for bad input).';
  if (subscription) subscription.description = 'Live streams over graphql-ws on /graphql (connectionParams.authorization).';
  return schema;
}

/** The schema the server runs: base schema wrapped in the graphql-shield permissions, then the admin-action audit. */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  const base = await buildBaseSchema();
  return applyMiddleware(base, permissions(base), adminActionAudit(ADMIN_MUTATIONS));
}

/** The SDL committed as src/schema/schema.graphql. */
export function printAppSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
