import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-server';

/** A redis-server of one test file's own, which the test stops and starts again on the same port: an outage. */
export interface OutageRedis {
  /** The same across restarts. */
  readonly url: string;
  /** Stops it (its append-only file keeps what it held). */
  stop(): Promise<void>;
  /** Starts it again on its port, with what it held. */
  start(): Promise<void>;
  /** Starts it again if a test left it stopped, stops it after `use` (closing what uses it), and removes its files. */
  dispose(use: () => Promise<void>): Promise<void>;
}

/** Starts one, with the append-only file on, as `npm start` runs it. */
export async function startOutageRedis(name: string): Promise<OutageRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `atelier-${name}-`));
  let server: LocalRedis | null = await startLocalRedis(dir, { persist: true });
  const url = server.url;
  const port = Number(new URL(url).port);
  const start = async () => {
    server ??= await startLocalRedis(dir, { persist: true, port });
  };
  return {
    url,
    stop: async () => {
      await server?.stop();
      server = null;
    },
    start,
    dispose: async (use) => {
      await start();
      try {
        await use();
      } finally {
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
