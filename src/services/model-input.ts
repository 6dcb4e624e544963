import { InferenceBackend, Tier } from '../entities';
import type { ComfyWorkflow } from '../kernel/backends';
import { badInput } from '../kernel/errors';
import { workflowProblem } from '../kernel/comfy-workflow';

/** What an admin sends to register or update a model (`ModelInput` in the schema). */
export interface ModelInputValues {
  name: string;
  backend: InferenceBackend;
  description?: string | null;
  minTier?: Tier | null;
  endpoints?: string[] | null;
  workflow?: Record<string, unknown> | null;
  remoteModel?: string | null;
  /** Plain text; sealed before it is stored. Absent or null keeps the stored one on update; "" removes it. */
  credential?: string | null;
  path?: string | null;
}

/** A checked input: every field present, normalized, ready to store (the credential still plain). */
export interface CheckedModelInput {
  name: string;
  backend: InferenceBackend;
  description: string | null;
  minTier: Tier;
  endpoints: string[];
  workflow: ComfyWorkflow | null;
  remoteModel: string | null;
  /** undefined: keep the stored one; "": remove it; otherwise the new secret, still plain. */
  credential: string | undefined;
  path: string | null;
}

/** Where an ONNX model's files are: its path, else the folder named like it. */
export const onnxFolderOf = (model: Pick<CheckedModelInput, 'name' | 'path'>): string => model.path ?? model.name;

export const MODEL_INPUT_LIMITS = {
  maxEndpoints: 16, maxUrlLength: 2048, maxDescription: 500, maxRemoteModel: 200, maxCredential: 4096,
  /** A workflow is a flat map of nodes; these bounds are checked before any walk. */
  maxWorkflowBytes: 256 * 1024, maxWorkflowNodes: 500,
} as const;

const FOLDER = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const BACKENDS: ReadonlySet<string> = new Set(Object.values(InferenceBackend));
const TIERS: ReadonlySet<string> = new Set(Object.values(Tier));
const REMOTE = new Set<InferenceBackend>([InferenceBackend.COMFYUI, InferenceBackend.OPENAI_IMAGES]);

const present = (value: unknown): boolean =>
  value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0) && value !== '';

/** Fields that make no sense for `backend` are refused rather than silently stored. */
function refuseUnused(input: ModelInputValues, backend: InferenceBackend): void {
  const unused: Array<[keyof ModelInputValues, boolean]> = [
    ['endpoints', !REMOTE.has(backend)],
    ['credential', !REMOTE.has(backend)],
    ['workflow', backend !== InferenceBackend.COMFYUI],
    ['remoteModel', backend !== InferenceBackend.OPENAI_IMAGES],
    ['path', backend !== InferenceBackend.ONNX],
  ];
  for (const [field, refused] of unused) {
    if (refused && present(input[field])) throw badInput(field, `${field} does not apply to ${backend} models`);
  }
}

/**
 * One base URL of a backend server: http or https only (ComfyUI's WebSocket
 * URL is derived from it), no user name or password (those go in
 * `credential`, which is sealed), no query or fragment. Returned without a
 * trailing slash.
 */
