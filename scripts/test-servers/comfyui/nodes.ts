import type { GeneratedImage, GenerationRequest, LoraApplication } from '../../../src/gpu-worker/pipeline/types';

/**
 * The node types the ComfyUI test server knows: the standard text-to-image
 * graph plus LoraLoader and PreviewImage, with ComfyUI's input names, types,
 * ranges and defaults (nodes.py of the version docs/test-servers.md names).
 * Values flowing along links are small records; KSampler renders with the
 * tiny pipeline and VAEDecode passes its images on, since the pipeline
 * decodes as part of a run.
 */

/** One input as object_info describes it: a type name or a combo list, plus options. */
export interface InputSpec {
  type: string;
  options?: readonly string[];
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  multiline?: boolean;
}

/** An image a node wrote, as ComfyUI's UI output and history list it. */
export interface SavedImage { filename: string; subfolder: string; type: 'output' | 'temp' }

/** What the executor lends a node while it runs. */
export interface NodeContext {
  /** Renders with the tiny pipeline, reporting steps as ComfyUI's progress and previews. */
  render(request: GenerationRequest): Promise<GeneratedImage[]>;
  /** Writes images to the output or temp folder as SaveImage does, returning their references. */
  save(images: GeneratedImage[], prefix: string, type: SavedImage['type']): Promise<SavedImage[]>;
}

/** A node's result: one value per output socket, and the UI output of output nodes. */
export interface NodeResult { outputs: unknown[]; ui?: { images: SavedImage[] } }

/** Values along links are whatever the upstream node made; each node reads its own inputs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NodeInputs = Record<string, any>;

/** One node type: its schema (for validation and object_info) and its behaviour. */
export interface NodeDefinition {
  displayName: string;
  category: string;
  description: string;
  required: Record<string, InputSpec>;
  outputs: string[];
  outputNames?: string[];
  outputNode: boolean;
  run(inputs: NodeInputs, ctx: NodeContext): Promise<NodeResult>;
}

/** ComfyUI's sampler names that the tiny pipeline implements (the same names it uses). */
export const SAMPLER_NAMES = ['euler', 'euler_ancestral', 'ddim', 'lcm', 'dpmpp_2m'] as const;
/** ComfyUI's scheduler names; accepted, and ignored by the tiny pipeline (docs/test-servers.md). */
export const SCHEDULER_NAMES = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];
const MAX_RESOLUTION = 16384;
const MAX_SEED = 2 ** 64 - 1; // ComfyUI's 0xffffffffffffffff, as a JSON number

interface ModelValue { checkpoint: string; loras: LoraApplication[] }
interface LatentValue { width: number; height: number; batchSize: number }

/** The files the combo inputs offer: checkpoint names and LoRA files (name → path). */
export interface Catalog { checkpoints: string[]; loras: Map<string, string> }

