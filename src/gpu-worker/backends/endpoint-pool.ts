import {
  BrokenCircuitError, circuitBreaker, CircuitState as Breaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { CIRCUIT_STATE_VALUE, type CircuitState, type EndpointHealth } from '../../kernel/backends';
import { PipelineAbortedError } from '../pipeline/errors';
import { BackendError } from './backend-error';

/** The resilience policy of every remote backend (docs/backends.md, "Resilience"). */
export interface ResiliencePolicy {
  /** Bound of one HTTP call, and of silence on a ComfyUI socket mid-run. */
  timeoutMs: number;
  /** Attempts of one job over the pool (the first included) before it fails BACKEND_UNAVAILABLE. */
  attempts: number;
  /** First retry delay; later ones grow exponentially, with decorrelated jitter. */
  backoffMs: number;
  /** Consecutive transient failures that open an endpoint's breaker. */
  breakerFailures: number;
  /** How long a breaker stays open before one probe may close it again. */
  halfOpenAfterMs: number;
}

/** Observers of what the pool does, for the metrics. */
export interface PoolObserver {
  attempt(outcome: string, seconds: number): void;
  failure(reason: string): void;
  circuit(state: number): void;
}

const STATE_NAME: Record<Breaker, CircuitState> = {
  [Breaker.Closed]: 'CLOSED', [Breaker.HalfOpen]: 'HALF_OPEN', [Breaker.Open]: 'OPEN', [Breaker.Isolated]: 'OPEN',
};

/** One endpoint of the pool: its breaker (cockatiel) and what the health store shows of it. */
class Slot<E> {
  inFlight = 0;
  /** The last transient failure's detail, URL included: only admins see endpoint health. */
  lastError: string | null = null;
  /** When a request or probe last reached a verdict on this endpoint (ms), null before any. */
  checkedAt: number | null = null;
  /** A probe of this endpoint is under way: the next round skips it rather than piling up. */
  probing = false;
  openedAt = 0;
  readonly breaker: CircuitBreakerPolicy;

  constructor(readonly url: string, readonly endpoint: E, policy: ResiliencePolicy, onChange: () => void) {
    this.breaker = circuitBreaker(handleWhen((error) => error instanceof BackendError && error.transient), {
      halfOpenAfter: policy.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(policy.breakerFailures),
    });
    this.breaker.onStateChange((state) => {
      if (state === Breaker.Open) this.openedAt = Date.now();
      onChange();
    });
  }

  get state(): CircuitState {
    return STATE_NAME[this.breaker.state];
  }

  checked(error: string | null): void {
    this.lastError = error;
    this.checkedAt = Date.now();
  }
}

/**
 * The endpoints of one model (several GPU boxes). Each job goes to the
 * endpoint with a closed breaker and the fewest prompts in flight; a
 * transient failure is retried, with exponential backoff and jitter, on
 * another endpoint where there is one. Breakers, timeouts and retries are
 * cockatiel's; this class only chooses endpoints and keeps the counts.
 */
export class EndpointPool<E> {
  private readonly slots: Slot<E>[];

  constructor(endpoints: readonly { url: string; endpoint: E }[], private readonly policy: ResiliencePolicy, private readonly observer: PoolObserver) {
    this.slots = endpoints.map(({ url, endpoint }) => new Slot(url, endpoint, policy, () => this.observer.circuit(this.worstStateValue())));
  }

  /**
   * Runs `work` on the best endpoint, retrying transient failures elsewhere.
   * Once the attempts are spent (or every breaker is open) it throws a
   * transient BackendError naming the last failure (its message for the job,
   * its detail for the log); rejections, failures and aborts pass through at
   * once.
   */
  async run<T>(backendName: string, work: (endpoint: E, url: string) => Promise<T>, signal: AbortSignal): Promise<T> {
    let last: Slot<E> | null = null;
    let lastError: unknown = null;
    let tried = 0; // attempts that reached an endpoint; a retry finding every breaker open reaches none
    const policy = retry(handleWhen((error) => (error instanceof BackendError && error.transient) || error instanceof BrokenCircuitError), {
      maxAttempts: this.policy.attempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: this.policy.backoffMs, maxDelay: this.policy.backoffMs * 16 }),
    });
    try {
      return await policy.execute(async () => {
        const slot = this.choose(last);
        if (!slot) {
          this.observer.failure('circuit_open');
          throw new BrokenCircuitError();
        }
        last = slot;
        tried += 1;
        try {
          return await this.attempt(slot, work, signal);
        } catch (error) {
          lastError = error;
          throw error;
        }
      }, signal);
    } catch (error) {
      if (signal.aborted) throw new PipelineAbortedError();
      if (!(error instanceof BrokenCircuitError) && !(error instanceof BackendError && error.transient)) throw error;
      const last = lastError instanceof BackendError ? lastError : null;
      const open = 'every endpoint\'s circuit breaker is open';
      const spent = `${backendName} unavailable after ${tried} attempt${tried === 1 ? '' : 's'}`;
      throw new BackendError('transient', 'circuit_open', `${spent}: ${last?.message ?? open}`, { cause: error, detail: `${spent}: ${last?.detail ?? open}` });
    }
  }

  private async attempt<T>(slot: Slot<E>, work: (endpoint: E, url: string) => Promise<T>, signal: AbortSignal): Promise<T> {
    const started = Date.now();
    slot.inFlight += 1;
    try {
      const result = await slot.breaker.execute(() => work(slot.endpoint, slot.url), signal);
      slot.checked(null);
      this.observer.attempt('completed', (Date.now() - started) / 1000);
      return result;
    } catch (error) {
      this.record(slot, error, started);
      throw error;
    } finally {
      slot.inFlight -= 1;
    }
  }

  private record(slot: Slot<E>, error: unknown, started: number): void {
    const seconds = (Date.now() - started) / 1000;
    if (error instanceof PipelineAbortedError) return this.observer.attempt('cancelled', seconds);
    if (error instanceof BrokenCircuitError) return this.observer.failure('circuit_open');
    if (error instanceof BackendError) {
      if (error.transient) slot.checked(error.detail);
      this.observer.failure(error.reason);
      return this.observer.attempt(error.transient ? 'unavailable' : error.kind, seconds);
    }
    this.observer.attempt('failed', seconds);
  }

  /**
   * The endpoint for the next attempt: a closed breaker with the fewest in
   * flight, avoiding the one that just failed while another is usable; else
   * one whose breaker may half-open now; null when every breaker is open.
   */
  private choose(avoid: Slot<E> | null): Slot<E> | null {
    const usable = this.slots.filter((slot) => slot.state === 'CLOSED');
    const preferred = usable.filter((slot) => slot !== avoid);
    const pool = preferred.length ? preferred : usable;
    if (pool.length) return pool.reduce((best, slot) => (slot.inFlight < best.inFlight ? slot : best));
    return this.slots.find((slot) => this.mayProbe(slot)) ?? null;
  }

  private mayProbe(slot: Slot<E>): boolean {
    return slot.state === 'HALF_OPEN' || (slot.state === 'OPEN' && Date.now() - slot.openedAt >= this.policy.halfOpenAfterMs);
  }

  /** Calls `prepare` on each endpoint a job may go to now (closed breaker): set-up that can overlap the job's start. */
  prepare(prepare: (endpoint: E) => void): void {
    for (const slot of this.slots) if (slot.state === 'CLOSED') prepare(slot.endpoint);
  }

  /** Calls `each` on every endpoint (to release what they hold). */
  forEach(each: (endpoint: E) => void): void {
    for (const slot of this.slots) each(slot.endpoint);
  }

  /** False while every endpoint's breaker is open and none may be probed yet: jobs should wait. */
  get available(): boolean {
    return this.slots.some((slot) => slot.state === 'CLOSED' || this.mayProbe(slot));
  }

  /**
   * Probes (through their breakers) the endpoints whose breakers may
   * half-open, so a recovered server closes its breaker without a job being
   * spent on the probe. True when some endpoint is closed afterwards.
   */
  async recover(probe: (endpoint: E, signal: AbortSignal) => Promise<void>): Promise<boolean> {
    const due = this.slots.filter((slot) => slot.state !== 'CLOSED' && this.mayProbe(slot));
    // A server that answers at all, even "not found", is alive: only transient failures keep the breaker open.
    const alive = (endpoint: E, signal: AbortSignal) => probe(endpoint, signal).catch((error) => {
      if (!(error instanceof BackendError) || error.transient) throw error;
    });
    const probes = Promise.all(due.map((slot) => slot.breaker.execute(({ signal }) => alive(slot.endpoint, signal)).then(() => slot.checked(null), (error) => {
      if (error instanceof BackendError) slot.checked(error.detail);
    })));
    // With a closed endpoint at hand the job need not wait for the probes of the others.
    if (!this.slots.some((slot) => slot.state === 'CLOSED')) await probes;
    return this.slots.some((slot) => slot.state === 'CLOSED');
  }

  /**
   * Checks every endpoint through its own breaker, exactly as a job's request
   * goes through it (docs/backends.md, "Probes"): a transient failure counts
   * towards opening it, a success resets the count, and once an open breaker
   * may half-open the probe is its trial, so a recovered server closes
   * without a job being spent on it. A breaker still open refuses the probe,
   * as it refuses jobs (and the endpoint counts as checked: still open). A
   * server that answers at all is alive, as in `recover`.
   */
  async probe(check: (endpoint: E, signal: AbortSignal) => Promise<void>): Promise<void> {
    await Promise.all(this.slots.filter((slot) => !slot.probing).map(async (slot) => {
      slot.probing = true;
      try {
        await slot.breaker.execute(({ signal }) => check(slot.endpoint, signal).catch((error) => {
          if (!(error instanceof BackendError) || error.transient) throw error;
        }));
        slot.checked(null);
      } catch (error) {
        if (error instanceof BackendError) slot.checked(error.detail);
        // The breaker's own verdict (still open, its trial not due yet) is a check too: the report stays fresh.
        if (error instanceof BrokenCircuitError) slot.checked(slot.lastError);
      } finally {
        slot.probing = false;
      }
    }));
  }

  health(): EndpointHealth[] {
    const now = Date.now();
    return this.slots.map((slot) => ({
      url: slot.url, state: slot.state, inFlight: slot.inFlight, lastError: slot.lastError,
      lastCheckedAt: new Date(slot.checkedAt ?? now).toISOString(),
    }));
  }

  private worstStateValue(): number {
    return Math.max(0, ...this.slots.map((slot) => CIRCUIT_STATE_VALUE[slot.state]));
  }
}
