import { isIPv4 } from 'node:net';
import { DataSource, LessThan, type QueryDeepPartialEntity } from 'typeorm';
import { AuditEvent, AuditEventKind } from '../entities';
import type { Logger } from '../observability/logger';
import { badInput } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { clientNetworkOf } from '../kernel/client-network';
import { assertUuid } from '../kernel/ids';
import { cursorPayload, encodeCursor } from '../kernel/paging';
import type { Page } from './job-queries';
import { assertPageSize } from './keyset-page';

/** Where a request came from, as recorded with security events. */
export interface RequestOrigin {
  ip?: string | null;
  userAgent?: string | null;
}

/** One event to record; `kind` says which facts `details` carries (docs/security.md lists them). */
export interface AuditRecord {
  kind: AuditEventKind;
  /** Who acted; absent for anonymous callers. */
  actorId?: string | null;
  /** Whose account it concerns, when not only the actor's. */
  targetUserId?: string | null;
  origin?: RequestOrigin;
  /** Short failure code (WRONG_PASSWORD, TOKEN_EXPIRED, …) for failures. */
  reason?: string | null;
  details?: Record<string, unknown>;
}

/** What `auditEvents` can narrow by. */
export interface AuditFilter {
  kinds?: AuditEventKind[] | null;
  /** Events where this user acted or was acted upon. */
  userId?: string | null;
  address?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** Client-supplied text (User-Agent, the email tried) is cut and freed of control characters before it is stored. */
function clean(value: string | null | undefined, max: number): string | null {
  if (value == null) return null;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, max);
  return text || null;
}

/** Every string in `details` (an email tried, an admin's arguments) gets the same treatment; jsonb cannot hold NUL. */
function cleanDetails(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details, (_key, value: unknown) => (typeof value === 'string' ? clean(value, 500) ?? '' : value))) as Record<string, unknown>;
}

const encodeAuditCursor = (event: AuditEvent): string => encodeCursor('audit', event.id);

/** The largest PostgreSQL `bigint`: the type of `audit_events.id`. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

function decodeAuditCursor(cursor: string): string {
  const match = /^(\d{1,19})$/.exec(cursorPayload('audit', cursor));
  if (!match || BigInt(match[1]) > MAX_EVENT_ID) throw badInput('after', 'Invalid cursor');
  return match[1];
}

/** A row of `audit_events` as it is written. */
type AuditRow = Omit<AuditEvent, 'id'>;

/**
 * Kinds that one client can repeat without end (a script retrying a bad token, guessing passwords): each is
 * coalesced per minute (docs/security.md, "Audit log"), so a flood costs one row, not one per request. Each
 * kind lists the details that do not tell its events apart: a failed sign-in's email tried, so that a client
 * trying many emails costs one row too (the account, when the email has one, is the event's actor and
 * keeps its own row; the row keeps the first email of the minute).
 */
const COALESCED: ReadonlyMap<AuditEventKind, readonly string[]> = new Map([
  [AuditEventKind.AUTH_FAILED, []],
  [AuditEventKind.SIGN_IN_FAILED, ['email']],
]);
const MINUTE_MS = 60_000;
/** Bursts followed at once by one process; past it an event is written as a row of its own, as before. */
const MAX_BURSTS = 10_000;

/** Repeats of one coalesced event within one minute: its row, written at the first, and how many came. */
interface Burst {
  row: AuditRow;
  /** The row's id once stored; null when the database refused it. */
  id: Promise<string | null>;
  count: number;
  timer: NodeJS.Timeout;
}

/**
 * What makes two events the same for coalescing: the minute, the client's network (an IPv6 client's /64, as the
 * per-address limits count it: a client rotating through its /64 still costs one row), and everything else but
 * the time, the User-Agent, the address within that network and the kind's `loose` details. The row keeps the
 * first address (and loose details) of the minute.
 */
function burstKey(row: AuditRow, loose: readonly string[]): string {
  const details = Object.entries(row.details).filter(([name]) => !loose.includes(name));
  return JSON.stringify([Math.floor(row.at.getTime() / MINUTE_MS), row.kind, clientNetworkOf(row.address), row.reason, row.actorId, row.targetUserId, details]);
}

/**
 * The security audit log: every event is written as a JSON line to its own
 * log stream (`stream: "audit"`) and stored in `audit_events`, which admins
 * page through with `auditEvents`. The line goes first, so an event is never
 * lost silently even when the database refuses the row.
 */
export class AuditLog {
  private readonly bursts = new Map<string, Burst>();

  constructor(
    private readonly db: DataSource,
    private readonly stream: Logger,
    private readonly clock: Clock,
    private readonly retentionDays: number,
  ) {}

