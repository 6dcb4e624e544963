import { describe, expect, it } from 'vitest';
import { BatchKind } from '../../src/entities';
import { AppError, badInput } from '../../src/kernel/errors';
import { blaming, planBatch, BatchSweepParameter } from '../../src/services/batch-plan';

const fieldOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? error.extensions.field : error;
  }
  return null;
};

describe('planBatch', () => {
  it('a list of prompts is one job each, in order, with the shared parameters; the name defaults to the first prompt', () => {
    const plan = planBatch({ prompts: ['a fox', 'a whale'], steps: 3, seed: 9 });
    expect(plan).toMatchObject({ kind: BatchKind.PROMPTS, name: 'a fox', axes: null });
    expect(plan.jobs.map((j) => j.input)).toEqual([{ prompt: 'a fox', steps: 3, seed: 9 }, { prompt: 'a whale', steps: 3, seed: 9 }]);
  });

  it('a matrix is rows × columns, row by row, with labels; a swept parameter sets that field per column', () => {
    const seeds = planBatch({ matrix: { prompts: ['a', 'b'], seeds: [1, 2, 3] } });
    expect(seeds.jobs.map((j) => [j.input.prompt, j.input.seed])).toEqual([['a', 1], ['a', 2], ['a', 3], ['b', 1], ['b', 2], ['b', 3]]);
    expect(seeds.axes).toEqual({ rowLabels: ['a', 'b'], columnLabels: ['seed 1', 'seed 2', 'seed 3'] });
    const swept = planBatch({ seed: 4, matrix: { prompts: ['a'], parameter: BatchSweepParameter.GUIDANCE_SCALE, values: [3, 9] } });
    expect(swept.jobs.map((j) => [j.input.guidanceScale, j.input.seed])).toEqual([[3, 4], [9, 4]]);
    expect(swept.jobs[1].fields).toEqual({ prompt: 'matrix.prompts[0]', guidanceScale: 'matrix.values[1]' });
  });

  it('refuses a bad shape with the field at fault', () => {
    expect(fieldOf(() => planBatch({}))).toBe('prompts');
    expect(fieldOf(() => planBatch({ prompts: [] }))).toBe('prompts');
    expect(fieldOf(() => planBatch({ prompts: ['ok', ''] }))).toBe('prompts[1]');
    expect(fieldOf(() => planBatch({ prompts: Array(101).fill('p') }))).toBe('prompts');
    expect(fieldOf(() => planBatch({ matrix: { prompts: ['a'], seeds: [1], values: [2] } }))).toBe('matrix');
    expect(fieldOf(() => planBatch({ matrix: { prompts: ['a'], values: [2] } }))).toBe('matrix.parameter');
    expect(fieldOf(() => planBatch({ matrix: { prompts: Array(11).fill('p'), seeds: Array(10).fill(1) } }))).toBe('matrix');
    expect(fieldOf(() => planBatch({ prompts: ['a'], name: ' ' }))).toBe('name');
  });

  it('blaming renames a job\'s error field to the batch field that caused it, and leaves others alone', async () => {
    const [job] = planBatch({ matrix: { prompts: ['a'], seeds: [-1] } }).jobs;
    await expect(blaming(job, () => { throw badInput('seed', 'seed must be at least 0'); }))
      .rejects.toMatchObject({ extensions: { field: 'matrix.seeds[0]' }, message: 'matrix.seeds[0] must be at least 0' });
    await expect(blaming(job, () => { throw badInput('width', 'bad width'); })).rejects.toMatchObject({ extensions: { field: 'width' } });
  });
});
