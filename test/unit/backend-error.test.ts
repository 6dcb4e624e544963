import { describe, expect, it } from 'vitest';
import { requestName, statusError } from '../../src/gpu-worker/backends/backend-error';

describe('what a job\'s error names of a backend request', () => {
  it('the method and the protocol\'s route, never the endpoint\'s host or its own path prefix', () => {
    const base = 'https://gw.example:8443/tenant-7f3a/openai/deployments/img';
    expect(requestName('POST', `${base}/v1/images/generations`)).toBe('POST /v1/images/generations');
    expect(requestName('GET', 'http://gpu-1.internal:8188/comfy/history/abc-123')).toBe('GET /history/abc-123');
    expect(requestName('POST', 'http://gpu-1.internal:8188/prompt')).toBe('POST /prompt');
    expect(requestName('GET', `${base}/somewhere/else`)).toBe('GET to the endpoint');
    const refused = statusError('The image API', 'POST', `${base}/v1/images/generations`, 401, '{"error":{"message":"bad key sk-…"}}');
    expect(refused.message).toBe('The image API refused POST /v1/images/generations (HTTP 401)');
    expect(refused.message).not.toMatch(/tenant|gw\.example/);
    // The log keeps the whole request.
    expect(refused.detail).toContain(`${base}/v1/images/generations answered 401`);
  });
});
