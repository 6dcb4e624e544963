import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { logRedisErrors } from '../../src/redis/error-log';

function refused(): NodeJS.ErrnoException {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', syscall: 'connect' });
}

describe('logRedisErrors', () => {
  it('says "unreachable" once, then at most once a minute with what it left out; other errors every time', () => {
    const lines: { level: number; msg: string; code?: string; repeatsLeftOut?: number; err?: { message: string } }[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    let now = 1_000_000;
    const source = new EventEmitter();
    logRedisErrors(source, logger, 'worker error', () => now);

    for (let i = 0; i < 30; i += 1, now += 1000) source.emit('error', refused());
    expect(lines.map((l) => [l.level, l.msg, l.code, l.repeatsLeftOut])).toEqual([[40, 'worker error: Redis unreachable', 'ECONNREFUSED', 0]]);

    source.emit('error', new Error('ERR unknown command'));
    source.emit('error', new Error('ERR unknown command'));
    expect(lines.filter((l) => l.level === 50).map((l) => [l.msg, l.err?.message])).toEqual([
      ['worker error', 'ERR unknown command'], ['worker error', 'ERR unknown command'],
    ]);

    now += 31_000;
    source.emit('error', refused());
    expect(lines.at(-1)).toMatchObject({ level: 40, msg: 'worker error: Redis unreachable', repeatsLeftOut: 29 });
  });
});
