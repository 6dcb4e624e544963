import { Arg, Ctx, Field, InputType, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Tier, TierPolicy } from '../entities';
import type { AppContext } from './context';

@InputType({ description: 'New limits for a tier; omitted fields keep their value.' })
export class TierPolicyInput {
  @Field(() => Int, { nullable: true, description: 'Jobs running or queued at once.' })
  maxOpenJobs?: number | null;

  @Field(() => Int, { nullable: true, description: 'Images per UTC day; -1 for unlimited.' })
  imagesPerDay?: number | null;

  @Field(() => Int, { nullable: true, description: 'Largest width.' })
  maxWidth?: number | null;

  @Field(() => Int, { nullable: true, description: 'Largest height.' })
  maxHeight?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most steps.' })
  maxSteps?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most images per job.' })
  maxCount?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most LoRAs per job.' })
  maxLoras?: number | null;

  @Field(() => Int, { nullable: true, description: 'Generation requests per minute.' })
  generationsPerMinute?: number | null;

  @Field(() => Int, { nullable: true, description: 'All requests per minute.' })
  requestsPerMinute?: number | null;

  @Field(() => Int, { nullable: true, description: 'Members per session owned.' })
  maxSessionMembers?: number | null;

  @Field(() => Int, { nullable: true, description: 'Query complexity budget.' })
  maxQueryComplexity?: number | null;

  @Field(() => Int, { nullable: true, description: 'Megabytes of uploads not yet registered one user may hold.' })
  pendingUploadMb?: number | null;
}

@Resolver(() => TierPolicy)
export class TierResolver {
  @Query(() => [TierPolicy], { description: 'The limits of every tier.' })
  tierPolicies(@Ctx() ctx: AppContext): Promise<TierPolicy[]> {
    return ctx.services.quotas.listPolicies();
  }

  @Mutation(() => TierPolicy, { description: 'ADMIN: changes a tier\'s limits; they apply from the next request.' })
  updateTierPolicy(
    @Arg('tier', () => Tier, { description: 'The tier.' }) tier: Tier,
    @Arg('input', () => TierPolicyInput, { description: 'New limits.' }) input: TierPolicyInput,
    @Ctx() ctx: AppContext,
  ): Promise<TierPolicy> {
    return ctx.services.quotas.updatePolicy(tier, input);
  }
}
