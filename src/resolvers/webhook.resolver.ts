import { Arg, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { ApiKey } from '../entities';
import { viewerOf, type AppContext } from './context';
import { ViewerDependent } from './viewer-dependent';

const SIGNATURE_SCHEME =
  'Each delivery is a JSON POST with headers Atelier-Webhook-Id, Atelier-Webhook-Timestamp (unix seconds) and ' +
  'Atelier-Webhook-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with this secret>.';

@ObjectType({ description: 'A webhook registered on an API key, with its signing secret (shown only this once).' })
export class ApiKeyWebhook {
  @Field(() => ApiKey, { description: 'The key the webhook belongs to; jobs submitted with it are reported.' })
  apiKey: ApiKey;

  @Field(() => String, { description: `Signing secret (\`whsec_…\`); store it now, it cannot be shown again. ${SIGNATURE_SCHEME}` })
  secret: string;
}

@ObjectType({ description: 'The outcome of one webhook delivery attempt.' })
export class WebhookDelivery {
  @Field(() => ID, { description: 'Delivery id, sent as Atelier-Webhook-Id and as `id` in the body.' })
  id: string;

  @Field(() => String, { description: 'Event type: `ping`, or `job.queued`, `job.started`, `job.completed`, `job.failed`, `job.cancelled`.' })
  type: string;

  @Field(() => Boolean, { description: 'True when the receiver answered 2xx.' })
  delivered: boolean;

  @Field(() => Int, { nullable: true, description: 'HTTP status the receiver answered; null when it did not answer (timeout after 10 s, connection refused).' })
  statusCode: number | null;

  @Field(() => Int, { description: 'How long the attempt took, in milliseconds.' })
  durationMs: number;

  @Field(() => String, { nullable: true, description: 'Why the attempt failed; null when delivered.' })
  error: string | null;
}

@Resolver(() => ApiKey)
export class WebhookResolver {
  @ViewerDependent()
  @FieldResolver(() => String, {
    nullable: true,
    description: 'URL that job state changes of jobs submitted with this key are POSTed to; null when none (shown to the owner only).',
  })
  webhookUrl(@Root() key: ApiKey, @Ctx() ctx: AppContext): string | null {
    return ctx.viewer?.user.id === key.userId ? key.webhookUrl : null;
  }

  @Mutation(() => ApiKeyWebhook, {
    description: 'Sets the webhook of one of your API keys, replacing any earlier one, and returns a new signing secret. ' +
      'Jobs submitted with the key report QUEUED, STARTED, COMPLETED, FAILED and CANCELLED; failed deliveries are retried ' +
      `with exponential backoff (8 tries); an answer of 410 Gone removes the webhook. ${SIGNATURE_SCHEME}`,
  })
  setApiKeyWebhook(
    @Arg('apiKeyId', () => ID, { description: 'One of your API keys (not revoked).' }) apiKeyId: string,
    @Arg('url', () => String, { description: 'Absolute http(s) URL, at most 2000 characters, without credentials.' }) url: string,
    @Ctx() ctx: AppContext,
  ): Promise<ApiKeyWebhook> {
    return ctx.services.webhooks.setWebhook(viewerOf(ctx).user, apiKeyId, url);
  }

  @Mutation(() => ApiKey, { description: 'Removes the webhook of one of your API keys; deliveries not yet sent are dropped.' })
  removeApiKeyWebhook(
    @Arg('apiKeyId', () => ID, { description: 'One of your API keys.' }) apiKeyId: string,
    @Ctx() ctx: AppContext,
  ): Promise<ApiKey> {
    return ctx.services.webhooks.removeWebhook(viewerOf(ctx).user, apiKeyId);
  }

  @Mutation(() => WebhookDelivery, { description: 'Sends a signed `ping` to the key\'s webhook now (once, no retries) and reports how it answered.' })
  testApiKeyWebhook(
    @Arg('apiKeyId', () => ID, { description: 'One of your API keys, with a webhook set.' }) apiKeyId: string,
    @Ctx() ctx: AppContext,
  ): Promise<WebhookDelivery> {
    return ctx.services.webhooks.testWebhook(viewerOf(ctx).user, apiKeyId);
  }
}
