import { parseLora } from '../lora/lora-file';
import { encodeLoraSafetensors, type LoraTargetWeights } from '../lora/writer';
import { SeededRandom } from '../pipeline/rng';
import { tf } from './tf';
import type { LoraPair } from './tiny-network';
import { TrainingError } from './types';

/** The adapted layers of one run: trainable pairs keyed by layer name, and their rank and alpha. */
export interface LoraState { pairs: Map<string, LoraPair>; rank: number; alpha: number }

/** One adaptable layer's sizes. */
export interface LayerShape { name: string; outFeatures: number; inFeatures: number }

function pair(up: Float32Array, down: Float32Array, layer: LayerShape, rank: number, alpha: number): LoraPair {
  return {
    up: tf.variable(tf.tensor2d(up, [layer.outFeatures, rank])),
    down: tf.variable(tf.tensor2d(down, [rank, layer.inFeatures])),
    scale: alpha / rank,
  };
}

/**
 * A fresh LoRA as kohya's networks start one: `down` uniform in ±1/√in
 * (PyTorch's kaiming_uniform with a = √5), `up` zero, so training starts
 * from exactly the base model. Drawn from `seed`.
 */
export function initialLora(layers: LayerShape[], rank: number, alpha: number, seed: number): LoraState {
  const rng = new SeededRandom(seed);
  const pairs = new Map<string, LoraPair>();
  for (const layer of layers) {
    const bound = 1 / Math.sqrt(layer.inFeatures);
    const down = Float32Array.from({ length: rank * layer.inFeatures }, () => (rng.next() * 2 - 1) * bound);
    pairs.set(layer.name, pair(new Float32Array(layer.outFeatures * rank), down, layer, rank, alpha));
  }
  return { pairs, rank, alpha };
}

/** The LoRA of a checkpoint, checked against the run's layers and rank. */
export function loraFromCheckpoint(bytes: Buffer, layers: LayerShape[], rank: number, alpha: number): LoraState {
  let file;
  try {
    file = parseLora('checkpoint', bytes);
  } catch (error) {
    throw new TrainingError('INVALID_SPEC', `resume: ${(error as Error).message}`, 'resume');
  }
  const pairs = new Map<string, LoraPair>();
  for (const layer of layers) {
    const delta = file.layers.get(layer.name);
    if (!delta || delta.rank !== rank || delta.outFeatures !== layer.outFeatures || delta.inFeatures !== layer.inFeatures) {
      throw new TrainingError('INVALID_SPEC', `resume: the checkpoint's ${layer.name} is not a rank-${rank} LoRA of this model`, 'resume');
    }
    pairs.set(layer.name, pair(delta.up, delta.down, layer, rank, alpha));
  }
  return { pairs, rank, alpha };
}

/** The trainable variables by a stable name (`<layer>.lora_up`, `<layer>.lora_down`), for the optimizer. */
export function loraVariables(state: LoraState): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [layer, p] of state.pairs) {
    out[`${layer}.lora_up`] = p.up;
    out[`${layer}.lora_down`] = p.down;
  }
  return out;
}

/** The LoRA as kohya-layout safetensors, what src/gpu-worker/lora/ loads. */
export async function encodeLora(state: LoraState, metadata: Record<string, string>): Promise<Buffer> {
  const targets: Record<string, LoraTargetWeights> = {};
  for (const [layer, p] of state.pairs) {
    targets[layer] = { up: await p.up.data() as Float32Array, down: await p.down.data() as Float32Array, rank: state.rank, alpha: state.alpha };
  }
  return encodeLoraSafetensors({ targets, metadata });
}

export function disposeLora(state: LoraState): void {
  for (const p of state.pairs.values()) tf.dispose([p.up, p.down]);
}
