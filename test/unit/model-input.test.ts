import { describe, expect, it } from 'vitest';
import { fieldOfBadVariable } from '../../src/kernel/errors';
import { checkEndpoint, checkModelInput, MODEL_INPUT_LIMITS } from '../../src/services/model-input';
import { InferenceBackend } from '../../src/entities';
import { exampleWorkflow } from '../support/comfyui-workflow';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return { code: (error as { code?: string }).code, field: (error as { extensions?: { field?: string } }).extensions?.field, message: (error as Error).message };
  }
  return null;
};

const WORKFLOW = {
  6: { class_type: 'CLIPTextEncode', inputs: { text: '{{prompt}}', clip: ['4', 1] } },
  9: { class_type: 'SaveImage', inputs: { filename_prefix: 'atelier', images: ['8', 0] } },
};

describe('model registration input', () => {
  it('normalizes endpoints to base URLs and refuses other schemes, credentials in the URL and queries', () => {
    expect(checkEndpoint(' http://gpu-1:8188/ ')).toBe('http://gpu-1:8188');
    expect(checkEndpoint('https://proxy.example/comfy/')).toBe('https://proxy.example/comfy');
    for (const bad of ['ws://gpu-1:8188', 'javascript:alert(1)', 'file:///etc/passwd', 'https://u:p@x.example', 'http://x.example/?a=1', 'x.example', '']) {
      expect(refusal(() => checkEndpoint(bad))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endpoints' });
    }
  });

  it('bounds a workflow by size and node count before reading it', () => {
    const many = Object.fromEntries(Array.from({ length: MODEL_INPUT_LIMITS.maxWorkflowNodes + 1 }, (_, i) => [String(i), WORKFLOW[9]]));
    const big = { ...WORKFLOW, 1: { class_type: 'Note', inputs: { text: 'x'.repeat(MODEL_INPUT_LIMITS.maxWorkflowBytes) } } };
    const input = (workflow: unknown) => ({ name: 'm', backend: InferenceBackend.COMFYUI, endpoints: ['http://a'], workflow: workflow as Record<string, unknown> });
    expect(refusal(() => checkModelInput(input(many)))).toMatchObject({ field: 'workflow', message: expect.stringMatching(/at most 500 nodes/) });
    expect(refusal(() => checkModelInput(input(big)))).toMatchObject({ field: 'workflow', message: expect.stringMatching(/KiB/) });
    expect(checkModelInput(input(WORKFLOW)).workflow).toEqual(WORKFLOW);
    // The documented example (docs/examples/comfyui-workflow.json) registers as it is.
    expect(checkModelInput(input(exampleWorkflow())).workflow).toEqual(exampleWorkflow());
  });

  it('keeps the credential unless one is given, and "" removes it', () => {
    const base = { name: 'm', backend: InferenceBackend.OPENAI_IMAGES, endpoints: ['https://a'], remoteModel: 'x' };
    expect(checkModelInput(base).credential).toBeUndefined();
    expect(checkModelInput({ ...base, credential: null }).credential).toBeUndefined();
    expect(checkModelInput({ ...base, credential: '' }).credential).toBe('');
    expect(checkModelInput({ ...base, credential: ' sk-1 ' }).credential).toBe('sk-1');
  });
});

describe('fieldOfBadVariable', () => {
  it('names the input field of graphql-js coercion errors the way services name fields', () => {
    expect(fieldOfBadVariable('Variable "$input" got invalid value "X" at "input.backend"; Value "X" does not exist in "InferenceBackend" enum.')).toBe('backend');
    expect(fieldOfBadVariable('Variable "$input" got invalid value 5 at "input.endpoints[0]"; String cannot represent a non string value: 5')).toBe('endpoints');
    expect(fieldOfBadVariable('Variable "$first" got invalid value "x"; Int cannot represent non-integer value: "x"')).toBe('first');
    expect(fieldOfBadVariable('Variable "$input" of required type "ModelInput!" was not provided.')).toBeUndefined();
  });
});