export function nodeDefinitions(catalog: Catalog): Record<string, NodeDefinition> {
  return {
    CheckpointLoaderSimple: {
      displayName: 'Load Checkpoint', category: 'loaders', outputNode: false,
      description: 'Loads a diffusion model checkpoint; the test server renders every checkpoint with the tiny model.',
      required: { ckpt_name: { type: 'COMBO', options: catalog.checkpoints } },
      outputs: ['MODEL', 'CLIP', 'VAE'],
      run: async ({ ckpt_name }) => ({ outputs: [{ checkpoint: ckpt_name, loras: [] } satisfies ModelValue, { checkpoint: ckpt_name }, {}] }),
    },
    LoraLoader: {
      displayName: 'Load LoRA', category: 'loaders', outputNode: false,
      description: 'Applies a LoRA to the model (strength_model is the weight; the tiny model has no separate text-encoder LoRA).',
      required: {
        model: { type: 'MODEL' }, clip: { type: 'CLIP' },
        lora_name: { type: 'COMBO', options: [...catalog.loras.keys()] },
        strength_model: { type: 'FLOAT', default: 1, min: -100, max: 100, step: 0.01 },
        strength_clip: { type: 'FLOAT', default: 1, min: -100, max: 100, step: 0.01 },
      },
      outputs: ['MODEL', 'CLIP'],
      run: async ({ model, clip, lora_name, strength_model }) => {
        const lora = { name: lora_name as string, path: catalog.loras.get(lora_name)!, weight: strength_model as number };
        return { outputs: [{ ...model, loras: [...(model as ModelValue).loras, lora] }, clip] };
      },
    },
    CLIPTextEncode: {
      displayName: 'CLIP Text Encode (Prompt)', category: 'conditioning', outputNode: false,
      description: 'Encodes a text prompt.',
      required: { text: { type: 'STRING', multiline: true }, clip: { type: 'CLIP' } },
      outputs: ['CONDITIONING'],
      run: async ({ text }) => ({ outputs: [{ text }] }),
    },
    EmptyLatentImage: {
      displayName: 'Empty Latent Image', category: 'latent', outputNode: false,
      description: 'Creates a batch of empty latent images.',
      required: {
        width: { type: 'INT', default: 512, min: 16, max: MAX_RESOLUTION, step: 8 },
        height: { type: 'INT', default: 512, min: 16, max: MAX_RESOLUTION, step: 8 },
        batch_size: { type: 'INT', default: 1, min: 1, max: 4096 },
      },
      outputs: ['LATENT'],
      run: async ({ width, height, batch_size }) => ({ outputs: [{ width, height, batchSize: batch_size } satisfies LatentValue] }),
    },
    KSampler: {
      displayName: 'KSampler', category: 'sampling', outputNode: false,
      description: 'Denoises the latent with the tiny pipeline (seed, steps, cfg and sampler_name are honoured; scheduler and denoise are not).',
      required: {
        model: { type: 'MODEL' },
        seed: { type: 'INT', default: 0, min: 0, max: MAX_SEED },
        steps: { type: 'INT', default: 20, min: 1, max: 10000 },
        cfg: { type: 'FLOAT', default: 8, min: 0, max: 100, step: 0.1 },
        sampler_name: { type: 'COMBO', options: SAMPLER_NAMES },
        scheduler: { type: 'COMBO', options: SCHEDULER_NAMES },
        positive: { type: 'CONDITIONING' }, negative: { type: 'CONDITIONING' }, latent_image: { type: 'LATENT' },
        denoise: { type: 'FLOAT', default: 1, min: 0, max: 1, step: 0.01 },
      },
      outputs: ['LATENT'],
      run: async (i, ctx) => {
        const model = i.model as ModelValue;
        const latent = i.latent_image as LatentValue;
        const images = await ctx.render({
          prompt: i.positive.text, negativePrompt: i.negative.text, seed: i.seed, steps: i.steps, guidanceScale: i.cfg,
          width: latent.width, height: latent.height, count: latent.batchSize, sampler: i.sampler_name,
          loras: model.loras, modelName: model.checkpoint,
        });
        return { outputs: [{ images }] };
      },
    },
    VAEDecode: {
      displayName: 'VAE Decode', category: 'latent', outputNode: false,
      description: 'Decodes latents into images (the tiny pipeline decodes during KSampler; this passes them on).',
      required: { samples: { type: 'LATENT' }, vae: { type: 'VAE' } },
      outputs: ['IMAGE'],
      run: async ({ samples }) => ({ outputs: [samples] }),
    },
    SaveImage: {
      displayName: 'Save Image', category: 'image', outputNode: true,
      description: 'Saves the input images to the output directory.',
      required: { images: { type: 'IMAGE' }, filename_prefix: { type: 'STRING', default: 'ComfyUI' } },
      outputs: [],
      run: async ({ images, filename_prefix }, ctx) => ({ outputs: [], ui: { images: await ctx.save(images.images, filename_prefix, 'output') } }),
    },
    PreviewImage: {
      displayName: 'Preview Image', category: 'image', outputNode: true,
      description: 'Saves the input images to the temp directory.',
      required: { images: { type: 'IMAGE' } },
      outputs: [],
      run: async ({ images }, ctx) => ({ outputs: [], ui: { images: await ctx.save(images.images, 'ComfyUI_temp', 'temp') } }),
    },
  };
}

/** GET /object_info's entry for one node type, in the shape server.py's node_info builds. */
export function objectInfo(name: string, def: NodeDefinition): Record<string, unknown> {
  const required = Object.fromEntries(Object.entries(def.required).map(([input, spec]) => [input, describeInput(spec)]));
  return {
    input: { required },
    input_order: { required: Object.keys(def.required) },
    output: def.outputs,
    output_is_list: def.outputs.map(() => false),
    output_name: def.outputNames ?? def.outputs,
    name,
    display_name: def.displayName,
    description: def.description,
    python_module: 'nodes',
    category: def.category,
    output_node: def.outputNode,
  };
}

function describeInput(spec: InputSpec): unknown[] {
  const { type, options, ...rest } = spec;
  const extra = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  if (type === 'COMBO') return [options ?? [], extra];
  return Object.keys(extra).length ? [type, extra] : [type];
}
