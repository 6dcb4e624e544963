/**
 * Contracts about inference backends that the API and the workers share
 * (docs/backends.md): the health of one endpoint of a model's pool, as a
 * worker's circuit breaker sees it.
 */

/** A circuit breaker's state: CLOSED lets requests through, OPEN refuses them, HALF_OPEN lets one probe through. */
export type CircuitState = 'CLOSED' | 'HALF_OPEN' | 'OPEN';

/** The value of `atelier_backend_circuit_state` for each state. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

/** What workers report about one endpoint (base URL) of a model's pool. */
export interface EndpointHealth {
  /** The endpoint's base URL, as registered on the model. */
  url: string;
  state: CircuitState;
  /** Prompts this endpoint is running or holding for Atelier right now (summed over workers). */
  inFlight: number;
  /** The last transient failure seen, or null once a request succeeded after it. */
  lastError: string | null;
  /**
   * ISO time of the last request or probe that reached a verdict on the
   * endpoint (the report's own time before any); the health store drops
   * reports whose check is over a minute old.
   */
  lastCheckedAt: string;
}

/** The worse of two states: a breaker open on any worker is what an operator needs to see. */
export function worseCircuitState(a: CircuitState, b: CircuitState): CircuitState {
  return CIRCUIT_STATE_VALUE[a] >= CIRCUIT_STATE_VALUE[b] ? a : b;
}

/** One node of a workflow in ComfyUI's API format: `{ class_type, inputs }`; a link is `[nodeId, outputIndex]`. */
export interface ComfyNode {
  class_type: string;
  // `object` rather than a recursive JSON type: TypeORM's deep-partial types give up on recursion.
  inputs: { [name: string]: string | number | boolean | null | object };
  _meta?: { title?: string };
}

/** A workflow in ComfyUI's API format ("Save (API)"): node id → node. */
export type ComfyWorkflow = { [nodeId: string]: ComfyNode };
