import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Job } from '../entities';
import { describeLimit, GENERATION_DEFAULTS as D, GENERATION_LIMITS as L, LCM_MAX_STEPS, Sampler, type GenerationSettingsInput } from '../kernel/generation-parameters';

/** GenerationInput's and VideoInput's `deadlineSeconds` (docs/generation-parameters.md). */
export const DEADLINE_DESCRIPTION = 'Fail with DEADLINE_EXCEEDED instead of starting later than this many seconds from now (1..604800, a week). A job still waiting at its deadline fails within ATELIER_RECONCILE_SECONDS of it.';

@InputType({ description: 'A LoRA to apply, with its weight.' })
export class LoraWeightInput {
  @Field(() => ID, { description: 'The LoRA.' })
  loraId: string;

  @Field(() => Float, { description: `Scale of the LoRA, ${describeLimit(L.loraWeight)}.` })
  weight: number;
}

/** Every generation field but the prompt: GenerationInput adds one prompt, BatchInput many. */
// Registered so subclasses inherit its fields; not reachable from the schema itself.
@InputType({ description: 'Generation parameters shared by a job or a batch.' })
export abstract class GenerationSettingsFields implements GenerationSettingsInput {
  @Field(() => String, { nullable: true, description: 'What to avoid.' })
  negativePrompt?: string | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.width)} (default ${D.width}), capped by tier.` })
  width?: number | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.height)} (default ${D.height}), capped by tier.` })
  height?: number | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.steps)} (default ${D.steps}), capped by tier.` })
  steps?: number | null;

  @Field(() => Float, { nullable: true, description: `${describeLimit(L.guidanceScale)} (default ${D.guidanceScale}).` })
  guidanceScale?: number | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.seed)}, with seed + count - 1 at most ${L.seed.max}; chosen and recorded when absent.` })
  seed?: number | null;

  @Field(() => Int, { nullable: true, description: `Images in this job (default ${D.count}), capped by tier; image i uses seed + i.` })
  count?: number | null;

  @Field(() => Sampler, { nullable: true, description: `Sampler (default: the one the model's scheduler config names); LCM runs at most ${LCM_MAX_STEPS} steps.` })
  sampler?: Sampler | null;

  @Field(() => ID, { nullable: true, description: 'Model to use (default: the default model).' })
  modelId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Preset whose template and parameters apply.' })
  presetId?: string | null;

  @Field(() => [LoraWeightInput], { nullable: true, description: 'LoRAs with weights; count capped by tier.' })
  loras?: LoraWeightInput[] | null;

  @Field(() => ID, { nullable: true, description: 'Session the job appears in live (OWNER or COLLABORATOR).' })
  sessionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Album the finished images go into.' })
  albumId?: string | null;

  @Field(() => Int, { nullable: true, description: DEADLINE_DESCRIPTION })
  deadlineSeconds?: number | null;
}

@InputType({ description: 'What to generate. Only the prompt is required; a preset supplies defaults and explicit fields win.' })
export class GenerationInput extends GenerationSettingsFields {
  @Field(() => String, { description: `Trimmed, ${describeLimit(L.promptChars)} characters.` })
  prompt: string;
}

@ObjectType({ description: 'Relay page info.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'More items follow.' })
  hasNextPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass as `after`.' })
  endCursor: string | null;
}

@ObjectType({ description: 'A job in a page of jobs.' })
export class JobEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => Job, { description: 'The job.' })
  node: Job;
}

@ObjectType({ description: 'A page of jobs, newest first.' })
export class JobConnection {
  @Field(() => [JobEdge], { description: 'The jobs with cursors.' })
  edges: JobEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}
