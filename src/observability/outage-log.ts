import type { Logger } from './logger';

/** While an outage lasts, a source says so again at most this often. */
export const OUTAGE_REPEAT_EVERY_MS = 60_000;

/**
 * One source's outage lines (docs/operations.md, "What an outage logs"): an
 * outage repeats itself once per reconnection attempt, request or event while
 * it lasts, so it is logged at warn once when it starts, then at most once a
 * minute with how many were left out (`repeatsLeftOut`). A source is a Redis
 * client, a BullMQ queue or worker, or a transport's error reports.
 */
export class OutageLog {
  private loggedAt = -Infinity;
  private leftOut = 0;

  constructor(private readonly logger: Logger, private readonly message: string, private readonly now: () => number = Date.now) {}

  /** Logs `fields` at warn unless this source did less than a minute ago; returns whether it did. */
  warn(fields: Record<string, unknown>): boolean {
    if (this.now() - this.loggedAt < OUTAGE_REPEAT_EVERY_MS) {
      this.leftOut += 1;
      return false;
    }
    this.logger.warn({ ...fields, repeatsLeftOut: this.leftOut }, this.message);
    this.loggedAt = this.now();
    this.leftOut = 0;
    return true;
  }
}
