import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { JobKind, JobLora, Preset, PresetCategory } from '../entities';
import { describeLimit, GENERATION_LIMITS as L, Sampler } from '../kernel/generation-parameters';
import { LoraWeightInput } from './job.types';

@InputType({ description: 'A custom preset: a template with `{prompt}` and optional default parameters.' })
export class PresetInput {
  @Field(() => String, { description: 'Name, 1..80 characters.' })
  name: string;

  @Field(() => PresetCategory, { nullable: true, description: 'IMAGE (default) or VIDEO.' })
  category?: PresetCategory | null;

  @Field(() => String, { description: 'Prompt template; must contain `{prompt}`.' })
  template: string;

  @Field(() => String, { nullable: true, description: 'Default negative prompt.' })
  negativePrompt?: string | null;

  @Field(() => Int, { nullable: true, description: `Default width, ${describeLimit(L.width)}.` })
  width?: number | null;

  @Field(() => Int, { nullable: true, description: `Default height, ${describeLimit(L.height)}.` })
  height?: number | null;

  @Field(() => Int, { nullable: true, description: `Default steps, ${describeLimit(L.steps)}.` })
  steps?: number | null;

  @Field(() => Float, { nullable: true, description: `Default guidance scale, ${describeLimit(L.guidanceScale)}.` })
  guidanceScale?: number | null;

  @Field(() => Sampler, { nullable: true, description: 'Default sampler (absent: the model\'s own).' })
  sampler?: Sampler | null;

  @Field(() => ID, { nullable: true, description: 'Model the preset uses.' })
  modelId?: string | null;

  @Field(() => [LoraWeightInput], { nullable: true, description: 'LoRAs with weights the preset applies (at most 5).' })
  loras?: LoraWeightInput[] | null;

  @Field(() => Float, { nullable: true, description: 'Video length in seconds (VIDEO presets).' })
  durationSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Frames per second (VIDEO presets).' })
  fps?: number | null;

  @Field(() => ID, { nullable: true, description: 'Share with this session: its members can see and use the preset.' })
  sessionId?: string | null;
}

@ObjectType({ description: 'A preset applied to a prompt: the parameters a job with this presetId would run with.' })
export class AppliedPreset {
  @Field(() => Preset, { description: 'The preset applied.' })
  preset: Preset;

  @Field(() => JobKind, { description: 'VIDEO for a VIDEO preset (the job makes one clip), else IMAGE.' })
  kind: JobKind;

  @Field(() => Float, { nullable: true, description: 'VIDEO: the clip\'s length in seconds, fitted to your tier.' })
  durationSeconds: number | null;

  @Field(() => Int, { nullable: true, description: 'VIDEO: frames per second, fitted to your tier.' })
  fps: number | null;

  @Field(() => Int, { nullable: true, description: 'VIDEO: frames the clip will have (seconds × fps).' })
  frames: number | null;

  @Field(() => String, { description: 'The templated prompt.' })
  prompt: string;

  @Field(() => String, { nullable: true, description: 'The negative prompt.' })
  negativePrompt: string | null;

  @Field(() => Int, { description: 'Width in pixels.' })
  width: number;

  @Field(() => Int, { description: 'Height in pixels.' })
  height: number;

  @Field(() => Int, { description: 'Denoising steps.' })
  steps: number;

  @Field(() => Float, { description: 'Guidance scale.' })
  guidanceScale: number;

  @Field(() => Sampler, { nullable: true, description: 'Sampler, or null for the model\'s own.' })
  sampler: Sampler | null;

  @Field(() => ID, { nullable: true, description: 'Model id, or null for the default model.' })
  modelId: string | null;

  @Field(() => [JobLora], { description: 'LoRAs with weights.' })
  loras: JobLora[];
}
