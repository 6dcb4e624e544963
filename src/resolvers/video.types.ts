import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { describeLimit, GENERATION_LIMITS as L, Sampler, VIDEO_DEFAULTS as V, VIDEO_LIMITS } from '../kernel/generation-parameters';
import { DEADLINE_DESCRIPTION, LoraWeightInput } from './job.types';

@InputType({ description: 'A video clip to make (docs/video.md). A VIDEO preset or the defaults supply what is left out; explicit fields win.' })
export class VideoInput {
  @Field(() => String, { nullable: true, description: `The prompt (${describeLimit(L.promptChars)} characters). Required unless fromImageId is given; with it, the prompt the clip moves toward.` })
  prompt?: string | null;

  @Field(() => ID, { nullable: true, description: 'Image-to-video: the clip starts from this image\'s prompt, seed and settings.' })
  fromImageId?: string | null;

  @Field(() => ID, { nullable: true, description: 'A VIDEO preset whose template, duration and fps apply (fitted to your tier).' })
  presetId?: string | null;

  @Field(() => Float, { nullable: true, description: `Clip length in seconds, ${describeLimit(VIDEO_LIMITS.durationSeconds)} (default ${V.durationSeconds}), capped by tier.` })
  durationSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: `Frames per second, ${describeLimit(VIDEO_LIMITS.fps)} (default ${V.fps}), capped by tier.` })
  fps?: number | null;

  @Field(() => String, { nullable: true, description: 'What to avoid.' })
  negativePrompt?: string | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.width)}; default 512 (or the image's) fitted to the tier's largest video side.` })
  width?: number | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.height)}; default 512 (or the image's) fitted to the tier's largest video side.` })
  height?: number | null;

  @Field(() => Int, { nullable: true, description: `Denoising steps per frame, ${describeLimit(L.steps)} (default ${V.steps}, or the image's).` })
  steps?: number | null;

  @Field(() => Float, { nullable: true, description: `${describeLimit(L.guidanceScale)}.` })
  guidanceScale?: number | null;

  @Field(() => Int, { nullable: true, description: `${describeLimit(L.seed)}: keyframe k uses seed + k; chosen and recorded when absent (the image's with fromImageId).` })
  seed?: number | null;

  @Field(() => Sampler, { nullable: true, description: 'Sampler (default: the one the model\'s scheduler config names).' })
  sampler?: Sampler | null;

  @Field(() => ID, { nullable: true, description: 'Model to use (default: the default model, or the image\'s).' })
  modelId?: string | null;

  @Field(() => [LoraWeightInput], { nullable: true, description: 'LoRAs with weights; count capped by tier.' })
  loras?: LoraWeightInput[] | null;

  @Field(() => ID, { nullable: true, description: 'Session the job appears in live (OWNER or COLLABORATOR).' })
  sessionId?: string | null;

  @Field(() => Int, { nullable: true, description: DEADLINE_DESCRIPTION })
  deadlineSeconds?: number | null;
}

@ObjectType({ description: 'A finished video clip: an H.264 MP4 (yuv420p, faststart) and its poster PNG.' })
export class JobVideo {
  @Field(() => String, { description: 'Signed URL of the MP4.' })
  url: string;

  @Field(() => String, { description: 'Signed URL of the poster (the first frame, PNG).' })
  posterUrl: string;

  @Field(() => String, { description: 'video/mp4.' })
  mimeType: string;

  @Field(() => Float, { description: 'Length in seconds (frames ÷ fps).' })
  durationSeconds: number;

  @Field(() => Int, { description: 'Frames per second.' })
  fps: number;

  @Field(() => Int, { description: 'Frames in the clip.' })
  frames: number;

  @Field(() => Int, { description: 'Width in pixels.' })
  width: number;

  @Field(() => Int, { description: 'Height in pixels.' })
  height: number;

  @Field(() => Int, { description: 'Size of the MP4 in bytes.' })
  bytes: number;
}
