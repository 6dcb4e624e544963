/**
 * Workflows in ComfyUI's API format and their placeholders (docs/backends.md,
 * "Placeholders"). The API validates a workflow with `workflowProblem` when a
 * model is registered; the worker fills it per job with `fillWorkflow`.
 */
import type { ComfyNode, ComfyWorkflow } from './backends';

/** What a job supplies for each placeholder; numbers stay numbers in the filled workflow. */
export interface PlaceholderValues {
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  cfg: number;
  width: number;
  height: number;
  batch_size: number;
  sampler: string;
  scheduler: string;
}

export const PLACEHOLDERS: readonly (keyof PlaceholderValues)[] = [
  'prompt', 'negative_prompt', 'seed', 'steps', 'cfg', 'width', 'height', 'batch_size', 'sampler', 'scheduler',
];

const PLACEHOLDER = /^\{\{([a-z_]+)\}\}$/;

/** Nodes whose outputs ComfyUI saves and lists in /history (the core output nodes). */
export const OUTPUT_NODE_TYPES: ReadonlySet<string> = new Set(['SaveImage', 'PreviewImage', 'SaveAnimatedWEBP', 'SaveAnimatedPNG']);

/**
 * A copy of `workflow` in which every input whose value is exactly one of
 * the placeholders is replaced by the job's value, with its JSON type. Text
 * that merely contains `{{prompt}}` is left alone: substituting inside
 * strings would let a prompt inject syntax into other inputs.
 */
export function fillWorkflow(workflow: ComfyWorkflow, values: PlaceholderValues): ComfyWorkflow {
  const filled: ComfyWorkflow = {};
  for (const [id, node] of Object.entries(workflow)) {
    const inputs: ComfyNode['inputs'] = {};
    for (const [name, value] of Object.entries(node.inputs ?? {})) {
      const match = typeof value === 'string' ? PLACEHOLDER.exec(value) : null;
      inputs[name] = match && match[1] in values ? values[match[1] as keyof PlaceholderValues] : value;
    }
    filled[id] = { ...node, inputs };
  }
  return filled;
}

/** The placeholders a workflow uses. */
export function placeholdersOf(workflow: ComfyWorkflow): Set<string> {
  const used = new Set<string>();
  for (const node of Object.values(workflow)) {
    for (const value of Object.values(node?.inputs ?? {})) {
      const match = typeof value === 'string' ? PLACEHOLDER.exec(value) : null;
      if (match) used.add(match[1]);
    }
  }
  return used;
}

/**
 * Why `workflow` cannot be registered, or null: it must be ComfyUI's API
 * format (node id → `{ class_type, inputs }`), have an output node, use
 * `{{prompt}}`, and name only known placeholders.
 */
export function workflowProblem(workflow: unknown): string | null {
  if (!workflow || typeof workflow !== 'object' || Array.isArray(workflow)) return 'The workflow must be a JSON object in ComfyUI\'s API format ("Save (API)")';
  const nodes = Object.entries(workflow as Record<string, unknown>);
  if (nodes.length === 0) return 'The workflow has no nodes';
  for (const [id, node] of nodes) {
    const candidate = node as Partial<ComfyNode> | null;
    if (!candidate || typeof candidate.class_type !== 'string' || !candidate.inputs || typeof candidate.inputs !== 'object') {
      return `Node ${id} is not { class_type, inputs }: export the workflow with "Save (API)"`;
    }
  }
  const typed = workflow as ComfyWorkflow;
  if (!Object.values(typed).some((node) => OUTPUT_NODE_TYPES.has(node.class_type))) {
    return `The workflow has no output node (one of ${[...OUTPUT_NODE_TYPES].join(', ')})`;
  }
  const used = placeholdersOf(typed);
  const unknown = [...used].find((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown) return `Unknown placeholder {{${unknown}}}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`;
  if (!used.has('prompt')) return 'The workflow never uses {{prompt}}: the job\'s prompt would be ignored';
  return null;
}
