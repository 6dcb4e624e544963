/** LoRA support: safetensors parsing, LoRA files, merging into adaptable weights. */
export { parseSafetensors, writeSafetensors, toFloat32, SafetensorsError, type SafetensorsFile, type SafetensorsEntry } from './safetensors';
export { parseLora, LoraLoader, layerKey, type LoraFile, type LoraLayerDelta } from './lora-file';
export { mergeLoras, type AdaptableWeight, type WeightedLora } from './merge';
export { writeLoraSafetensors, describeLoraTargets, type LoraTargetWeights, type LoraTargetInfo } from './writer';
