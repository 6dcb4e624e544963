import { BatchKind, type BatchAxes } from '../entities';
import { AppError, badInput } from '../kernel/errors';
import { checkPromptLength } from '../kernel/generation-parameters';
import type { GenerationRequestInput } from './generation-input';
import { isBlank } from '../kernel/visible-text';

/** The parameter a matrix batch sweeps across its columns (an X/Y plot). */
export enum BatchSweepParameter { STEPS = 'STEPS', GUIDANCE_SCALE = 'GUIDANCE_SCALE' }

/** How big a batch may be (docs/batches.md, docs/limits.md). */
export const BATCH_LIMITS = { maxJobs: 100, nameChars: 200 };

/** A prompt matrix: rows are prompts, columns are seeds or the values of one swept parameter. */
export interface BatchMatrixRequest {
  prompts: string[];
  seeds?: number[] | null;
  parameter?: BatchSweepParameter | null;
  values?: number[] | null;
}

/** createBatch's input: the shared generation parameters, and prompts or a matrix. */
export interface BatchRequest extends Omit<GenerationRequestInput, 'prompt'> {
  name?: string | null;
  prompts?: string[] | null;
  matrix?: BatchMatrixRequest | null;
}

/** One job of the plan: its request, and which input field to blame for its prompt, seed or swept value. */
export interface PlannedJob {
  input: GenerationRequestInput;
  fields: Partial<Record<'prompt' | 'seed' | 'steps' | 'guidanceScale', string>>;
}

export interface BatchPlan {
  kind: BatchKind;
  name: string;
  axes: BatchAxes | null;
  jobs: PlannedJob[];
}

function assertSize(field: string, size: number, what: string): void {
  if (size < 1) throw badInput(field, `${what} must not be empty`);
}

function assertPrompts(field: string, prompts: string[]): void {
  assertSize(field, prompts.length, field);
  prompts.forEach((prompt, i) => {
    const violation = checkPromptLength(`${field}[${i}]`, prompt);
    if (violation) throw badInput(violation.field, violation.message);
    if (isBlank(prompt)) throw badInput(`${field}[${i}]`, 'A prompt must not be empty');
  });
}

function assertJobCount(field: string, jobs: number): void {
  if (jobs > BATCH_LIMITS.maxJobs) throw badInput(field, `A batch holds at most ${BATCH_LIMITS.maxJobs} jobs; this one would have ${jobs}`);
}

const SWEPT_FIELD = { [BatchSweepParameter.STEPS]: 'steps', [BatchSweepParameter.GUIDANCE_SCALE]: 'guidanceScale' } as const;

function planMatrix(shared: Omit<GenerationRequestInput, 'prompt'>, matrix: BatchMatrixRequest): Omit<BatchPlan, 'name'> {
  assertPrompts('matrix.prompts', matrix.prompts);
  const bySeeds = matrix.seeds != null;
  const bySweep = matrix.parameter != null || matrix.values != null;
  if (bySeeds === bySweep) throw badInput('matrix', 'A matrix has either seeds or a parameter with values as its columns');
  if (bySweep && (matrix.parameter == null || matrix.values == null)) {
    throw badInput(matrix.parameter == null ? 'matrix.parameter' : 'matrix.values', 'A swept matrix needs both parameter and values');
  }
  const columns = (bySeeds ? matrix.seeds : matrix.values)!;
  const columnField = bySeeds ? 'matrix.seeds' : 'matrix.values';
  assertSize(columnField, columns.length, columnField);
  assertJobCount('matrix', matrix.prompts.length * columns.length);
  const jobs = matrix.prompts.flatMap((prompt, r) => columns.map((value, c): PlannedJob => {
    const swept = bySeeds ? 'seed' : SWEPT_FIELD[matrix.parameter!];
    return {
      input: { ...shared, prompt, [swept]: value },
      fields: { prompt: `matrix.prompts[${r}]`, [swept]: `${columnField}[${c}]` },
    };
  }));
  const columnLabels = columns.map((v) => (bySeeds ? `seed ${v}` : `${SWEPT_FIELD[matrix.parameter!]} ${v}`));
  return { kind: BatchKind.MATRIX, axes: { rowLabels: matrix.prompts.map((p) => p.trim()), columnLabels }, jobs };
}

/**
 * Checks a createBatch input's shape and expands it into one request per
 * job; each request is then checked like a createGeneration input, with
 * errors naming the batch field at fault (`prompts[2]`, `matrix.seeds[1]`).
 */
export function planBatch(input: BatchRequest): BatchPlan {
  const { name, prompts, matrix, ...shared } = input;
  if ((prompts == null) === (matrix == null)) throw badInput('prompts', 'Give either prompts or matrix');
  if (name != null && (name.trim().length === 0 || name.length > BATCH_LIMITS.nameChars)) {
    throw badInput('name', `name must be 1 to ${BATCH_LIMITS.nameChars} characters`);
  }
  let plan: Omit<BatchPlan, 'name'>;
  if (prompts != null) {
    assertPrompts('prompts', prompts);
    assertJobCount('prompts', prompts.length);
    plan = { kind: BatchKind.PROMPTS, axes: null, jobs: prompts.map((prompt, i) => ({ input: { ...shared, prompt }, fields: { prompt: `prompts[${i}]` } })) };
  } else {
    plan = planMatrix(shared, matrix!);
  }
  const first = plan.jobs[0].input.prompt.trim();
  return { ...plan, name: name?.trim() || (first.length > 80 ? `${first.slice(0, 79)}…` : first) };
}

/** Runs a per-job check and renames the field of its error to the batch field that caused it. */
export async function blaming<T>(job: PlannedJob, check: () => T | Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    const field = error instanceof AppError ? (error.extensions.field as string | undefined) : undefined;
    const renamed = field && field in job.fields ? job.fields[field as keyof PlannedJob['fields']] : undefined;
    if (error instanceof AppError && renamed) throw new AppError(error.code, error.message.replaceAll(field!, renamed), { ...error.extensions, field: renamed });
    throw error;
  }
}
