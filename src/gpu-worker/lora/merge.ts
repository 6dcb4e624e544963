import { PipelineError } from '../pipeline/errors';
import { layerKey, type LoraFile } from './lora-file';

/** A model weight that LoRAs may adapt; `base` is [out, in(, 1, 1)] row-major. */
export interface AdaptableWeight { name: string; input: string; shape: readonly number[]; base: Float32Array }

/** One LoRA to merge and its strength. */
export interface WeightedLora { name: string; file: LoraFile; weight: number }

/**
 * Computes W + Σ weight·(alpha/rank)·(up·down) for every adapted layer, in
 * the order the LoRAs are given (so the float sums are reproducible).
 * Returns only the changed weights, keyed by graph input name. Every layer a
 * LoRA names must exist in the model with matching in/out sizes.
 */
export function mergeLoras(weights: readonly AdaptableWeight[], loras: readonly WeightedLora[]): Map<string, Float32Array> {
  const byKey = new Map(weights.map((w) => [layerKey(w.name), w]));
  const merged = new Map<string, Float32Array>();
  for (const lora of loras) {
    for (const delta of lora.file.layers.values()) {
      const target = byKey.get(delta.layer);
      if (!target) {
        throw new PipelineError('LORA_MISMATCH', `LoRA ${lora.name} adapts ${delta.layer}, which this model does not have (adaptable: ${[...byKey.keys()].join(', ')})`);
      }
      const [out, inp] = target.shape;
      if (delta.outFeatures !== out || delta.inFeatures !== inp) {
        throw new PipelineError('LORA_MISMATCH', `LoRA ${lora.name} layer ${delta.layer} is ${delta.outFeatures}x${delta.inFeatures}, the model's is ${out}x${inp}`);
      }
      if (lora.weight === 0) continue;
      const w = merged.get(target.input) ?? Float32Array.from(target.base);
      addLowRank(w, delta.up, delta.down, out, inp, delta.rank, (lora.weight * delta.alpha) / delta.rank);
      merged.set(target.input, w);
    }
  }
  return merged;
}

/** w[o, i] += scale · Σ_r up[o, r] · down[r, i]. */
function addLowRank(w: Float32Array, up: Float32Array, down: Float32Array, out: number, inp: number, rank: number, scale: number): void {
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inp; i++) {
      let sum = 0;
      for (let r = 0; r < rank; r++) sum += up[o * rank + r] * down[r * inp + i];
      w[o * inp + i] += scale * sum;
    }
  }
}
