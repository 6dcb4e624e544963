import type { InputSpec, NodeDefinition } from './nodes';

/**
 * ComfyUI's validate_prompt (execution.py): every node must name a known
 * class_type, at least one output node must exist, and each output's inputs
 * are checked recursively (missing inputs, links of the wrong type, numbers
 * out of range, values not in a combo list). The error and node_errors
 * shapes are ComfyUI's, so a client's handling of a 400 is tested for real.
 */

/** ComfyUI's error record: `{type, message, details, extra_info}`. */
export interface ComfyError { type: string; message: string; details: string; extra_info: Record<string, unknown> }
/** One entry of `node_errors`. */
export interface NodeError { errors: ComfyError[]; dependent_outputs: string[]; class_type: string }
/** A prompt in ComfyUI's API format: node id → class_type and inputs (literals or [node id, slot] links). */
export type ApiPrompt = Record<string, { class_type?: string; inputs?: Record<string, unknown>; _meta?: { title?: string } }>;

/** The JSON body of POST /prompt. */
export interface PromptBody {
  prompt?: ApiPrompt;
  client_id?: string;
  prompt_id?: string;
  number?: number;
  front?: boolean;
  extra_data?: Record<string, unknown>;
  partial_execution_targets?: string[];
}

export type Validation =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeError> }
  | { ok: false; error: ComfyError; nodeErrors: Record<string, NodeError> };

type Definitions = Record<string, NodeDefinition>;

export function validatePrompt(prompt: ApiPrompt, defs: Definitions): Validation {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    const title = node?._meta?.title;
    const classType = node?.class_type;
    if (typeof classType !== 'string') return failed(missingNodeType(id, title, null, `Node '${title ?? `ID #${id}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`));
    const def = defs[classType];
    if (!def) return failed(missingNodeType(id, title, classType, `Node '${title ?? `ID #${id}`}' not found. The custom node may not be installed.`));
    if (def.outputNode) outputs.push(id);
  }
  if (outputs.length === 0) return failed({ type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} });
  const validated = new Map<string, { valid: boolean; errors: ComfyError[] }>();
  const good: string[] = [];
  const nodeErrors: Record<string, NodeError> = {};
  const failures: ComfyError[] = [];
  for (const output of outputs.sort(byNodeId)) {
    if (validateInputs(prompt, output, defs, validated).valid) {
      good.push(output);
      continue;
    }
    for (const [id, result] of validated) {
      if (result.valid || result.errors.length === 0) continue;
      nodeErrors[id] ??= { errors: result.errors, dependent_outputs: [], class_type: prompt[id].class_type! };
      nodeErrors[id].dependent_outputs.push(output);
      if (nodeErrors[id].dependent_outputs.length === 1) failures.push(...result.errors);
    }
  }
  if (good.length > 0) return { ok: true, outputs: good, nodeErrors };
  const details = failures.map((e) => `${e.message}: ${e.details}`).join('\n');
  return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, nodeErrors };
}

function failed(error: ComfyError): Validation {
  return { ok: false, error, nodeErrors: {} };
}

function missingNodeType(id: string, title: string | undefined, classType: string | null, message: string): ComfyError {
  return { type: 'missing_node_type', message, details: `Node ID '#${id}'`, extra_info: { node_id: id, class_type: classType, node_title: title ?? null } };
}

/** Node ids are numbers in practice; order them as numbers, else as text. */
export function byNodeId(a: string, b: string): number {
  return Number(a) - Number(b) || a.localeCompare(b);
}

function validateInputs(prompt: ApiPrompt, id: string, defs: Definitions, validated: Map<string, { valid: boolean; errors: ComfyError[] }>): { valid: boolean } {
  const known = validated.get(id);
  if (known) return known;
  const node = prompt[id];
  const inputs = (node.inputs ??= {});
  const errors: ComfyError[] = [];
  let valid = true;
  validated.set(id, { valid: true, errors }); // a cycle meets itself as valid and stops
  for (const [name, spec] of Object.entries(defs[node.class_type!].required)) {
    if (!(name in inputs)) {
      errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
      continue;
    }
    const value = inputs[name];
    if (Array.isArray(value)) {
      const upstream = checkLink(prompt, defs, name, spec, value, errors);
      if (upstream && !validateInputs(prompt, upstream, defs, validated).valid) valid = false;
      continue;
    }
    const checked = checkValue(name, spec, value);
    if ('error' in checked) errors.push(checked.error);
    else inputs[name] = checked.value;
  }
  const result = { valid: valid && errors.length === 0, errors };
  validated.set(id, result);
  return result;
}

/** Checks a `[node id, slot]` link; returns the upstream id when it is well formed. */
function checkLink(prompt: ApiPrompt, defs: Definitions, name: string, spec: InputSpec, link: unknown[], errors: ComfyError[]): string | null {
  const [source, slot] = link;
  const upstream = typeof source === 'string' || typeof source === 'number' ? prompt[String(source)] : undefined;
  if (link.length !== 2 || !upstream || typeof slot !== 'number') {
    errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: name, extra_info: { input_name: name, input_config: describe(spec), received_value: link } });
    return null;
  }
  const received = defs[upstream.class_type!].outputs[slot];
  if (received !== spec.type) {
    errors.push({
      type: 'return_type_mismatch', message: 'Return type mismatch between linked nodes',
      details: `${name}, received_type(${received}) mismatch input_type(${spec.type})`,
      extra_info: { input_name: name, input_config: describe(spec), received_type: received, linked_node: link },
    });
    return null;
  }
  return String(source);
}

function checkValue(name: string, spec: InputSpec, raw: unknown): { value: unknown } | { error: ComfyError } {
  const extra = { input_name: name, input_config: describe(spec), received_value: raw };
  if (spec.type === 'COMBO') {
    const options = spec.options ?? [];
    if (options.includes(raw as string)) return { value: raw };
    const list = options.length > 20 ? `(list of length ${options.length})` : `[${options.map((o) => `'${o}'`).join(', ')}]`;
    return { error: { type: 'value_not_in_list', message: 'Value not in list', details: `${name}: '${String(raw)}' not in ${list}`, extra_info: extra } };
  }
  if (spec.type === 'STRING') return { value: String(raw) };
  if (spec.type !== 'INT' && spec.type !== 'FLOAT') return { error: { type: 'exception_during_inner_validation', message: 'Exception when validating inner node', details: `${name}: a ${spec.type} input needs a link`, extra_info: extra } };
  const number = typeof raw === 'number' || (typeof raw === 'string' && raw.trim() !== '') ? Number(raw) : NaN;
  if (!Number.isFinite(number)) {
    return { error: { type: 'invalid_input_type', message: `Failed to convert an input value to a ${spec.type} value`, details: `${name}, ${String(raw)}`, extra_info: extra } };
  }
  const value = spec.type === 'INT' ? Math.trunc(number) : number;
  if (spec.min !== undefined && value < spec.min) return { error: { type: 'value_smaller_than_min', message: `Value ${value} smaller than min of ${spec.min}`, details: name, extra_info: extra } };
  if (spec.max !== undefined && value > spec.max) return { error: { type: 'value_bigger_than_max', message: `Value ${value} bigger than max of ${spec.max}`, details: name, extra_info: extra } };
  return { value };
}

function describe(spec: InputSpec): unknown[] {
  return spec.type === 'COMBO' ? [spec.options ?? []] : [spec.type];
}
