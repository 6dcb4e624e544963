import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Batch, BatchStatus } from '../entities';
import { BATCH_LIMITS, BatchSweepParameter } from '../services/batch-plan';
import { GenerationSettingsFields, PageInfo } from './job.types';

registerEnumType(BatchSweepParameter, { name: 'BatchSweepParameter', description: 'The parameter a matrix sweeps across its columns.' });

@InputType({ description: 'A prompt matrix: one job per prompt (row) and column; the columns are seeds, or values of one parameter.' })
export class BatchMatrixInput {
  @Field(() => [String], { description: 'The rows.' })
  prompts: string[];

  @Field(() => [Int], { nullable: true, description: 'Columns: one seed each (prompts × seeds). Give seeds, or parameter and values.' })
  seeds?: number[] | null;

  @Field(() => BatchSweepParameter, { nullable: true, description: 'The parameter swept across the columns (an X/Y plot).' })
  parameter?: BatchSweepParameter | null;

  @Field(() => [Float], { nullable: true, description: 'Columns: the values of `parameter`, each within its limits.' })
  values?: number[] | null;
}

@InputType({ description: `Many jobs with shared parameters: \`prompts\` (one job each) or a \`matrix\`; at most ${BATCH_LIMITS.maxJobs} jobs.` })
export class BatchInput extends GenerationSettingsFields {
  @Field(() => String, { nullable: true, description: `Name shown in lists, 1 to ${BATCH_LIMITS.nameChars} characters (default: the first prompt).` })
  name?: string | null;

  @Field(() => [String], { nullable: true, description: 'One job per prompt (give this or matrix).' })
  prompts?: string[] | null;

  @Field(() => BatchMatrixInput, { nullable: true, description: 'A prompt matrix (give this or prompts); finishes with a grid image.' })
  matrix?: BatchMatrixInput | null;
}

@ObjectType({ description: 'The labelled grid PNG of a matrix batch.' })
export class BatchGridImage {
  @Field(() => String, { description: 'Signed URL of the PNG (expires; ask again for a fresh one).' })
  url: string;

  @Field(() => Int, { description: 'Width in pixels.' })
  width: number;

  @Field(() => Int, { description: 'Height in pixels.' })
  height: number;
}

@ObjectType({ description: 'The rows and columns of a matrix batch: job (r, c) is at batchIndex r × columns + c.' })
export class BatchAxesInfo {
  @Field(() => [String], { description: 'Row labels (the prompts), top to bottom.' })
  rowLabels: string[];

  @Field(() => [String], { description: 'Column labels (seeds or swept values), left to right.' })
  columnLabels: string[];
}

@ObjectType('BatchCounts', { description: 'A batch\'s counts at one moment, as BATCH_PROGRESS events carry them.' })
export class BatchCountsInfo {
  @Field(() => Int, { description: 'Jobs in the batch.' })
  total: number;

  @Field(() => Int, { description: 'Jobs COMPLETED.' })
  completed: number;

  @Field(() => Int, { description: 'Jobs FAILED.' })
  failed: number;

  @Field(() => Int, { description: 'Jobs CANCELLED.' })
  cancelled: number;

  @Field(() => Float, { description: 'Finished jobs (any final status) ÷ total, 0..1.' })
  progress: number;

  @Field(() => BatchStatus, { description: 'Where the batch stands.' })
  status: BatchStatus;
}

@ObjectType({ description: 'A batch in a page of batches.' })
export class BatchEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => Batch, { description: 'The batch.' })
  node: Batch;
}

@ObjectType({ description: 'A page of batches, newest first.' })
export class BatchConnection {
  @Field(() => [BatchEdge], { description: 'The batches with cursors.' })
  edges: BatchEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}
