import { SeededRandom } from '../../pipeline/rng';
import { alphasCumprod, SD1_SCHEDULER_DEFAULTS } from '../../pipeline/scheduler';
import { END_TOKEN, START_TOKEN } from '../../pipeline/tokenizer';
import { writeSafetensors } from '../../lora/safetensors';
import { buildTextEncoder } from './text-encoder';
import { buildUnet } from './unet';
import { buildVaeDecoder, type PaletteSpec } from './vae-decoder';
import { buildVocab } from './vocab';

/** Name and version written into model_index.json. */
export const TINY_MODEL_NAME = 'atelier-tiny';
const TINY_MODEL_VERSION = 1;
const SEED = 20240601;
const HIDDEN = 64;
const SCALING_FACTOR = 0.18215;

/**
 * The decoder's cosine palette. Channels 0, 1 and 3 move along the palette
 * (shared direction, per-channel speeds); channel 2 shifts the hue balance.
 */
export const TINY_PALETTE: PaletteSpec = {
  latent: [
    [0.22, 0.13, 0.08, -0.08],
    [0.2, 0.14, -0.04, -0.07],
    [0.15, 0.1, -0.12, -0.06],
  ],
  position: [
    [0.0, 0.16, 0.04],
    [0.0, 0.12, 0.04],
    [0.0, 0.05, 0.04],
  ],
  phase: [0.0, 0.1, 0.25],
  offset: [0.55, 0.5, 0.5],
  amplitude: [0.42, 0.42, 0.42],
  vignette: 0.12,
};

/**
 * The tiny UNet's fixed hyper-parameters (its weights are in the ONNX file).
 * The local trainer rebuilds the same forward pass from these and the file's
 * initializers (src/gpu-worker/training/tiny-network.ts).
 */
export const TINY_UNET_SHAPE = { hiddenSize: HIDDEN, width: 32, textAmplitude: 0.15, seedStd: 1.0, blurSigma: 5, blurTaps: 21 } as const;

const SCHEDULER_CONFIG = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.30.0',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  skip_prk_steps: true,
  interpolation_type: 'linear',
  use_karras_sigmas: false,
};

const TOKENIZER_CONFIG = {
  tokenizer_class: 'CLIPTokenizer',
  model_max_length: 77,
  do_lower_case: true,
  bos_token: START_TOKEN,
  eos_token: END_TOKEN,
  pad_token: END_TOKEN,
  unk_token: END_TOKEN,
};

/** Linearisation of the palette at zero latents: the cheap preview's latent → RGB factors. */
function previewFactors(p: PaletteSpec): number[][] {
  return [0, 1, 2, 3].map((c) => [0, 1, 2].map((k) => -2 * p.amplitude[k] * Math.sin(2 * Math.PI * p.phase[k]) * 2 * Math.PI * p.latent[k][c]));
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Every file of the tiny model in the diffusers ONNX layout, keyed by
 * relative path. Pure and deterministic: same bytes on every call.
 */
export function buildTinyModelFiles(): Map<string, Buffer> {
  const rng = new SeededRandom(SEED);
  const vocab = buildVocab();
  const silent = [vocab.vocab[START_TOKEN], vocab.vocab[END_TOKEN]];
  const textEncoder = buildTextEncoder(rng, { vocabSize: vocab.size, hiddenSize: HIDDEN, seqLength: 77, silentTokenIds: silent });
  const unet = buildUnet(rng, { ...TINY_UNET_SHAPE, alphasCumprod: alphasCumprod(SD1_SCHEDULER_DEFAULTS) });
  const decoder = buildVaeDecoder(rng, { scalingFactor: SCALING_FACTOR, width1: 16, width2: 12, textureStrength: 0.35, palette: TINY_PALETTE });
  const loraBase = Object.fromEntries(unet.layers.map((l) => [l.input, { shape: l.shape, data: l.base }]));

  const modelIndex = {
    _class_name: 'OnnxStableDiffusionPipeline',
    _diffusers_version: '0.30.0',
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
    vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
    vae_encoder: [null, null],
    atelier: {
      name: TINY_MODEL_NAME,
      version: TINY_MODEL_VERSION,
      description: 'Tiny procedural diffusion model built by scripts/build-model.ts (analytic denoiser, CPPN decoder).',
      default_width: 512,
      default_height: 512,
      default_steps: 20,
      default_guidance_scale: 7.5,
      vae_scaling_factor: SCALING_FACTOR,
      latent_rgb_factors: previewFactors(TINY_PALETTE),
      latent_rgb_bias: TINY_PALETTE.phase.map((d, k) => (TINY_PALETTE.offset[k] + TINY_PALETTE.amplitude[k] * Math.cos(2 * Math.PI * d)) * 2 - 1),
      lora_base: 'unet/lora_base.safetensors',
      lora_layers: unet.layers.map((l) => ({ name: l.name, input: l.input, shape: l.shape })),
    },
  };

  return new Map<string, Buffer>([
    ['model_index.json', json(modelIndex)],
    ['scheduler/scheduler_config.json', json(SCHEDULER_CONFIG)],
    ['tokenizer/vocab.json', json(vocab.vocab)],
    ['tokenizer/merges.txt', Buffer.from(`#version: 0.2\n${vocab.merges.join('\n')}\n`)],
    ['tokenizer/tokenizer_config.json', json(TOKENIZER_CONFIG)],
    ['tokenizer/special_tokens_map.json', json({ bos_token: START_TOKEN, eos_token: END_TOKEN, pad_token: END_TOKEN, unk_token: END_TOKEN })],
    ['text_encoder/model.onnx', textEncoder],
    ['unet/model.onnx', unet.model],
    ['unet/lora_base.safetensors', writeSafetensors(loraBase, { format: 'pt' })],
    ['vae_decoder/model.onnx', decoder],
  ]);
}
