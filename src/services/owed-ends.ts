import type { DataSource } from 'typeorm';
import type { Logger } from '../observability/logger';

/** The first wait before an owed end is told again; each failed try doubles it, up to `MAX_WAIT_MS`. */
const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 30_000;
/** Rows read (and ends told) per try. */
const PER_TRY = 1000;
/** Ends owed at once, at most: beyond this a process in a long outage keeps no more (see `owe`). */
const MOST_OWED = 10_000;
/** How often the ledger is read for ends owed by a process that is gone. */
export const ADOPT_EVERY_MS = 60_000;
/** An end written down longer ago than this is taken over: its own process has had time to tell it. */
export const ADOPT_AFTER_MS = 30_000;

/**
 * The ends owed, written down in the database (`owed_ends`), so that one a
 * process owed when it died is told by another: every process reads the
 * rows older than `ADOPT_AFTER_MS` every `ADOPT_EVERY_MS` and tells them as
 * its own. A row is written only when an end is owed, never on a job's
 * usual path, and removed once the end is told.
 */
export interface OwedLedger {
  write(id: string): Promise<void>;
  erase(ids: string[]): Promise<void>;
  /** Ids written down longer than `olderThanMs` ago, oldest first. */
  older(olderThanMs: number, limit: number): Promise<string[]>;
}

export class OwedEndsLedger implements OwedLedger {
  constructor(private readonly db: DataSource, private readonly kind: 'job' | 'training') {}

  async write(id: string): Promise<void> {
    await this.db.query('INSERT INTO owed_ends (kind, id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [this.kind, id]);
  }

  async erase(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const list = ids.map((_, k) => `$${k + 2}`).join(', ');
    await this.db.query(`DELETE FROM owed_ends WHERE kind = $1 AND id IN (${list})`, [this.kind, ...ids]);
  }

  async older(olderThanMs: number, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM owed_ends WHERE kind = $1 AND owed_at < now() - make_interval(secs => $2) ORDER BY owed_at LIMIT $3`,
      [this.kind, olderThanMs / 1000, limit],
    );
    return rows.map((row) => row.id);
  }
}

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
 * makes during an outage"). Telling is a no-op where the end was told. With
 * a ledger, what is owed is also written down, and what a process that died
 * owed is taken over by the others (`OwedEndsLedger`).
 */
export class OwedEnds<Row extends { id: string }> {
  private readonly owed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private waitMs = FIRST_WAIT_MS;
  private trying = false;
  private stopped = false;
  private readonly sweep: NodeJS.Timeout | null = null;

  constructor(private readonly o: {
    /** What is owed, for the logs: 'job' or 'training run'. */
    what: string;
    /** The final rows among these ids. */
    finalAmong(ids: string[]): Promise<Row[]>;
    /** Tells a final row's end (a no-op where it was told). */
    announceEnd(row: Row): Promise<void>;
    logger: Logger;
    /** Where owed ends are written down for the other processes; none keeps them in this process only. */
    ledger?: OwedLedger;
  }) {
    if (o.ledger) {
      this.sweep = setInterval(() => void this.adopt().catch((err) => o.logger.warn({ err }, `owed ${o.what} ends not read`)), ADOPT_EVERY_MS);
      this.sweep.unref();
    }
  }

  /** Notes that `id`'s end may be untold; it is told again shortly, and until that succeeds. */
  owe(id: string): void {
    if (this.stopped) return;
    if (this.owed.size >= MOST_OWED && !this.owed.has(id)) {
      // Still told to anyone who subscribes to it (jobUpdated, trainingUpdated) or asks again (a repeated cancel).
      this.o.logger.warn({ id, owed: this.owed.size }, `too many ${this.o.what} ends owed: this one is told when someone asks for it`);
      return;
    }
    if (!this.owed.has(id)) {
      this.o.logger.warn({ id }, `${this.o.what} ended, but its end could not be told (an outage): it is told again once the outage is over`);
      // Written down for the other processes, should this one die first; the outage may be the database's too.
      this.o.ledger?.write(id).catch((err) => this.o.logger.warn({ err, id }, `owed ${this.o.what} end not written down: this process alone tells it`));
    }
    this.owed.add(id);
    this.schedule();
  }

  /**
   * Takes over the ends written down longer than `ADOPT_AFTER_MS` ago and
   * not owed here: a process that owed them died before telling them (or is
   * still in the outage, and both then tell them, which is harmless). Runs
   * every `ADOPT_EVERY_MS`; resolves with how many were taken over.
   */
  async adopt(): Promise<number> {
    if (!this.o.ledger || this.stopped) return 0;
    // Within the cap: what is left is taken over at a later sweep, or by another process.
    const room = Math.min(PER_TRY, MOST_OWED - this.owed.size);
    if (room <= 0) return 0;
    const ids = (await this.o.ledger.older(ADOPT_AFTER_MS, room)).filter((id) => !this.owed.has(id));
    if (ids.length === 0) return 0;
    this.o.logger.info({ ids }, `${this.o.what} ends owed by another process, which is gone: telling them`);
    for (const id of ids) this.owed.add(id);
    // Told at the first wait, not after whatever backoff this process's own owed ends had reached.
    this.waitMs = FIRST_WAIT_MS;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.schedule();
    return ids.length;
  }

  /** Ids still owed (for tests and the logs). */
  get size(): number {
    return this.owed.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.sweep) clearInterval(this.sweep);
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
      const settled = ids.filter((id) => !final.has(id));
      for (const id of settled) this.owed.delete(id);
      try {
        for (const row of rows) {
          await this.o.announceEnd(row);
          this.owed.delete(row.id);
          settled.push(row.id);
          this.o.logger.info({ id: row.id }, `${this.o.what} end owed since an outage: told`);
        }
      } finally {
        // A row left behind is read again later, and telling its end again is a no-op.
        await this.o.ledger?.erase(settled).catch(() => undefined);
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
