import path from 'node:path';
import type { AdaptableWeight } from '../lora/merge';
import { parseSafetensors, toFloat32 } from '../lora/safetensors';
import { PipelineError } from './errors';
import { componentBytes, hashModelDir, readJsonFile, readModelIndex, type ModelIndex } from './model-files';
import { OnnxComponent, type SessionSettings } from './onnx-session';
import { SD1_LATENT_RGB_FACTORS, type PreviewSettings } from './preview';
import { normaliseSchedulerConfig, type SchedulerConfig } from './scheduler';
import { ClipTokenizer } from './tokenizer';
import { readFile } from 'node:fs/promises';

/** Everything loaded from a model directory that a generation needs. */
export interface LoadedModel {
  dir: string;
  name: string;
  index: ModelIndex;
  tokenizer: ClipTokenizer;
  scheduler: SchedulerConfig;
  textEncoder: OnnxComponent;
  unet: OnnxComponent;
  vaeDecoder: OnnxComponent;
  /** Latents are divided by this before decoding (0.18215 for SD 1.x/2.x). */
  scalingFactor: number;
  latentChannels: number;
  preview: PreviewSettings;
  /** LoRA-adaptable UNet weights fed as inputs; empty when LoRAs are unsupported. */
  adaptable: AdaptableWeight[];
  modelHash: string;
  approxBytes: number;
}

const DEFAULT_SCALING_FACTOR = 0.18215;

async function scalingFactorOf(dir: string, index: ModelIndex): Promise<number> {
  if (typeof index.atelier?.vae_scaling_factor === 'number') return index.atelier.vae_scaling_factor;
  const vae = await readJsonFile<{ scaling_factor?: number }>(path.join(dir, 'vae_decoder', 'config.json'), {});
  return typeof vae.scaling_factor === 'number' ? vae.scaling_factor : DEFAULT_SCALING_FACTOR;
}

/** Reads the base values of the model's declared adaptable layers and checks them against the UNet's inputs. */
async function adaptableWeights(dir: string, index: ModelIndex, unet: OnnxComponent): Promise<AdaptableWeight[]> {
  const meta = index.atelier;
  if (!meta?.lora_layers?.length || !meta.lora_base) return [];
  let base;
  try {
    base = parseSafetensors(await readFile(path.join(dir, meta.lora_base)));
  } catch (err) {
    throw new PipelineError('MODEL_INVALID', `${dir}: cannot read ${meta.lora_base} (${(err as Error).message})`);
  }
  return meta.lora_layers.map((layer) => {
    const entry = base.tensors.get(layer.input);
    const declared = unet.hasInput(layer.input) ? unet.inputShape(layer.input) : undefined;
    const shapeOk = entry && declared && entry.shape.join() === layer.shape.join() && declared.join() === layer.shape.join();
    if (!shapeOk) throw new PipelineError('MODEL_INVALID', `${dir}: adaptable layer ${layer.name} does not match the UNet input ${layer.input}`);
    return { name: layer.name, input: layer.input, shape: layer.shape, base: toFloat32(entry) };
  });
}

function latentChannelsOf(unet: OnnxComponent): number {
  const c = unet.inputShape('sample')[1];
  return typeof c === 'number' ? c : 4;
}

/** Loads tokenizer, scheduler config and the three ONNX sessions of a diffusers ONNX model. */
export async function loadModel(dir: string, settings: SessionSettings): Promise<LoadedModel> {
  const index = await readModelIndex(dir);
  const tokenizer = await ClipTokenizer.load(path.join(dir, 'tokenizer'));
  const scheduler = normaliseSchedulerConfig(await readJsonFile(path.join(dir, 'scheduler', 'scheduler_config.json'), {}));
  const textEncoder = await OnnxComponent.load(path.join(dir, 'text_encoder', 'model.onnx'), settings);
  const unet = await OnnxComponent.load(path.join(dir, 'unet', 'model.onnx'), settings);
  const vaeDecoder = await OnnxComponent.load(path.join(dir, 'vae_decoder', 'model.onnx'), settings);
  try {
    for (const input of ['sample', 'timestep', 'encoder_hidden_states']) unet.inputType(input);
    textEncoder.inputType('input_ids');
    vaeDecoder.inputType('latent_sample');
    const meta = index.atelier ?? {};
    return {
      dir, index, tokenizer, scheduler, textEncoder, unet, vaeDecoder,
      name: meta.name ?? path.basename(dir),
      scalingFactor: await scalingFactorOf(dir, index),
      latentChannels: latentChannelsOf(unet),
      preview: { factors: meta.latent_rgb_factors ?? SD1_LATENT_RGB_FACTORS, bias: meta.latent_rgb_bias ?? [0, 0, 0], maxSize: 64 },
      adaptable: await adaptableWeights(dir, index, unet),
      modelHash: (await hashModelDir(dir)).sha256,
      approxBytes: await componentBytes(dir),
    };
  } catch (err) {
    await Promise.all([textEncoder.release(), unet.release(), vaeDecoder.release()]);
    throw err;
  }
}