export function checkEndpoint(raw: string): string {
  const text = raw.trim();
  if (text.length === 0 || text.length > MODEL_INPUT_LIMITS.maxUrlLength) throw badInput('endpoints', `Each endpoint must be 1 to ${MODEL_INPUT_LIMITS.maxUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput('endpoints', `${JSON.stringify(text.slice(0, 100))} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badInput('endpoints', `Endpoint ${JSON.stringify(text.slice(0, 100))} must use http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) throw badInput('endpoints', 'Endpoints must not carry a user name or password; put the secret in credential, which is stored sealed');
  if (url.search || url.hash) throw badInput('endpoints', 'Endpoints are base URLs, without a query or fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function checkEndpoints(raw: string[] | null | undefined, backend: InferenceBackend): string[] {
  if (!REMOTE.has(backend)) return [];
  if (!raw || raw.length === 0) throw badInput('endpoints', `${backend} models need at least one endpoint (the server's base URL)`);
  if (raw.length > MODEL_INPUT_LIMITS.maxEndpoints) throw badInput('endpoints', `At most ${MODEL_INPUT_LIMITS.maxEndpoints} endpoints`);
  const urls = raw.map(checkEndpoint);
  if (new Set(urls).size !== urls.length) throw badInput('endpoints', 'Each endpoint may appear once');
  return urls;
}

/** Bounded first (its size and node count), then ComfyUI's API format as kernel/comfy-workflow.ts defines it. */
function checkWorkflow(workflow: unknown): void {
  if (workflow == null) throw badInput('workflow', 'COMFYUI models need a workflow in ComfyUI\'s API format');
  if (JSON.stringify(workflow).length > MODEL_INPUT_LIMITS.maxWorkflowBytes) {
    throw badInput('workflow', `The workflow must be at most ${MODEL_INPUT_LIMITS.maxWorkflowBytes / 1024} KiB of JSON`);
  }
  if (typeof workflow === 'object' && Object.keys(workflow).length > MODEL_INPUT_LIMITS.maxWorkflowNodes) {
    throw badInput('workflow', `The workflow may have at most ${MODEL_INPUT_LIMITS.maxWorkflowNodes} nodes`);
  }
  const problem = workflowProblem(workflow);
  if (problem) throw badInput('workflow', problem);
}

function checkText(field: string, value: string | null | undefined, max: number): string | null {
  const text = value?.trim() ?? '';
  if (text.length > max) throw badInput(field, `${field} must be at most ${max} characters`);
  if (CONTROL.test(text)) throw badInput(field, `${field} must not contain control characters`);
  return text || null;
}

/** ONNX: a relative folder (or artifact store prefix) without `..`; absent means the folder named like the model. */
function checkPath(raw: string | null | undefined): string | null {
  const text = raw?.trim().replace(/\/+$/, '') ?? '';
  if (!text) return null;
  if (text.length > 512 || text.split('/').some((part) => !FOLDER.test(part))) {
    throw badInput('path', 'path must be a relative folder of letters, digits, ".", "_" and "-" (no "..", no leading "/")');
  }
  return text;
}

/**
 * Checks every field of a model registration without touching storage
 * (the ONNX folder and duplicate names are checked by the service). Throws
 * BAD_USER_INPUT with the offending field.
 */
export function checkModelInput(input: ModelInputValues): CheckedModelInput {
  if (!BACKENDS.has(input.backend)) throw badInput('backend', `Unknown backend; one of ${[...BACKENDS].join(', ')}`);
  const backend = input.backend;
  const name = input.name?.trim() ?? '';
  if (!NAME.test(name)) throw badInput('name', 'name must be 1 to 80 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit');
  if (input.minTier != null && !TIERS.has(input.minTier)) throw badInput('minTier', 'Unknown tier');
  refuseUnused(input, backend);
  const endpoints = checkEndpoints(input.endpoints, backend);
  if (backend === InferenceBackend.COMFYUI) {
    checkWorkflow(input.workflow);
  }
  const remoteModel = checkText('remoteModel', input.remoteModel, MODEL_INPUT_LIMITS.maxRemoteModel);
  if (backend === InferenceBackend.OPENAI_IMAGES && !remoteModel) throw badInput('remoteModel', 'OPENAI_IMAGES models need remoteModel (the `model` the server expects)');
  if (input.credential != null && input.credential.length > MODEL_INPUT_LIMITS.maxCredential) {
    throw badInput('credential', `credential must be at most ${MODEL_INPUT_LIMITS.maxCredential} characters`);
  }
  const path = checkPath(input.path);
  if (backend === InferenceBackend.ONNX && !path && !FOLDER.test(name)) {
    throw badInput('path', `The folder ${JSON.stringify(name)} is not a plain folder name; give path`);
  }
  return {
    name,
    backend,
    description: checkText('description', input.description, MODEL_INPUT_LIMITS.maxDescription),
    minTier: input.minTier ?? Tier.FREE,
    endpoints,
    workflow: backend === InferenceBackend.COMFYUI ? (input.workflow as unknown as ComfyWorkflow) : null,
    remoteModel,
    credential: input.credential == null ? undefined : input.credential.trim(),
    path,
  };
}
