import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelProto } from '../onnx/proto';
import { gaussianKernel } from '../onnx/layers';
import { TINY_MODEL_NAME, TINY_PALETTE, TINY_UNET_SHAPE } from '../onnx/tiny-model/index';
import { timestepTables } from '../onnx/tiny-model/unet';
import { parseSafetensors, toFloat32 } from '../lora/safetensors';
import { readJsonFile, readModelIndex } from '../pipeline/model-files';
import { alphasCumprod, normaliseSchedulerConfig } from '../pipeline/scheduler';
import { TrainingError } from './types';

/**
 * The tiny model's weights as the trainer's tfjs forward pass needs them:
 * read from the model folder (the ONNX initializers, lora_base.safetensors,
 * scheduler_config.json), with the fixed shape constants its builder used.
 */

/** A row-major matrix [rows, cols]. */
export interface Matrix { rows: number; cols: number; data: Float32Array }

/** The UNet's text-target network and its analytic denoiser tables. */
export interface TinyUnetWeights {
  gateProj: Matrix;
  coordConv: Matrix;
  coordBias: Float32Array;
  /** Base values of the LoRA-adaptable layers, by layer name (cond_proj, mid_conv, out_conv), as [out, in]. */
  adaptable: Map<string, Matrix>;
  invSqrtAbar: Float32Array;
  invSigma: Float32Array;
  keep: Float32Array;
  /** ᾱ per training timestep (the noise schedule training samples from). */
  alphasCumprod: Float64Array;
  blurKernel: Float32Array;
}

/** The VAE decoder's palette and texture network (palette weights already in radians, as in the ONNX file). */
export interface TinyDecoderWeights {
  paletteLatent: Matrix; palettePhase: Float32Array; palettePosition: Matrix;
  texture1Latent: Matrix; texture1Bias: Float32Array; texture1Coords: Matrix;
  texture2: Matrix; texture2Bias: Float32Array; texture3: Matrix;
  amplitude: number[]; offset: number[]; vignette: number;
}

export interface TinyWeights { unet: TinyUnetWeights; decoder: TinyDecoderWeights; hiddenSize: number }

interface TensorMessage { name: string; dims: Array<number | { toNumber(): number }>; dataType: number; rawData: Uint8Array }

/** The float initializers of an ONNX file, by name. */
async function initializers(file: string): Promise<Map<string, { dims: number[]; data: Float32Array }>> {
  const model = ModelProto.decode(await readFile(file)) as unknown as { graph: { initializer: TensorMessage[] } };
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of model.graph.initializer) {
    if (t.dataType !== 1 || !t.name) continue;
    const bytes = Uint8Array.from(t.rawData);
    out.set(t.name, { dims: t.dims.map(Number), data: new Float32Array(bytes.buffer, 0, bytes.length / 4) });
  }
  return out;
}

function pick(found: Map<string, { dims: number[]; data: Float32Array }>, name: string): { dims: number[]; data: Float32Array } {
  const t = found.get(name);
  if (!t) throw new TrainingError('UNSUPPORTED_MODEL', `the model's ONNX file lacks the weight ${name}`);
  return t;
}

function matrix(found: Map<string, { dims: number[]; data: Float32Array }>, name: string): Matrix {
  const { dims, data } = pick(found, name);
  return { rows: dims[0], cols: data.length / dims[0], data };
}

async function adaptableLayers(modelDir: string, layers: Array<{ name: string; input: string }>, file: string): Promise<Map<string, Matrix>> {
  const base = parseSafetensors(await readFile(path.join(modelDir, file)));
  const out = new Map<string, Matrix>();
  for (const layer of layers) {
    const entry = base.tensors.get(layer.input);
    if (!entry) throw new TrainingError('UNSUPPORTED_MODEL', `${file} lacks ${layer.input}`);
    const data = toFloat32(entry);
    out.set(layer.name, { rows: entry.shape[0], cols: data.length / entry.shape[0], data });
  }
  return out;
}

/**
 * Loads the weights of a model folder built by scripts/build-model.ts.
 * Throws UNSUPPORTED_MODEL for any other model: its forward pass is not the
 * tiny model's, so the command trainer is the way to train it.
 */
export async function loadTinyWeights(modelDir: string): Promise<TinyWeights> {
  const index = await readModelIndex(modelDir).catch(() => undefined);
  const meta = index?.atelier;
  if (meta?.name !== TINY_MODEL_NAME || !meta.lora_base || !meta.lora_layers?.length) {
    throw new TrainingError('UNSUPPORTED_MODEL', `the local trainer trains only the bundled ${TINY_MODEL_NAME} model; ${modelDir} is not it (use the command trainer)`, 'modelDir');
  }
  const unetInit = await initializers(path.join(modelDir, 'unet', 'model.onnx'));
  const vaeInit = await initializers(path.join(modelDir, 'vae_decoder', 'model.onnx'));
  const scheduler = normaliseSchedulerConfig(await readJsonFile(path.join(modelDir, 'scheduler', 'scheduler_config.json'), {}));
  const abar = alphasCumprod(scheduler);
  const blurKernel = gaussianKernel(TINY_UNET_SHAPE.blurSigma, TINY_UNET_SHAPE.blurTaps);
  const tables = timestepTables({ ...TINY_UNET_SHAPE, alphasCumprod: abar }, blurKernel);
  const unet: TinyUnetWeights = {
    gateProj: matrix(unetInit, 'gate_proj.weight'),
    coordConv: matrix(unetInit, 'coord_conv.weight'),
    coordBias: pick(unetInit, 'coord_conv.bias').data,
    adaptable: await adaptableLayers(modelDir, meta.lora_layers, meta.lora_base),
    ...tables,
    alphasCumprod: abar,
    blurKernel,
  };
  const decoder: TinyDecoderWeights = {
    paletteLatent: matrix(vaeInit, 'palette.latent.weight'),
    palettePhase: pick(vaeInit, 'palette.phase').data,
    palettePosition: matrix(vaeInit, 'palette.position.weight'),
    texture1Latent: matrix(vaeInit, 'texture1.latent.weight'),
    texture1Bias: pick(vaeInit, 'texture1.bias').data,
    texture1Coords: matrix(vaeInit, 'texture1.coords.weight'),
    texture2: matrix(vaeInit, 'texture2.weight'),
    texture2Bias: pick(vaeInit, 'texture2.bias').data,
    texture3: matrix(vaeInit, 'texture3.weight'),
    amplitude: TINY_PALETTE.amplitude, offset: TINY_PALETTE.offset, vignette: TINY_PALETTE.vignette,
  };
  return { unet, decoder, hiddenSize: unet.gateProj.cols };
}
