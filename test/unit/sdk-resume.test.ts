import { describe, expect, it } from 'vitest';
import { refusalOf, resumable, resumeDelayMs, resumes } from '../../sdk/src/resume';

describe('the SDK\'s live-connection handling', () => {
  it('maps the server\'s refusals by close code, and leaves other closes to resume', () => {
    expect(refusalOf(4401)).toBe('UNAUTHENTICATED');
    expect(refusalOf(4403)).toBe('UNAUTHENTICATED');
    expect(refusalOf(4429)).toBe('RATE_LIMITED');
    expect(refusalOf(1001)).toBeNull();
    expect(refusalOf(1006)).toBeNull();
    expect(refusalOf(undefined)).toBeNull();
  });

  it('resumes after the last eventId on a lost connection, and throws anything else at once', async () => {
    const lost = new Error('lost');
    const opened: (string | null)[] = [];
    const open = async function* (after: string | null) {
      opened.push(after);
      if (after === null) {
        yield { eventId: 'a' };
        throw lost;
      }
      yield { eventId: 'b' };
    };
    const seen: string[] = [];
    for await (const event of resumable(open, (event) => event.eventId === 'b', (error) => error === lost, { reconnectDelayMs: 1 })) seen.push(event.eventId);
    expect(seen).toEqual(['a', 'b']);
    expect(opened).toEqual([null, 'a']);

    const refused = new Error('refused');
    let opens = 0;
    const refusing = async function* () {
      opens += 1;
      if (opens > 0) throw refused;
      yield { eventId: 'never' };
    };
    await expect(resumable(refusing, () => false, (error) => error === lost, { reconnectDelayMs: 1 }).next()).rejects.toBe(refused);
    expect(opens).toBe(1);
  });

  it('resumes a dropped connection and a stream the server could not go on with, waiting at least what the server asked', () => {
    expect(resumes({ code: 'NETWORK' })).toBe(true);
    expect(resumes({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 })).toBe(true);
    for (const code of ['UNAUTHENTICATED', 'RATE_LIMITED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND']) expect(resumes({ code })).toBe(false);
    expect(resumes(new Error('no code'))).toBe(false);
    expect(resumeDelayMs(0, { code: 'NETWORK' })).toBe(250);
    expect(resumeDelayMs(3, { code: 'NETWORK' })).toBe(2000);
    expect(resumeDelayMs(0, { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 })).toBe(1000);
    expect(resumeDelayMs(3, { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 })).toBe(2000);
    expect(resumeDelayMs(1, { code: 'NETWORK' }, { reconnectDelayMs: 10 })).toBe(20);
  });
});
