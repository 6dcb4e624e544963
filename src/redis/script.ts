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

/** One script of a chain, with its own keys and arguments. */
export interface ScriptCall {
  script: RedisScript<unknown>;
  keys: readonly string[];
  args: readonly Arg[];
}

/** Runs one script call on its own. */
export function runScriptCall(redis: Redis, call: ScriptCall): Promise<unknown> {
  return call.script.run(redis, call.keys, call.args);
}

/** The chained scripts built so far, by the names of the scripts they run. */
const chains = new Map<string, RedisScript<unknown[]>>();

/**
 * Several scripts in one round trip: one script that runs each in turn with
 * its own keys and arguments, and stops after the first whose answer does
 * not begin with 1 (a refusal), so the ones after it change nothing. Each
 * script's text runs unchanged as a Lua function of (KEYS, ARGV), so it
 * answers exactly as it does alone. Answers the scripts' answers in order,
 * up to and including the one that stopped the chain.
 */
export function runScriptChain(redis: Redis, calls: readonly ScriptCall[]): Promise<unknown[]> {
  const name = calls.map((call) => call.script.name).join('+');
  let chained = chains.get(name);
  if (!chained) {
    const steps = calls.map((call) => `function(KEYS, ARGV)\n${call.script.lua}\nend`).join(',\n');
    // ARGV: the key and argument counts of each script, then every script's arguments in order.
    chained = new RedisScript<unknown[]>(name, 'any', `
local steps = {${steps}}
local n = #steps
local answers = {}
local k, a = 0, 2 * n
for i = 1, n do
  local keys, args = {}, {}
  for j = 1, tonumber(ARGV[2 * i - 1]) do keys[j] = KEYS[k + j] end
  for j = 1, tonumber(ARGV[2 * i]) do args[j] = ARGV[a + j] end
  k, a = k + #keys, a + #args
  local answer = steps[i](keys, args)
  answers[i] = answer
  if type(answer) ~= 'table' or answer[1] ~= 1 then break end
end
return answers`);
    chains.set(name, chained);
  }
  const counts = calls.flatMap((call) => [call.keys.length, call.args.length]);
  return chained.run(redis, calls.flatMap((call) => call.keys), [...counts, ...calls.flatMap((call) => call.args)]);
}
