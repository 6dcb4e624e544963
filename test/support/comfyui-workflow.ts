import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The example workflow docs/examples/comfyui-workflow.json, with its placeholders. */
export function exampleWorkflow(): Record<string, any> {
  // From test/support, or from dist/test/support when a bench imports it compiled.
  const file = ['../../docs', '../../../docs'].map((up) => path.resolve(__dirname, up, 'examples/comfyui-workflow.json')).find(existsSync)!;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * The example workflow with each `{{name}}` input replaced by its value (a
 * bare client's substitution, for tests that talk to the test server directly).
 */
export function filledWorkflow(values: Partial<Record<string, string | number>> = {}): Record<string, any> {
  const all: Record<string, string | number> = {
    prompt: 'a lighthouse at dusk', negative_prompt: '', seed: 7, steps: 4, cfg: 7.5, width: 64, height: 64,
    batch_size: 1, sampler: 'euler', scheduler: 'normal', ...values,
  };
  const workflow = exampleWorkflow();
  for (const node of Object.values(workflow)) {
    for (const [name, value] of Object.entries(node.inputs as Record<string, unknown>)) {
      const match = typeof value === 'string' ? /^\{\{(\w+)\}\}$/.exec(value) : null;
      if (match) node.inputs[name] = all[match[1]];
    }
  }
  return workflow;
}
