import { writeFile } from 'node:fs/promises';
import { writeSafetensors, type Float32TensorData } from './safetensors';

/** One layer of a LoRA to write: up is [out, rank], down is [rank, in], row-major. */
export interface LoraTargetWeights { up: Float32Array; down: Float32Array; rank: number; alpha: number }

/** A model layer a LoRA can adapt, as {@link describeLoraTargets} reports it. */
export interface LoraTargetInfo { name: string; shape: number[]; outFeatures: number; inFeatures: number }

/**
 * Encodes a kohya-style LoRA (`lora_unet_<layer>.lora_up.weight`, `.lora_down.weight`,
 * `.alpha`) as safetensors bytes, with optional string metadata (kohya's `ss_*` keys).
 * The local trainer writes its LoRAs with it; tests and benchmarks use it for
 * a valid LoRA for the tiny model.
 */
export function encodeLoraSafetensors(spec: { targets: Record<string, LoraTargetWeights>; metadata?: Record<string, string> }): Buffer {
  const tensors: Record<string, Float32TensorData> = {};
  for (const [layer, t] of Object.entries(spec.targets)) {
    if (t.up.length % t.rank !== 0 || t.down.length % t.rank !== 0) throw new Error(`layer ${layer}: sizes are not multiples of rank ${t.rank}`);
    const key = `lora_unet_${layer.replace(/\./g, '_')}`;
    tensors[`${key}.lora_up.weight`] = { shape: [t.up.length / t.rank, t.rank], data: t.up };
    tensors[`${key}.lora_down.weight`] = { shape: [t.rank, t.down.length / t.rank], data: t.down };
    tensors[`${key}.alpha`] = { shape: [], data: Float32Array.of(t.alpha) };
  }
  return writeSafetensors(tensors, { ...spec.metadata, format: 'pt' });
}

/** Writes {@link encodeLoraSafetensors}'s bytes to `path`. */
export async function writeLoraSafetensors(path: string, spec: { targets: Record<string, LoraTargetWeights> }): Promise<void> {
  await writeFile(path, encodeLoraSafetensors(spec));
}

/** Lists the layers of a loaded pipeline that LoRAs can adapt (empty when it supports none). */
export function describeLoraTargets(pipeline: { loraTargets: ReadonlyArray<{ name: string; shape: readonly number[] }> }): LoraTargetInfo[] {
  return pipeline.loraTargets.map((t) => ({ name: t.name, shape: [...t.shape], outFeatures: t.shape[0], inFeatures: t.shape[1] }));
}
