import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { openCredential, sealCredential } from '../../src/kernel/credentials';
import { EndpointHealthStore } from '../../src/redis/endpoint-health';

describe('credential sealing', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and every seal differs', () => {
    const a = sealCredential('sk-secret', key);
    expect(a).not.toContain('sk-secret');
    expect(sealCredential('sk-secret', key)).not.toBe(a);
    expect(openCredential(a, key)).toBe('sk-secret');
  });

  it('refuses a wrong key and an altered ciphertext', () => {
    const sealed = sealCredential('sk-secret', key);
    expect(() => openCredential(sealed, randomBytes(32))).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('sk-secreX').toString('base64url');
    expect(() => openCredential(parts.join('.'), key)).toThrow();
  });

  it('reads the key from configuration, with a development default and none in production', () => {
    const hex = randomBytes(32).toString('hex');
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(40), ATELIER_CREDENTIAL_KEY: hex }).credentialKey.toString('hex')).toBe(hex);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(40) }).credentialKey).toHaveLength(32);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(40), ATELIER_CREDENTIAL_KEY: 'short' })).toThrow(/32 bytes/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(40), NODE_ENV: 'production' })).toThrow(/ATELIER_CREDENTIAL_KEY/);
  });
});

describe('endpoint health store', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const store = new EndpointHealthStore(redis, `test-health-${randomUUID().slice(0, 8)}`);
  afterAll(() => redis.quit());

  it('merges the workers\' views of an endpoint and drops stale ones', async () => {
    const model = randomUUID();
    const now = Date.now();
    const at = (ago: number) => new Date(now - ago).toISOString();
    await store.write(model, 'w1', [
      { url: 'http://a:8188', state: 'CLOSED', inFlight: 2, lastError: null, lastCheckedAt: at(1000) },
      { url: 'http://b:8188', state: 'CLOSED', inFlight: 1, lastError: null, lastCheckedAt: at(120_000) },
    ]);
    await store.write(model, 'w2', [{ url: 'http://a:8188', state: 'OPEN', inFlight: 1, lastError: 'ECONNREFUSED', lastCheckedAt: at(500) }]);
    const health = await store.read(model, now);
    expect([...health.keys()]).toEqual(['http://a:8188']);
    expect(health.get('http://a:8188')).toEqual({ url: 'http://a:8188', state: 'OPEN', inFlight: 3, lastError: 'ECONNREFUSED', lastCheckedAt: at(500) });
    await store.remove(model, 'w2', ['http://a:8188']);
    expect((await store.read(model, now)).get('http://a:8188')?.state).toBe('CLOSED');
  });
});
