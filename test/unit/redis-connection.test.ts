import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';

/*
 * A server that completes ioredis's handshake (CLIENT SETNAME, INFO) and then
 * answers nothing: a Redis that is reachable but hangs (docs/operations.md,
 * "Outages of PostgreSQL or Redis").
 */
let server: net.Server;
let url: string;
const sockets = new Set<net.Socket>();
const INFO = 'redis_version:7.0.0\r\nloading:0\r\n';

beforeAll(async () => {
  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      // Each command's name (the handshake's are short and come whole).
      for (const [, name] of chunk.toString().matchAll(/\*\d+\r\n\$\d+\r\n(\w+)\r\n/g)) {
        if (name.toLowerCase() === 'client') socket.write('+OK\r\n');
        if (name.toLowerCase() === 'info') socket.write(`$${Buffer.byteLength(INFO)}\r\n${INFO}\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const settledWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => 'resolved', (error: Error) => error.message), new Promise((r) => setTimeout(() => r('pending'), ms))]);

describe('connectRedis against a Redis that does not answer', () => {
  it('times plain commands and scripts out, never a subscribe or a blocking command', async () => {
    const client = connectRedis(url, { name: 'hang-test' });
    const options = client.options as { commandTimeout?: number };
    options.commandTimeout = 200;
    try {
      await new Promise<void>((resolve) => client.once('ready', () => resolve()));
      const started = Date.now();
      expect(await settledWithin(client.get('k'), 2000)).toBe('Command timed out');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await settledWithin(client.eval('return 1', 0), 2000)).toBe('Command timed out');
      expect(await settledWithin(client.bzpopmin('k', 5), 1000)).toBe('pending');
      const subscriber = client.duplicate();
      try {
        await new Promise<void>((resolve) => subscriber.once('ready', () => resolve()));
        expect(await settledWithin(subscriber.subscribe('channel'), 1000)).toBe('pending');
      } finally {
        subscriber.disconnect();
      }
      // The option is back in place for the next command.
      expect(options.commandTimeout).toBe(200);
    } finally {
      client.disconnect();
    }
  });

  it('sets no command timeout on a blocking connection', () => {
    const client = connectRedis(url, { blocking: true });
    try {
      expect((client.options as { commandTimeout?: number }).commandTimeout).toBeUndefined();
      expect(client.options.maxRetriesPerRequest).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});
