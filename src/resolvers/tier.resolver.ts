import { Arg, Ctx, Field, InputType, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Tier, TierPolicy } from '../entities';
import { boundsText } from '../services/tier-policy-bounds';
import type { AppContext } from './context';

@InputType({ description: 'New limits for a tier; omitted fields keep their value. A value outside its bounds is refused with BAD_USER_INPUT and the field, and nothing changes.' })
export class TierPolicyInput {
  @Field(() => Int, { nullable: true, description: `Jobs running or queued at once (${boundsText('maxOpenJobs')}).` })
  maxOpenJobs?: number | null;

  @Field(() => Int, { nullable: true, description: `Images per UTC day (${boundsText('imagesPerDay')}).` })
  imagesPerDay?: number | null;

  @Field(() => Int, { nullable: true, description: `Largest width (${boundsText('maxWidth')}).` })
  maxWidth?: number | null;

  @Field(() => Int, { nullable: true, description: `Largest height (${boundsText('maxHeight')}).` })
  maxHeight?: number | null;

  @Field(() => Int, { nullable: true, description: `Most steps (${boundsText('maxSteps')}).` })
  maxSteps?: number | null;

  @Field(() => Int, { nullable: true, description: `Most images per job (${boundsText('maxCount')}).` })
  maxCount?: number | null;

  @Field(() => Int, { nullable: true, description: `Most LoRAs per job (${boundsText('maxLoras')}).` })
  maxLoras?: number | null;

  @Field(() => Int, { nullable: true, description: `Generation requests per minute (${boundsText('generationsPerMinute')}).` })
  generationsPerMinute?: number | null;

  @Field(() => Int, { nullable: true, description: `All requests per minute (${boundsText('requestsPerMinute')}).` })
  requestsPerMinute?: number | null;

  @Field(() => Int, { nullable: true, description: `Members per session owned (${boundsText('maxSessionMembers')}).` })
  maxSessionMembers?: number | null;

  @Field(() => Int, { nullable: true, description: `Query complexity budget (${boundsText('maxQueryComplexity')}).` })
  maxQueryComplexity?: number | null;

  @Field(() => Int, { nullable: true, description: `Megabytes of uploads not yet registered one user may hold (${boundsText('pendingUploadMb')}).` })
  pendingUploadMb?: number | null;

  @Field(() => Int, { nullable: true, description: `Days images and finished jobs are kept (${boundsText('retentionDays')}).` })
  retentionDays?: number | null;
  @Field(() => Int, { nullable: true, description: `Seconds of video per UTC day (${boundsText('videoSecondsPerDay')}).` })
  videoSecondsPerDay?: number | null;

  @Field(() => Int, { nullable: true, description: `Longest video clip in seconds (${boundsText('maxVideoSeconds')}).` })
  maxVideoSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: `Most frames per second of a clip (${boundsText('maxVideoFps')}).` })
  maxVideoFps?: number | null;

  @Field(() => Int, { nullable: true, description: `Largest width or height of a clip (${boundsText('maxVideoSide')}).` })
  maxVideoSide?: number | null;
  @Field(() => Int, { nullable: true, description: `Batches per rolling hour (${boundsText('batchesPerHour')}).` })
  batchesPerHour?: number | null;
  @Field(() => Int, { nullable: true, description: `LoRA training runs per user per UTC day; 0 switches training off (${boundsText('trainingRunsPerDay')}).` })
  trainingRunsPerDay?: number | null;

  @Field(() => Int, { nullable: true, description: `Training runs one user may have queued or running at once (${boundsText('maxConcurrentTrainingRuns')}).` })
  maxConcurrentTrainingRuns?: number | null;

  @Field(() => Int, { nullable: true, description: `Most steps per training run (${boundsText('maxTrainingSteps')}).` })
  maxTrainingSteps?: number | null;

  @Field(() => Int, { nullable: true, description: `Most images per training dataset (${boundsText('maxDatasetImages')}).` })
  maxDatasetImages?: number | null;
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
