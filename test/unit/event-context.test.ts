import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import type { AppContext, Services } from '../../src/resolvers/context';
import { EventContext, type Loaders } from '../../src/resolvers/loaders';
import type { Viewer } from '../../src/services/auth';

/** A subscription's context as graphql-ws.ts builds it: a live viewer, loaders built on first use. */
function subscriptionContext() {
  const state = { viewer: { user: { id: 'u1' } } as unknown as Viewer | null };
  let built = 0;
  const services = { db: {} as DataSource } as Services;
  const context: AppContext & { _shield?: unknown } = {
    requestId: 'req-1', services, transport: 'ws', clientIp: '10.0.0.7', userAgent: 'test-agent',
    get viewer() { return state.viewer; },
    get loaders() { built += 1; return {} as Loaders; },
  };
  return { context, state, builtOnSubscription: () => built };
}

describe('EventContext (what one event of a subscription executes with)', () => {
  it('builds its DataLoaders only when read, once, and never the subscription\'s own', () => {
    const { context, builtOnSubscription } = subscriptionContext();
    const first = new EventContext(context);
    const second = new EventContext(context);
    expect(builtOnSubscription()).toBe(0);
    expect(Object.getOwnPropertyDescriptor(first, 'own')?.value).toBeUndefined();

    const loaders = first.loaders;
    expect(loaders.user).toBeDefined();
    expect(first.loaders).toBe(loaders);
    // Each event its own: a row changed between two events is read again.
    expect(second.loaders).not.toBe(loaders);
    expect(builtOnSubscription()).toBe(0);
  });

  it('reads the viewer as it is now and keeps the request\'s fields', () => {
    const { context, state } = subscriptionContext();
    const event = new EventContext(context);
    expect(event.viewer).toBe(state.viewer);
    state.viewer = null;
    expect(event.viewer).toBeNull();
    expect(event).toMatchObject({ requestId: 'req-1', transport: 'ws', clientIp: '10.0.0.7', userAgent: 'test-agent', services: context.services });
  });

  it('does not carry graphql-shield\'s rule cache from the subscription to its events', () => {
    const { context } = subscriptionContext();
    context._shield = { cache: { isAdmin: true } };
    expect((new EventContext(context) as unknown as { _shield?: unknown })._shield).toBeUndefined();
  });
});
