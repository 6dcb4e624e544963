import { describe, expect, it } from 'vitest';
import { fillWorkflow, workflowProblem } from '../../src/kernel/comfy-workflow';
import { describeRejection, previewOf, PromptTracker } from '../../src/gpu-worker/backends/comfyui-messages';
import { exampleWorkflow } from '../support/comfyui-workflow';

const frame = (event: number, second: number, image: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(event, 0);
  head.writeUInt32BE(second, 4);
  return Buffer.concat([head, image]);
};
const message = (type: string, data: Record<string, unknown>) => JSON.stringify({ type, data });

describe('ComfyUI workflow placeholders', () => {
  it('replaces exact placeholders with the job\'s values and their JSON types', () => {
    const filled = fillWorkflow(exampleWorkflow(), {
      prompt: 'a {{seed}} lighthouse', negative_prompt: '', seed: 42, steps: 6, cfg: 7.5, width: 64, height: 96,
      batch_size: 2, sampler: 'euler_ancestral', scheduler: 'normal',
    });
    expect(filled['3'].inputs).toMatchObject({ seed: 42, steps: 6, cfg: 7.5, sampler_name: 'euler_ancestral', scheduler: 'normal', model: ['4', 0] });
    expect(filled['5'].inputs).toEqual({ width: 64, height: 96, batch_size: 2 });
    // The prompt is a value, never re-read for placeholders.
    expect(filled['6'].inputs.text).toBe('a {{seed}} lighthouse');
    expect(exampleWorkflow()['3'].inputs.seed).toBe('{{seed}}');
  });

  it('refuses workflows without an output node, without {{prompt}}, with unknown placeholders or not in API format', () => {
    const workflow = exampleWorkflow();
    expect(workflowProblem(workflow)).toBeNull();
    const noOutput = exampleWorkflow();
    delete noOutput['9'];
    expect(workflowProblem(noOutput)).toMatch(/no output node/);
    const noPrompt = exampleWorkflow();
    noPrompt['6'].inputs.text = 'fixed';
    expect(workflowProblem(noPrompt)).toMatch(/\{\{prompt\}\}/);
    const unknown = exampleWorkflow();
    unknown['3'].inputs.denoise = '{{strength}}';
    expect(workflowProblem(unknown)).toMatch(/Unknown placeholder \{\{strength\}\}/);
    expect(workflowProblem({ nodes: [], links: [] })).toMatch(/Node nodes/);
    expect(workflowProblem([])).toMatch(/JSON object/);
  });
});

describe('ComfyUI messages', () => {
  it('turns progress plus the preview frame after it into one step, and finishes on execution_success', () => {
    const tracker = new PromptTracker('p1');
    expect(tracker.text(message('status', { status: { exec_info: { queue_remaining: 1 } }, sid: 'c' }))).toEqual([]);
    expect(tracker.text(message('execution_start', { prompt_id: 'p1', timestamp: 1 }))).toEqual([{ kind: 'started' }]);
    expect(tracker.running).toBe(true);
    expect(tracker.text(message('executing', { node: '3', display_node: '3', prompt_id: 'p1' }))).toEqual([]);
    expect(tracker.text(message('progress', { value: 1, max: 4, prompt_id: 'p1', node: '3' }))).toEqual([]);
    const jpeg = Buffer.from([0xff, 0xd8, 1, 2]);
    expect(tracker.binary(frame(1, 1, jpeg))).toEqual([{ kind: 'step', step: 1, totalSteps: 4, node: '3', preview: jpeg }]);
    tracker.text(message('progress', { value: 2, max: 4, prompt_id: 'p1', node: '3' }));
    // No preview came: the next message releases the step without one.
    expect(tracker.text(message('executed', { node: '9', output: {}, prompt_id: 'p1' }))).toEqual([{ kind: 'step', step: 2, totalSteps: 4, node: '3' }]);
    expect(tracker.text(message('execution_success', { prompt_id: 'p1', timestamp: 2 }))).toEqual([{ kind: 'done' }]);
  });

  it('ignores other prompts, ends on executing with node null, and reports execution_error with ComfyUI\'s message', () => {
    const tracker = new PromptTracker('p1');
    expect(tracker.text(message('progress', { value: 1, max: 4, prompt_id: 'other' }))).toEqual([]);
    expect(tracker.text(message('executing', { node: null, prompt_id: 'other' }))).toEqual([]);
    expect(tracker.text(message('executing', { node: null, prompt_id: 'p1' }))).toEqual([{ kind: 'done' }]);
    const [failed] = new PromptTracker('p2').text(message('execution_error', {
      prompt_id: 'p2', node_id: '3', node_type: 'KSampler', exception_message: 'CUDA out of memory', exception_type: 'torch.OutOfMemoryError',
    }));
    expect(failed).toMatchObject({ kind: 'failed' });
    expect((failed as { error: Error }).error.message).toContain('CUDA out of memory');
    expect(new PromptTracker('p3').text(message('execution_interrupted', { prompt_id: 'p3' }))).toEqual([{ kind: 'interrupted' }]);
  });

  it('reads both preview frame layouts and skips other binary events', () => {
    const png = Buffer.from([0x89, 0x50]);
    expect(previewOf(frame(1, 2, png))).toEqual(png);
    const metadata = Buffer.from(JSON.stringify({ node_id: '3', prompt_id: 'p1' }));
    expect(previewOf(frame(4, metadata.length, Buffer.concat([metadata, png])))).toEqual(png);
    expect(previewOf(frame(3, 0, Buffer.from('text')))).toBeNull();
  });

  it('names each node of a 400 answer', () => {
    const text = describeRejection({
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '' },
      node_errors: { 4: { class_type: 'CheckpointLoaderSimple', errors: [{ message: 'Value not in list', details: 'ckpt_name: \'x\' not in [...]' }] } },
    });
    expect(text).toContain('Prompt outputs failed validation');
    expect(text).toContain('node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name');
  });
});
