import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KNOWN_OPERATIONS } from './known-operations';

/** Queue states exported as `atelier_queue_jobs{state}`. BullMQ's `prioritized` counts as waiting. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** Reads the queue's job counts at scrape time (BullMQ `getJobCounts`). */
export type QueueCounter = () => Promise<Record<QueueState, number>>;

/** Live WebSocket numbers, read at scrape time from the ws server's own bookkeeping. */
export interface WebSocketStats {
  connections(): number;
  subscriptions(): number;
  activeSessions(): number;
}

/** Seconds buckets for whole jobs: tiny CPU models finish in well under a second, big GPU jobs in minutes. */
const JOB_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
const STEP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];


/**
 * Every metric Atelier exports, on one registry per process (not the global
 * default registry, so several apps in one test process never collide).
 * The API serves it on `/metrics`; a standalone worker serves it on
 * `ATELIER_METRICS_PORT`.
 */
export class AtelierMetrics {
  readonly registry = new Registry();

  readonly graphqlOperations = new Counter({
    name: 'atelier_graphql_operations_total',
    help: 'GraphQL operations by operation name, type (query, mutation, subscription) and outcome (ok, error)',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly graphqlDuration = new Histogram({
    name: 'atelier_graphql_operation_duration_seconds',
    help: 'Time from receiving a GraphQL operation to sending its response',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });

  readonly refusals = new Counter({
    name: 'atelier_refusals_total',
    help: 'Requests refused by a limit: quota (QUOTA_EXCEEDED), rate (RATE_LIMITED), query cost (QUERY_TOO_COMPLEX), size (PAYLOAD_TOO_LARGE)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'atelier_errors_total',
    help: 'Errors answered to clients, by transport (http, ws, rest) and code (the extensions.code the client saw)',
    labelNames: ['transport', 'code'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'atelier_job_duration_seconds',
    help: 'Wall time of a generation job on a worker, from start to final state',
    labelNames: ['model', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly jobFailures = new Counter({
    name: 'atelier_job_failures_total',
    help: 'Generation jobs that failed, by reason (error code)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly jobsInProgress = new Gauge({
    name: 'atelier_jobs_in_progress',
    help: 'Generation jobs this worker is running now',
    registers: [this.registry],
  });

  readonly stepDuration = new Histogram({
    name: 'atelier_step_duration_seconds',
    help: 'Time of one denoising step (all images of the job in the batch)',
    labelNames: ['model'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });

  readonly modelLoadDuration = new Histogram({
    name: 'atelier_model_load_duration_seconds',
    help: 'Time to load a model into the pipeline cache',
    labelNames: ['model', 'provider'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly trainingRuns = new Counter({
    name: 'atelier_training_runs_total',
    help: 'LoRA training runs that ended on this worker, by outcome (completed, failed, cancelled, handed-back)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly trainingStepsPerSecond = new Gauge({
    name: 'atelier_training_steps_per_second',
    help: 'Optimizer steps per second of each training run running on this worker (series removed when the run stops here)',
    labelNames: ['run'] as const,
    registers: [this.registry],
  });

  readonly trainingLoss = new Gauge({
    name: 'atelier_training_loss',
    help: 'Loss at the last step of each training run running on this worker (series removed when the run stops here)',
    labelNames: ['run'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'atelier_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, failed, gone, gave_up)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: 'atelier_webhook_delivery_duration_seconds',
    help: 'Time for an integrator endpoint to answer a webhook delivery',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly backendRequests = new Counter({
    name: 'atelier_backend_requests_total',
    help: 'Generations sent to a remote inference backend (one per endpoint tried), by outcome (completed, rejected, failed, unavailable, cancelled)',
    labelNames: ['backend', 'model', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly backendDuration = new Histogram({
    name: 'atelier_backend_request_duration_seconds',
    help: 'Time one endpoint of a remote backend took for a generation, from submit to images fetched',
    labelNames: ['backend', 'model'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly backendFailures = new Counter({
    name: 'atelier_backend_failures_total',
    help: 'Failures of a remote backend, by reason (connection, http_5xx, timeout, socket_closed, rejected, execution_error, circuit_open, bad_response)',
    labelNames: ['backend', 'model', 'reason'] as const,
    registers: [this.registry],
  });

  readonly backendCircuitState = new Gauge({
    name: 'atelier_backend_circuit_state',
    help: 'Worst circuit breaker state over the endpoints of a model on this worker: 0 closed, 1 half-open, 2 open',
    labelNames: ['backend', 'model'] as const,
    registers: [this.registry],
  });

  constructor(options: { role: string; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ role: options.role });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'atelier_' });
  }

  /** Exports `atelier_queue_jobs{state}`, read from the queue when scraped. */
  observeQueue(count: QueueCounter): void {
    new Gauge({
      name: 'atelier_queue_jobs',
      help: 'Generation jobs in the queue by state (every API replica reports the same shared queue: aggregate with max)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await count();
        for (const state of QUEUE_STATES) this.set({ state }, counts[state]);
      },
    });
  }

  /**
   * Exports `atelier_workers_online`: workers whose Redis heartbeat is under
   * 30 s old, read when scraped. Every API replica sees the same registry
   * (aggregate with max); it reaches 0 even when the workers' own scrape
   * targets vanish from DNS instead of going down.
   */
  observeWorkers(count: () => Promise<number>): void {
    new Gauge({
      name: 'atelier_workers_online',
      help: 'Generation workers with a heartbeat in Redis under 30 s old (every API replica reports the same: aggregate with max)',
      registers: [this.registry],
      async collect() {
        this.set(await count());
      },
    });
  }

  /** Ends of jobs and runs this process owes since an outage (OwedEnds): above 0 for long, their listeners still wait. */
  observeOwedEnds(count: () => { jobs: number; runs: number }): void {
    new Gauge({
      name: 'atelier_ends_owed',
      help: 'Final events of jobs and training runs this process could not tell (an outage) and tells again until told',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const owed = count();
        this.set({ kind: 'job' }, owed.jobs);
        this.set({ kind: 'training' }, owed.runs);
      },
    });
  }

  /** Exports WebSocket connections, active subscriptions and sessions being watched on this replica. */
  observeWebSockets(stats: WebSocketStats): void {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    gauge('atelier_websocket_connections', 'Open graphql-ws connections on this replica', () => stats.connections());
    gauge('atelier_websocket_subscriptions', 'Active graphql-ws operations (subscriptions) on this replica', () => stats.subscriptions());
    gauge('atelier_active_sessions', 'Collaborative sessions with at least one live sessionEvents subscriber on this replica', () => stats.activeSessions());
  }

  /**
   * The `operation` label. Operation names are free text chosen by callers,
   * so only the names the client ships are labels (KNOWN_OPERATIONS); any
   * other operation is labelled by its root field, which validation has
   * checked against the schema, or `other`. The label set is bounded by the
   * client and the schema, and made-up names cannot displace real ones.
   */
  operationLabel(name: string | null | undefined, rootField?: string | null): string {
    if (name && KNOWN_OPERATIONS.has(name)) return name;
    return rootField ?? 'other';
  }

  /** Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** What the generation worker reports; a no-op stands in when no metrics are wired. */
export interface WorkerMetrics {
  jobStarted(): void;
  /** `outcome`: completed, failed, cancelled or handed-back. */
  jobFinished(model: string, outcome: string, seconds: number): void;
  jobFailed(reason: string): void;
  step(model: string, seconds: number): void;
  modelLoaded(model: string, provider: string, seconds: number): void;
  /** One generation on one endpoint of a remote backend ended with `outcome`. */
  backendRequest(backend: string, model: string, outcome: string, seconds: number): void;
  backendFailure(backend: string, model: string, reason: string): void;
  /** 0 closed, 1 half-open, 2 open (kernel/backends.ts CIRCUIT_STATE_VALUE). */
  backendCircuit(backend: string, model: string, state: number): void;
}

/** Binds the worker's reports to the metric objects. */
export function workerMetricsOf(metrics: AtelierMetrics): WorkerMetrics {
  return {
    jobStarted: () => metrics.jobsInProgress.inc(),
    jobFinished: (model, outcome, seconds) => {
      metrics.jobsInProgress.dec();
      metrics.jobDuration.observe({ model, outcome }, seconds);
    },
    jobFailed: (reason) => metrics.jobFailures.inc({ reason }),
    step: (model, seconds) => metrics.stepDuration.observe({ model }, seconds),
    modelLoaded: (model, provider, seconds) => metrics.modelLoadDuration.observe({ model, provider }, seconds),
    backendRequest: (backend, model, outcome, seconds) => {
      metrics.backendRequests.inc({ backend, model, outcome });
      metrics.backendDuration.observe({ backend, model }, seconds);
    },
    backendFailure: (backend, model, reason) => metrics.backendFailures.inc({ backend, model, reason }),
    backendCircuit: (backend, model, state) => metrics.backendCircuitState.set({ backend, model }, state),
  };
}

/** For workers built without metrics (unit tests, tools). */
export const NO_WORKER_METRICS: WorkerMetrics = {
  jobStarted: () => undefined,
  jobFinished: () => undefined,
  jobFailed: () => undefined,
  step: () => undefined,
  modelLoaded: () => undefined,
  backendRequest: () => undefined,
  backendFailure: () => undefined,
  backendCircuit: () => undefined,
};

/** What the training worker reports (docs/training.md, "Metrics"). Run ids label only runs in progress here, so the series stay few. */
export interface TrainingMetrics {
  progress(runId: string, stepsPerSecond: number, loss: number): void;
  /** `outcome`: completed, failed, cancelled or handed-back. */
  runEnded(runId: string, outcome: string): void;
}

export function trainingMetricsOf(metrics: AtelierMetrics): TrainingMetrics {
  return {
    progress: (run, stepsPerSecond, loss) => {
      metrics.trainingStepsPerSecond.set({ run }, stepsPerSecond);
      metrics.trainingLoss.set({ run }, loss);
    },
    runEnded: (run, outcome) => {
      metrics.trainingRuns.inc({ outcome });
      metrics.trainingStepsPerSecond.remove({ run });
      metrics.trainingLoss.remove({ run });
    },
  };
}

export const NO_TRAINING_METRICS: TrainingMetrics = { progress: () => undefined, runEnded: () => undefined };
