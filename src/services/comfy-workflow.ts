import { badInput } from '../kernel/errors';

/**
 * The placeholders a ComfyUI workflow may carry as the whole value of a node
 * input; the worker replaces each with the job's value (docs/backends.md,
 * "Registering models").
 */
export const WORKFLOW_PLACEHOLDERS = [
  '{{prompt}}', '{{negative_prompt}}', '{{seed}}', '{{steps}}', '{{cfg}}', '{{width}}', '{{height}}',
  '{{batch_size}}', '{{sampler}}', '{{scheduler}}',
] as const;

/**
 * Node classes that ComfyUI marks `OUTPUT_NODE` and that leave images in
 * `/history/{prompt_id}` outputs for `/view`: the built-in image savers of
 * ComfyUI's nodes.py and comfy_extras/nodes_images.py.
 */
export const IMAGE_OUTPUT_NODES: ReadonlySet<string> = new Set(['SaveImage', 'PreviewImage', 'SaveAnimatedWEBP', 'SaveAnimatedPNG']);

/** Bounds checked before any walk (docs/backends.md): a workflow is a flat map of nodes, never deep. */
export const WORKFLOW_LIMITS = { maxBytes: 256 * 1024, maxNodes: 500 } as const;

const KNOWN = new Set<string>(WORKFLOW_PLACEHOLDERS);
const PLACEHOLDER_LIKE = /^\{\{.*\}\}$/s;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One node of ComfyUI's API format: `{ class_type, inputs }`; inputs are literals or `[nodeId, outputIndex]` links. */
function checkNode(id: string, node: unknown): { classType: string; placeholders: string[] } {
  if (!isObject(node) || typeof node.class_type !== 'string' || !node.class_type || !isObject(node.inputs)) {
    throw badInput('workflow', `Node ${JSON.stringify(id)} is not in ComfyUI's API format ({ "class_type": "…", "inputs": { … } }); export it with "Save (API Format)"`);
  }
  const placeholders: string[] = [];
  for (const [input, value] of Object.entries(node.inputs)) {
    if (typeof value !== 'string' || !PLACEHOLDER_LIKE.test(value.trim())) continue;
    if (!KNOWN.has(value)) {
      throw badInput('workflow', `Node ${JSON.stringify(id)} input ${JSON.stringify(input)} holds the unknown placeholder ${JSON.stringify(value.slice(0, 40))}; known: ${WORKFLOW_PLACEHOLDERS.join(', ')}`);
    }
    placeholders.push(value);
  }
  return { classType: node.class_type, placeholders };
}

/**
 * Checks a workflow in ComfyUI's API format: an object of nodes, at least one
 * image output node, and `{{prompt}}` as the whole value of some input.
 * Throws BAD_USER_INPUT on `workflow`; returns the placeholders it uses.
 */
export function validateWorkflow(workflow: unknown): string[] {
  if (!isObject(workflow)) throw badInput('workflow', 'workflow must be a JSON object of ComfyUI nodes (API format)');
  if (JSON.stringify(workflow).length > WORKFLOW_LIMITS.maxBytes) {
    throw badInput('workflow', `workflow must be at most ${WORKFLOW_LIMITS.maxBytes / 1024} KiB of JSON`);
  }
  const entries = Object.entries(workflow);
  if (entries.length === 0) throw badInput('workflow', 'workflow has no nodes');
  if (entries.length > WORKFLOW_LIMITS.maxNodes) throw badInput('workflow', `workflow may have at most ${WORKFLOW_LIMITS.maxNodes} nodes`);
  const nodes = entries.map(([id, node]) => checkNode(id, node));
  if (!nodes.some((n) => IMAGE_OUTPUT_NODES.has(n.classType))) {
    throw badInput('workflow', `workflow has no image output node (one of ${[...IMAGE_OUTPUT_NODES].join(', ')})`);
  }
  const used = new Set(nodes.flatMap((n) => n.placeholders));
  if (!used.has('{{prompt}}')) throw badInput('workflow', 'workflow has no input whose value is exactly "{{prompt}}"');
  return [...used];
}
