import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { In, type DataSource } from 'typeorm';
import { AiModel, InferenceBackend as BackendKind } from '../../entities';
import { CIRCUIT_STATE_VALUE, type CircuitState, worseCircuitState } from '../../kernel/backends';
import { openCredential } from '../../kernel/credentials';
import type { Logger } from '../../observability/logger';
import type { WorkerMetrics } from '../../observability/metrics';
import type { WorkerBackendState } from '../../observability/worker-registry';
import { EndpointHealthStore } from '../../redis/endpoint-health';
import { logRedisErrors } from '../../redis/error-log';
import { BackendError } from './backend-error';
import { ComfyUiBackend } from './comfyui-backend';
import type { PoolObserver, ResiliencePolicy } from './endpoint-pool';
import type { BackendHealthReport, InferenceBackend } from './inference-backend';
import { OpenAiImagesBackend } from './openai-images-backend';

/** A backend reached over the network, with a pool and breakers. */
export interface RemoteBackend extends InferenceBackend {
  /** False while every endpoint's breaker is open and none may be probed yet. */
  available(): boolean;
  /** Probes endpoints whose breakers may half-open; true when one is closed. */
  recover(): Promise<boolean>;
  /** Probes every endpoint through its breaker (the periodic probe), each bounded by `timeoutMs`. */
  probe(timeoutMs: number): Promise<void>;
  /** Prepares what a job will use (ComfyUI's sockets) while its start transition runs; never throws. */
  warm(): void;
}

/** How long a model row is reused before it is read again: a registration or edit is live within this. */
const MODEL_CACHE_MS = 2000;
/** How often each endpoint's health is written for the API to read. */
const HEALTH_REPORT_EVERY_MS = 5000;

export interface RemoteBackendsOptions {
  db: DataSource;
  redis: Redis;
  prefix: string;
  workerId: string;
  policy: ResiliencePolicy;
  /** How often every endpoint of every enabled remote model is probed; 0: never (health then comes from jobs only). */
  probeEveryMs?: number;
  credentialKey: Buffer;
  metrics: WorkerMetrics;
  logger: Logger;
}

/**
 * The worker's view of the models table and the backends it builds from it.
 * Models are read per job (cached for two seconds), so a model registered or
 * edited through the API is served by every worker at once, without a
 * restart; a remote model's backend (its pool and breakers) is kept as long
 * as its configuration is unchanged. Endpoint health is written to Redis for
 * the API (`Model.endpoints`, systemStats) every few seconds and whenever a
 * breaker changes state. Every endpoint of every enabled remote model is
 * probed periodically, so health is known before the first job and stays
 * current while no jobs run (docs/backends.md, "Probes").
 */
export class RemoteBackends {
  private readonly models = new Map<string, { row: AiModel; readAt: number }>();
  private readonly backends = new Map<string, { fingerprint: string; backend: RemoteBackend }>();
  private readonly store: EndpointHealthStore;
  private timer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  /** Failed health writes, logged as Redis errors are: an outage once, then at most once a minute (redis/error-log.ts). */
  private readonly writeFailures = new EventEmitter();

  constructor(private readonly o: RemoteBackendsOptions) {
    this.store = new EndpointHealthStore(o.redis, o.prefix);
    logRedisErrors(this.writeFailures, o.logger, 'backend health not written');
  }

  /** The model row, read again when older than two seconds. */
  async model(id: string): Promise<AiModel> {
    const cached = this.models.get(id);
    if (cached && Date.now() - cached.readAt < MODEL_CACHE_MS) return cached.row;
    const row = await this.o.db.getRepository(AiModel).findOneByOrFail({ id });
    this.models.set(id, { row, readAt: Date.now() });
    return row;
  }

  /** The backend of a COMFYUI or OPENAI_IMAGES model, built on first use and rebuilt when its configuration changed. */
  backendFor(model: AiModel): RemoteBackend {
    const fingerprint = JSON.stringify([model.backend, model.endpoints, model.workflow, model.remoteModel, model.credentialCiphertext]);
    const known = this.backends.get(model.id);
    if (known?.fingerprint === fingerprint) return known.backend;
    const backend = this.build(model);
    this.backends.set(model.id, { fingerprint, backend });
    if (known) {
      // Its jobs in flight finish on it; then its sockets close.
      void known.backend.release();
      this.o.logger.info({ model: model.name }, 'model configuration changed: backend rebuilt');
    }
    return backend;
  }

