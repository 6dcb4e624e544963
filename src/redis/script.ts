import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Arg = string | number;

/**
 * A Lua script called by SHA (EVALSHA, a few bytes); the text goes to the
 * server only when it does not know the script yet (NOSCRIPT: the first call,
 * or after a restart or SCRIPT FLUSH). Plain EVALSHA/EVAL rather than ioredis
 * `defineCommand`: the commands connection auto-pipelines (connection.ts), and
 * ioredis 5.11 fails a command defined after the auto-pipeline of its tick
 * was opened ("pipeline[functionName] is not a function", then "results[i] is
 * not iterable" for the rest of that pipeline).
 */
export class RedisScript<Result> {
  /** Every script this process defined (for tests that watch what goes over the wire). */
  static readonly all: RedisScript<unknown>[] = [];
  /** What EVALSHA sends instead of the text. */
  readonly sha: string;

  /** `name` says which script this is in tests and traces; `'any'` keys: as many as each call gives. */
  constructor(readonly name: string, private readonly numberOfKeys: number | 'any', readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    RedisScript.all.push(this as RedisScript<unknown>);
  }

  async run(redis: Redis, keys: readonly string[], args: readonly Arg[] = []): Promise<Result> {
    const count = this.numberOfKeys === 'any' ? keys.length : this.numberOfKeys;
    if (keys.length !== count) throw new Error(`${this.name} takes ${count} keys, got ${keys.length}`);
    try {
      return (await redis.evalsha(this.sha, count, ...keys, ...args)) as Result;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await redis.eval(this.lua, count, ...keys, ...args)) as Result;
    }
  }
}
