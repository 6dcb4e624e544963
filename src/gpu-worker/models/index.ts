/** Model discovery (registry) and loaded-model LRU cache. */
export { ModelRegistry, type ModelInfo } from './registry';
export { PipelineCache, type PipelineCacheOptions } from './pipeline-cache';