  private build(model: AiModel): RemoteBackend {
    if (model.endpoints.length === 0) throw new BackendError('rejected', 'rejected', `Model ${model.name} has no endpoints`);
    const observer = this.observer(model);
    if (model.backend === BackendKind.COMFYUI) {
      if (!model.workflow) throw new BackendError('rejected', 'rejected', `ComfyUI model ${model.name} has no workflow`);
      return new ComfyUiBackend(model.name, model.workflow, model.endpoints, this.o.policy, observer);
    }
    if (model.backend === BackendKind.OPENAI_IMAGES) {
      return new OpenAiImagesBackend(model.name, model.remoteModel ?? model.name, model.endpoints, this.credential(model), this.o.policy, observer);
    }
    throw new BackendError('rejected', 'rejected', `Model ${model.name} is not a remote model`);
  }

  private credential(model: AiModel): string | null {
    if (!model.credentialCiphertext) return null;
    try {
      return openCredential(model.credentialCiphertext, this.o.credentialKey);
    } catch {
      throw new BackendError('rejected', 'rejected', `The credential of model ${model.name} cannot be opened with this ATELIER_CREDENTIAL_KEY: set it again`);
    }
  }

  private observer(model: AiModel): PoolObserver {
    const { metrics } = this.o;
    metrics.backendCircuit(model.backend, model.name, CIRCUIT_STATE_VALUE.CLOSED);
    return {
      attempt: (outcome, seconds) => metrics.backendRequest(model.backend, model.name, outcome, seconds),
      failure: (reason) => metrics.backendFailure(model.backend, model.name, reason),
      circuit: (state) => {
        metrics.backendCircuit(model.backend, model.name, state);
        void this.report();
      },
    };
  }

  /** What each remote backend this worker used says of its endpoints. */
  reports(): (BackendHealthReport & { modelId: string })[] {
    return [...this.backends.entries()].map(([modelId, { backend }]) => ({ modelId, ...backend.health() }));
  }

  /** Each remote backend's worst breaker state, for the heartbeat (systemStats) and /readyz. */
  states(): WorkerBackendState[] {
    return this.reports().map(({ model, backend, endpoints }) => ({
      model, backend, endpoints: endpoints.length, openEndpoints: endpoints.filter((e) => e.state === 'OPEN').length,
      state: endpoints.reduce<CircuitState>((worst, e) => worseCircuitState(worst, e.state), 'CLOSED'),
    }));
  }

  /** Writes every report to the health store; failures are logged, never thrown. */
  async report(): Promise<void> {
    await Promise.all(this.reports().map((report) => this.store.write(report.modelId, this.o.workerId, report.endpoints)))
      .catch((err: unknown) => void this.writeFailures.emit('error', err));
  }

  /** Tells the API that jobs of `modelId` wait for its backend (ETA and "waiting for …"). */
  markWaiting(modelId: string, backend: BackendKind, forMs: number): Promise<void> {
    return this.store.markWaiting(modelId, backend, forMs);
  }

  /**
   * Probes every endpoint of every enabled remote model through its pool's
   * breakers, then writes the health. A round still running when the next is
   * due is not doubled; failures are logged, never thrown.
   */
  probeAll(): Promise<void> {
    this.probing ??= this.probeRound().finally(() => { this.probing = null; });
    return this.probing;
  }

  private async probeRound(): Promise<void> {
    try {
      const rows = await this.o.db.getRepository(AiModel).findBy({ enabled: true, backend: In([BackendKind.COMFYUI, BackendKind.OPENAI_IMAGES]) });
      await Promise.all(rows.map((row) => this.probeModel(row)));
      await this.report();
    } catch (err) {
      this.o.logger.warn({ err }, 'backend probe round failed');
    }
  }

  private async probeModel(row: AiModel): Promise<void> {
    this.models.set(row.id, { row, readAt: Date.now() });
    let backend: RemoteBackend;
    try {
      backend = this.backendFor(row);
    } catch (err) {
      // A model its jobs cannot use either (no endpoints, a credential sealed under another key): they fail saying why.
      return this.o.logger.debug({ err, model: row.name }, 'remote model not probed');
    }
    // A probe answers fast or not at all: it never waits longer than the interval or a request's timeout.
    await backend.probe(Math.min(this.o.policy.timeoutMs, this.o.probeEveryMs || this.o.policy.timeoutMs));
  }

  start(): void {
    this.timer = setInterval(() => void this.report(), HEALTH_REPORT_EVERY_MS);
    this.timer.unref();
    if (!this.o.probeEveryMs) return;
    this.probeTimer = setInterval(() => void this.probeAll(), this.o.probeEveryMs);
    this.probeTimer.unref();
    void this.probeAll();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.timer = null;
    this.probeTimer = null;
    await this.probing;
    await Promise.all(this.reports().map((report) => this.store.remove(report.modelId, this.o.workerId, report.endpoints.map((e) => e.url))))
      .catch(() => undefined);
    for (const { backend } of this.backends.values()) void backend.release();
  }
}
