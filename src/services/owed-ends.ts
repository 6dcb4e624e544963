import type { Logger } from '../observability/logger';

/** The first wait before an owed end is told again; each failed try doubles it, up to `MAX_WAIT_MS`. */
const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 30_000;
/** Rows read (and ends told) per try. */
const PER_TRY = 1000;
/** Ends owed at once, at most: beyond this a process in a long outage keeps no more (see `owe`). */
const MOST_OWED = 10_000;

/**
 * Ends of jobs or runs whose rows went final but whose bookkeeping after the
 * commit (the quota's release, the final event, its webhook, the batch's
 * count) failed: an outage of Redis or PostgreSQL between the two. The API
 * fails fast (its caller gets SERVICE_UNAVAILABLE), and an ending it made (a
 * waiting job withdrawn, a lost job given up, a waiting run cancelled) has no
 * queue entry left for a worker to take again. Each such end is told again
 * from its row, in the background, until that succeeds: whoever watches the
 * job, its session's feed or its webhook hears it once the outage is over,
 * whether anyone asks again or not (docs/operations.md, "An ending the API
 * makes during an outage"). Telling is a no-op where the end was told.
 */
export class OwedEnds<Row extends { id: string }> {
  private readonly owed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private waitMs = FIRST_WAIT_MS;
  private trying = false;
  private stopped = false;

  constructor(private readonly o: {
    /** What is owed, for the logs: 'job' or 'training run'. */
    what: string;
    /** The final rows among these ids. */
    finalAmong(ids: string[]): Promise<Row[]>;
    /** Tells a final row's end (a no-op where it was told). */
    announceEnd(row: Row): Promise<void>;
    logger: Logger;
  }) {}

  /** Notes that `id`'s end may be untold; it is told again shortly, and until that succeeds. */
  owe(id: string): void {
    if (this.stopped) return;
    if (this.owed.size >= MOST_OWED && !this.owed.has(id)) {
      // Still told to anyone who subscribes to it (jobUpdated, trainingUpdated) or asks again (a repeated cancel).
      this.o.logger.warn({ id, owed: this.owed.size }, `too many ${this.o.what} ends owed: this one is told when someone asks for it`);
      return;
    }
    if (!this.owed.has(id)) this.o.logger.warn({ id }, `${this.o.what} ended, but its end could not be told (an outage): it is told again once the outage is over`);
    this.owed.add(id);
    this.schedule();
  }

  /** Ids still owed (for tests and the logs). */
  get size(): number {
    return this.owed.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.trying || this.stopped || this.owed.size === 0) return;
    this.timer = setTimeout(() => void this.tryAll(), this.waitMs);
    this.timer.unref();
  }

  private async tryAll(): Promise<void> {
    this.timer = null;
    this.trying = true;
    const ids = [...this.owed].slice(0, PER_TRY);
    try {
      const rows = await this.o.finalAmong(ids);
      // A row that is not final (or is gone) owes nothing: a final row stays final.
      const final = new Set(rows.map((row) => row.id));
      for (const id of ids) if (!final.has(id)) this.owed.delete(id);
      for (const row of rows) {
        await this.o.announceEnd(row);
        this.owed.delete(row.id);
        this.o.logger.info({ id: row.id }, `${this.o.what} end owed since an outage: told`);
      }
      this.waitMs = FIRST_WAIT_MS;
    } catch {
      // Still away: tried again later, less often.
      this.waitMs = Math.min(this.waitMs * 2, MAX_WAIT_MS);
    } finally {
      this.trying = false;
      this.schedule();
    }
  }
}
