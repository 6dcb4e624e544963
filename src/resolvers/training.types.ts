import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Dataset, JobError, TrainingRun } from '../entities';
import { TRAINING_EVENT_TYPES } from '../kernel/events';
import { TRAINING_LIMITS as L } from '../kernel/training-parameters';
import { PageInfo } from './job.types';

/** The GraphQL enum of training events, built from the kernel's one list. */
export const TrainingEventType = Object.fromEntries(TRAINING_EVENT_TYPES.map((t) => [t, t])) as { [K in (typeof TRAINING_EVENT_TYPES)[number]]: K };
registerEnumType(TrainingEventType, { name: 'TrainingEventType', description: 'What happened in a training run.' });

@InputType({ description: 'A new dataset.' })
export class DatasetInput {
  @Field(() => String, { description: 'Name, 1 to 80 characters.' })
  name: string;

  @Field(() => ID, { nullable: true, description: 'Share with this session: its members may see it and train on it (only you change it).' })
  sessionId?: string | null;
}

@InputType({ description: 'An uploaded image to add to a dataset.' })
export class DatasetImageInput {
  @Field(() => ID, { description: 'uploadId from POST /uploads (PNG, JPEG or WebP, checked by content).' })
  uploadId: string;

  @Field(() => String, { nullable: true, description: 'What the image shows (up to 1000 characters).' })
  caption?: string | null;
}

@ObjectType({ description: 'A dataset in a page of datasets.' })
export class DatasetEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => Dataset, { description: 'The dataset.' })
  node: Dataset;
}

@ObjectType({ description: 'A page of datasets, newest first.' })
export class DatasetConnection {
  @Field(() => [DatasetEdge], { description: 'The datasets with cursors.' })
  edges: DatasetEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}

@InputType({ description: 'A LoRA training run. Omitted hyperparameters take the defaults of docs/training.md; each is checked against docs/limits.md.' })
export class TrainingInput {
  @Field(() => ID, { description: 'The dataset to train on (yours or shared with your session).' })
  datasetId: string;

  @Field(() => ID, { nullable: true, description: 'Base model (default: the default model).' })
  baseModelId?: string | null;

  @Field(() => String, { description: 'The LoRA\'s name: the run registers the next version of it.' })
  loraName: string;

  @Field(() => Int, { nullable: true, description: `LoRA rank (${L.rank.min} to ${L.rank.max}).` })
  rank?: number | null;

  @Field(() => Float, { nullable: true, description: `LoRA alpha; updates scale by alpha / rank (${L.alpha.min} to ${L.alpha.max}).` })
  alpha?: number | null;

  @Field(() => Float, { nullable: true, description: `Learning rate (${L.learningRate.min} to ${L.learningRate.max}). Omitted: the base model's default (atelier-tiny: 0.03), else 0.01.` })
  learningRate?: number | null;

  @Field(() => Int, { nullable: true, description: `Optimizer steps (${L.steps.min} to the tier's maxTrainingSteps).` })
  steps?: number | null;

  @Field(() => Int, { nullable: true, description: `Images per step (${L.batchSize.min} to ${L.batchSize.max}).` })
  batchSize?: number | null;

  @Field(() => Int, { nullable: true, description: `Square training resolution (${L.resolution.min} to ${L.resolution.max}, multiple of ${L.resolution.multipleOf}).` })
  resolution?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seed (random when omitted): the same seed, data and settings train the same LoRA.' })
  seed?: number | null;

  @Field(() => Int, { nullable: true, description: 'Checkpoint and render samples every N steps (at most steps).' })
  saveEvery?: number | null;

  @Field(() => [String], { nullable: true, description: `Prompts rendered at each save point (up to ${L.samplePrompts.max}).` })
  samplePrompts?: string[] | null;

  @Field(() => Int, {
    nullable: true,
    description: `Lowest noise timestep trained on (${L.minTimestep.min} to ${L.minTimestep.max}; kohya's --min_timestep). Omitted: the base model's default (atelier-tiny: 900, so colour is learnt), else all timesteps.`,
  })
  minTimestep?: number | null;

  @Field(() => Float, { nullable: true, description: `Min-SNR-gamma loss weighting (${L.minSnrGamma.min} to ${L.minSnrGamma.max}; kohya's --min_snr_gamma). Omitted: unweighted.` })
  minSnrGamma?: number | null;
}

@ObjectType({ description: 'The hyperparameters a run trains (or trained) with.' })
export class TrainingConfigView {
  @Field(() => Int, { description: 'LoRA rank.' }) rank: number;
  @Field(() => Float, { description: 'LoRA alpha.' }) alpha: number;
  @Field(() => Float, { description: 'Learning rate.' }) learningRate: number;
  @Field(() => Int, { description: 'Optimizer steps.' }) steps: number;
  @Field(() => Int, { description: 'Images per step.' }) batchSize: number;
  @Field(() => Int, { description: 'Training resolution.' }) resolution: number;
  @Field(() => Int, { nullable: true, description: 'Seed (null in a LoRA\'s `metrics` to others than its owner and admins: docs/security.md, "Private LoRAs").' }) seed: number | null;
  @Field(() => Int, { description: 'Checkpoint every N steps.' }) saveEvery: number;
  @Field(() => [String], { nullable: true, description: 'Sample prompts (null in a LoRA\'s `metrics` to others than its owner and admins: docs/security.md, "Private LoRAs").' }) samplePrompts: string[] | null;
  @Field(() => Int, { nullable: true, description: 'Lowest noise timestep trained on (null: all).' }) minTimestep?: number | null;
  @Field(() => Float, { nullable: true, description: 'Min-SNR-gamma loss weighting (null: unweighted).' }) minSnrGamma?: number | null;
}

