import type { CircuitState, InferenceBackend } from '../gql/graphql';

/** How the UI names each backend ("waiting for ComfyUI"). */
export const BACKEND_LABELS: Record<InferenceBackend, string> = {
  ONNX: 'ONNX (built in)',
  COMFYUI: 'ComfyUI',
  OPENAI_IMAGES: 'OpenAI Images',
};

/** A pool's health in one word, from its endpoints' breakers. */
export type PoolHealth = 'healthy' | 'degraded' | 'down' | 'unknown' | 'local';

/**
 * `down`: every endpoint's breaker is open (jobs wait); `degraded`: some are
 * open or probing; `unknown`: no worker has reported in the last minute.
 */
export function poolHealth(endpoints: { health?: { state: CircuitState } | null }[] | null | undefined): PoolHealth {
  if (!endpoints || endpoints.length === 0) return 'local';
  const states = endpoints.map((e) => e.health?.state);
  if (states.every((s) => s === undefined)) return 'unknown';
  if (states.every((s) => s === 'OPEN')) return 'down';
  if (states.every((s) => s === 'CLOSED')) return 'healthy';
  return 'degraded';
}
