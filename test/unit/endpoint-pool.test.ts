import { describe, expect, it } from 'vitest';
import { badAnswer, BackendError, connectionError } from '../../src/gpu-worker/backends/backend-error';
import { EndpointPool } from '../../src/gpu-worker/backends/endpoint-pool';

const policy = { timeoutMs: 1000, attempts: 3, backoffMs: 1, breakerFailures: 2, halfOpenAfterMs: 50 };
const down = () => new BackendError('transient', 'connection', 'refused');

function pool(urls: string[]) {
  const seen = { outcomes: [] as string[], failures: [] as string[], circuit: [] as number[] };
  const observer = { attempt: (o: string) => seen.outcomes.push(o), failure: (r: string) => seen.failures.push(r), circuit: (s: number) => seen.circuit.push(s) };
  return { pool: new EndpointPool(urls.map((url) => ({ url, endpoint: url })), policy, observer), seen };
}
const signal = new AbortController().signal;

describe('endpoint pool', () => {
  it('sends work to the endpoint with the fewest in flight', async () => {
    const { pool: p } = pool(['a', 'b']);
    const used: string[] = [];
    let release!: () => void;
    const held = p.run('X', async (e) => { used.push(e); await new Promise<void>((r) => { release = r; }); }, signal);
    await p.run('X', async (e) => { used.push(e); }, signal);
    release();
    await held;
    expect(used).toEqual(['a', 'b']);
  });

  it('retries a transient failure on another endpoint and opens the failing one\'s breaker', async () => {
    const { pool: p, seen } = pool(['a', 'b']);
    const tried: string[] = [];
    const work = async (e: string) => {
      tried.push(e);
      if (e === 'a') throw down();
      return e;
    };
    expect(await p.run('X', work, signal)).toBe('b');
    expect(await p.run('X', work, signal)).toBe('b');
    expect(tried).toEqual(['a', 'b', 'a', 'b']);
    // Two failures in a row opened a's breaker: the next job goes straight to b.
    expect(p.health().map((e) => e.state)).toEqual(['OPEN', 'CLOSED']);
    expect(p.health()[0].lastError).toBe('refused');
    expect(await p.run('X', work, signal)).toBe('b');
    expect(tried).toHaveLength(5);
    expect(seen.failures).toContain('connection');
  });

  it('fails BACKEND_UNAVAILABLE naming the backend once attempts are spent, then waits, then recovers through a probe', async () => {
    const { pool: p, seen } = pool(['a']);
    const error = await p.run('ComfyUI', async () => { throw down(); }, signal).catch((e) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error.failureCode).toBe('BACKEND_UNAVAILABLE');
    // Two failures open the breaker, so the third attempt reaches no endpoint: the message and the metrics say so.
    expect(error.message).toMatch(/^ComfyUI unavailable after 2 attempts: refused/);
    expect(seen.failures.filter((f) => f === 'circuit_open')).toHaveLength(1);
    expect(p.health()[0].state).toBe('OPEN');
    expect(p.available).toBe(false);
    expect(seen.circuit.at(-1)).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(p.available).toBe(true);
    expect(await p.recover(async () => undefined)).toBe(true);
    expect(p.health()[0].state).toBe('CLOSED');
    expect(seen.circuit.at(-1)).toBe(0);
  });

  it('counts a failed probe against the same breaker as a failed request, and lets a successful probe close it', async () => {
    const { pool: p, seen } = pool(['a', 'b']);
    await p.run('X', async (e) => { if (e === 'a') throw down(); return e; }, signal);
    expect(p.health()[0]).toMatchObject({ state: 'CLOSED', lastError: 'refused' });
    // One failed request and one failed probe are two consecutive failures: a's breaker opens.
    await p.probe(async (e) => { if (e === 'a') throw down(); });
    expect(p.health().map((e) => e.state)).toEqual(['OPEN', 'CLOSED']);
    expect(seen.circuit.at(-1)).toBe(2);
    // Still open: the breaker refuses the probe as it refuses jobs, nothing is called.
    const probed: string[] = [];
    await p.probe(async (e) => { probed.push(e); });
    expect(probed).toEqual(['b']);
    await new Promise((r) => setTimeout(r, 60));
    await p.probe(async () => undefined);
    expect(p.health()[0]).toMatchObject({ state: 'CLOSED', lastError: null });
    expect(seen.circuit.at(-1)).toBe(0);
  });

  it('takes a server that answers a probe with a refusal for alive', async () => {
    const { pool: p } = pool(['a']);
    for (let i = 0; i < 3; i++) await p.probe(async () => { throw new BackendError('rejected', 'rejected', 'HTTP 401'); });
    expect(p.health()[0]).toMatchObject({ state: 'CLOSED', lastError: null });
  });

  it('does not retry a rejection', async () => {
    const { pool: p } = pool(['a', 'b']);
    let calls = 0;
    const error = await p.run('X', async () => { calls += 1; throw new BackendError('rejected', 'rejected', 'bad workflow'); }, signal).catch((e) => e);
    expect(calls).toBe(1);
    expect(error.failureCode).toBe('BACKEND_REJECTED');
  });

  it('does not retry a bad answer, nor count it against the breaker', async () => {
    const { pool: p, seen } = pool(['a', 'b']);
    let calls = 0;
    const bad = () => badAnswer('ComfyUI', 'POST /prompt', 'http://a/prompt', 'without a prompt_id (the body is null)');
    for (let i = 0; i < 3; i++) {
      const error = await p.run('X', async () => { calls += 1; throw bad(); }, signal).catch((e) => e);
      expect(error).toMatchObject({ failureCode: 'INFERENCE_FAILED', message: 'ComfyUI answered POST /prompt without a prompt_id (the body is null)' });
    }
    expect(calls).toBe(3);
    expect(p.health().map((e) => e.state)).toEqual(['CLOSED', 'CLOSED']);
    expect(seen.failures).toEqual(['bad_response', 'bad_response', 'bad_response']);
  });

  it('words a spent job with the failures\' messages, and keeps their details (URLs) for the log and admins\' health', async () => {
    const { pool: p } = pool(['a']);
    const error = await p.run('ComfyUI', async () => { throw connectionError('ws://gpu-1:8188/ws?clientId=abc', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8188'), { code: 'ECONNREFUSED' })); }, signal).catch((e) => e);
    expect(error.message).toBe('ComfyUI unavailable after 2 attempts: an endpoint could not be reached (ECONNREFUSED)');
    expect(error.detail).toBe('ComfyUI unavailable after 2 attempts: ws://gpu-1:8188/ws?clientId=abc unreachable (ECONNREFUSED)');
    expect(p.health()[0].lastError).toBe('ws://gpu-1:8188/ws?clientId=abc unreachable (ECONNREFUSED)');
  });
});