  /**
   * Records one event. Never throws: the action it describes has happened (or been refused) either way.
   * A coalesced kind's first event of a minute is written at once with `count: 1` in its details; its repeats
   * in that minute only count, and the total is written to that row, and logged, when the minute ends.
   */
  async record(event: AuditRecord): Promise<void> {
    const row: AuditRow = {
      at: this.clock.now(),
      kind: event.kind,
      actorId: event.actorId ?? null,
      targetUserId: event.targetUserId ?? null,
      address: clean(event.origin?.ip, 100),
      userAgent: clean(event.origin?.userAgent, 512),
      reason: event.reason ?? null,
      details: cleanDetails(event.details ?? {}),
    };
    if (row.kind === AuditEventKind.SIGN_IN_SUCCEEDED) await this.endFailedSignIns(row);
    const loose = COALESCED.get(row.kind);
    if (!loose) return void (await this.write(row));
    const key = burstKey(row, loose);
    const burst = this.bursts.get(key);
    if (burst) {
      burst.count += 1;
      return;
    }
    row.details = { ...row.details, count: 1 };
    const id = this.write(row);
    if (this.bursts.size < MAX_BURSTS) {
      const minuteEnds = (Math.floor(row.at.getTime() / MINUTE_MS) + 1) * MINUTE_MS - row.at.getTime();
      const timer = setTimeout(() => void this.close(key), minuteEnds);
      timer.unref();
      this.bursts.set(key, { row, id, count: 1, timer });
    }
    await id;
  }

  /** Writes the count of every burst still open now, ending them (at shutdown, and in tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.bursts.keys()].map((key) => this.close(key)));
  }

  /**
   * Before a sign-in that succeeds is written, ends the open SIGN_IN_FAILED bursts of its account and of its
   * client's network: their totals come first, line and row, so the log reads the failures and then the success,
   * and failures after it count in a row of their own (docs/security.md, "Audit log").
   */
  private async endFailedSignIns(success: AuditRow): Promise<void> {
    const network = clientNetworkOf(success.address);
    const ended = [...this.bursts].filter(([, { row }]) => row.kind === AuditEventKind.SIGN_IN_FAILED
      && ((success.actorId !== null && row.actorId === success.actorId) || clientNetworkOf(row.address) === network));
    await Promise.all(ended.map(([key]) => this.close(key)));
  }

  /** The line, then the row; the row's id, or null when the database refused it. */
  private async write(row: AuditRow): Promise<string | null> {
    const failure = row.reason !== null;
    this.stream[failure ? 'warn' : 'info']({ audit: row }, `audit ${row.kind}${failure ? ` (${row.reason})` : ''}`);
    try {
      const result = await this.db.getRepository(AuditEvent).insert(row as QueryDeepPartialEntity<AuditEvent>);
      const id: unknown = result.identifiers[0]?.id;
      return id == null ? null : String(id);
    } catch (err) {
      this.stream.error({ err, audit: row }, 'audit event could not be stored');
      return null;
    }
  }

  /**
   * Ends a burst: when it had repeats, one line with the total and the total on its row, the one change the
   * table's trigger lets through (migration RepeatedAuditEvents).
   */
  private async close(key: string): Promise<void> {
    const burst = this.bursts.get(key);
    if (!burst) return;
    this.bursts.delete(key);
    clearTimeout(burst.timer);
    if (burst.count === 1) return;
    const row = { ...burst.row, details: { ...burst.row.details, count: burst.count } };
    this.stream.warn({ audit: row }, `audit ${row.kind} (${row.reason}) x${burst.count} in the minute`);
    const id = await burst.id;
    if (id === null) return;
    try {
      await this.db.createQueryBuilder().update(AuditEvent)
        .set({ details: () => `jsonb_set(details, '{count}', to_jsonb(CAST(:count AS integer)))` })
        .setParameter('count', burst.count)
        .where('id = :id', { id })
        .execute();
    } catch (err) {
      this.stream.error({ err, audit: row }, 'audit event count could not be stored');
    }
  }

  /** Newest first, `first` (1..100) per page. */
  async list(filter: AuditFilter, first = 50, after?: string | null): Promise<Page<AuditEvent>> {
    assertPageSize(first);
    const qb = this.db.getRepository(AuditEvent).createQueryBuilder('e');
    if (filter.kinds?.length) qb.andWhere('e.kind IN (:...kinds)', { kinds: filter.kinds });
    if (filter.userId) {
      qb.andWhere('(e.actorId = :uid OR e.targetUserId = :uid)', { uid: assertUuid('filter.userId', filter.userId) });
    }
    if (filter.address) qb.andWhere('e.address IN (:...addresses)', { addresses: addressForms(filter.address.trim()) });
    if (filter.since) qb.andWhere('e.at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('e.at < :until', { until: filter.until });
    if (after) qb.andWhere('e.id < :after', { after: decodeAuditCursor(after) });
    const rows = await qb.orderBy('e.id', 'DESC').take(first + 1).getMany();
    const nodes = rows.slice(0, first);
    return { nodes, cursors: nodes.map(encodeAuditCursor), hasNextPage: rows.length > first };
  }

  /** Deletes events older than the retention period (hourly housekeeping); returns how many. */
  async deleteExpired(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.retentionDays * 24 * 3600_000);
    const result = await this.db.getRepository(AuditEvent).delete({ at: LessThan(cutoff) });
    return result.affected ?? 0;
  }
}

/**
 * The forms an address is stored in: an IPv4 client of a dual-stack server is
 * recorded as `::ffff:203.0.113.7`, so either form finds it.
 */
function addressForms(address: string): string[] {
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : isIPv4(address) ? address : null;
  return v4 ? [v4, `::ffff:${v4}`] : [address];
}