@ObjectType({ description: 'The loss at one step.' })
export class LossPoint {
  @Field(() => Int, { description: 'Step.' }) step: number;
  @Field(() => Float, { description: 'Loss.' }) loss: number;
}

@ObjectType({ description: 'How a trained LoRA version was made.' })
export class LoraVersionMetrics {
  @Field(() => TrainingConfigView, { description: 'The training configuration.' }) config: TrainingConfigView;
  @Field(() => String, { nullable: true, description: 'SHA-256 over the images and captions trained on (null in a LoRA\'s `metrics` to others than its owner and admins: docs/security.md, "Private LoRAs").' }) datasetHash: string | null;
  @Field(() => Float, { description: 'The base model\'s evaluation loss (the first point of evaluationCurve); a trainer without evaluations: its first step\'s loss.' })
  initialLoss: number;

  @Field(() => Float, { description: 'The trained LoRA\'s evaluation loss (the last point of evaluationCurve); a trainer without evaluations: its last step\'s loss.' })
  finalLoss: number;

  @Field(() => [LossPoint], { description: 'The training loss of every step: the minibatch at its sampled timesteps, so noisy and, at the high timesteps atelier-tiny trains on, nearly flat.' })
  lossCurve: LossPoint[];

  @Field(() => [LossPoint], {
    description: 'The evaluation loss (the same images, timesteps and noise each time, so comparable between steps) at step 0, every 10 steps (at most about 50 points), each save point and the last step: the curve that shows the fit. Empty for trainers that report none.',
  })
  evaluationCurve: LossPoint[];
}

@ObjectType({ description: 'A training run in a page of runs.' })
export class TrainingRunEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => TrainingRun, { description: 'The run.' })
  node: TrainingRun;
}

@ObjectType({ description: 'A page of training runs, newest first.' })
export class TrainingRunConnection {
  @Field(() => [TrainingRunEdge], { description: 'The runs with cursors.' })
  edges: TrainingRunEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}

@ObjectType({ description: 'An image rendered with a run\'s weights at a save point.' })
export class TrainingSample {
  @Field(() => String, { description: 'The sample prompt.' }) prompt: string;
  @Field(() => String, { description: 'Signed URL of the PNG.' }) url: string;
}

@ObjectType({ description: 'The sample images of one save point, in the order of the run\'s sample prompts.' })
export class TrainingSamplePoint {
  @Field(() => Int, { description: 'The save point\'s step (0: the base model, before training).' }) step: number;
  @Field(() => [TrainingSample], { description: 'One image per sample prompt.' }) samples: TrainingSample[];
}

@ObjectType({ description: 'One event of a training run (trainingUpdated).' })
export class TrainingEventView {
  @Field(() => String, { description: 'Event id (stream order).' }) eventId: string;
  @Field(() => TrainingEventType, { description: 'What happened.' }) type: string;
  @Field(() => Date, { description: 'When.' }) at: Date;
  @Field(() => ID, { description: 'The run.' }) runId: string;
  @Field(() => Int, { description: 'Steps done.' }) step: number;
  @Field(() => Int, { description: 'Steps in all.' }) totalSteps: number;
  @Field(() => Float, { nullable: true, description: 'PROGRESS: this step\'s training loss (the minibatch at its sampled timesteps: noisy).' }) loss: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'EVALUATION: the loss on the run\'s fixed evaluation draw with the weights of this step, comparable between steps (step 0: the base model; the last: the final loss).',
  })
  evaluationLoss: number | null;
  @Field(() => Float, { nullable: true, description: 'PROGRESS: the learning rate.' }) learningRate: number | null;
  @Field(() => Int, { nullable: true, description: 'PROGRESS: seconds left at the current pace.' }) etaSeconds: number | null;
  @Field(() => [TrainingSample], { description: 'SAMPLE: the images of this save point.' }) samples: TrainingSample[];
  @Field(() => Int, { nullable: true, description: 'STARTED: the checkpoint step a resumed run continues from.' }) resumedFrom: number | null;
  @Field(() => Int, { nullable: true, description: 'CANCELLED: the step of the checkpoint kept.' }) checkpointStep: number | null;
  @Field(() => ID, { nullable: true, description: 'COMPLETED: the LoRA version registered.' }) loraId: string | null;
  @Field(() => Float, { nullable: true, description: 'COMPLETED: the final loss.' }) finalLoss: number | null;
  @Field(() => JobError, { nullable: true, description: 'FAILED: why.' }) error: JobError | null;
}
