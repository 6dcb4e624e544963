import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Arg = string | number;

/**
 * A Lua script registered on each client with ioredis `defineCommand`: its
 * text goes to the server once per connection, every later call is an
 * EVALSHA of a few bytes (ioredis resends the text if the server lost it).
 */
export class RedisScript<Result> {
  /** Every script this process defined (for tests that watch what goes over the wire). */
  static readonly all: RedisScript<unknown>[] = [];
  /** What EVALSHA sends instead of the text. */
  readonly sha: string;
  private readonly clients = new WeakSet<Redis>();

  /** `name` becomes a method on the client, so it must not be a Redis command. */
  constructor(readonly name: string, private readonly numberOfKeys: number, readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    RedisScript.all.push(this as RedisScript<unknown>);
  }

  run(redis: Redis, keys: readonly string[], args: readonly Arg[] = []): Promise<Result> {
    if (keys.length !== this.numberOfKeys) throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    if (!this.clients.has(redis)) {
      redis.defineCommand(this.name, { numberOfKeys: this.numberOfKeys, lua: this.lua });
      this.clients.add(redis);
    }
    const command = (redis as unknown as Record<string, (...values: Arg[]) => Promise<Result>>)[this.name];
    return command.call(redis, ...keys, ...args);
  }
}
