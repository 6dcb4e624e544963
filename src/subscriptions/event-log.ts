import type { Redis } from 'ioredis';
import { REDIS_SOCKET_TIMEOUT_MS } from '../redis/connection';
import { RedisScript } from '../redis/script';
import { badInput, serviceUnavailable } from '../kernel/errors';
import { toGraphQLError } from '../kernel/graphql-errors';
import { topicsOf, type AtelierEvent, type EventOrder, type LoggedEvent, type StreamKind, type TrainingEvent } from '../kernel/events';
import { AsyncQueue } from './async-queue';

export type { StreamKind };

/** Stream ids are "ms-seq"; compare them numerically. */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

export function isEventId(value: string): boolean {
  return /^\d{1,16}-\d{1,10}$/.test(value);
}

/**
 * Whether a stream whose first event is `first` has lost `from`: it is gone,
 * later events are there. '0-0' (a stream's start) is never lost.
 */
function isBehind(from: string, first: string | undefined): boolean {
  return from !== '0-0' && first !== undefined && compareEventIds(first, from) > 0;
}

// For each of the events' streams (KEYS: job, session, batch), XADD to the
// capped stream and PUBLISH the same entry with its id, all in one call: the
// live channel and the log always agree on order and ids, an event is in all
// of its streams or none, and a session job's event costs one round trip.
// ARGV: the number of events n, then each event's stored and live bodies, then
// each stream's MAXLEN and TTL. Several events of one job (its steps sent
// together) go in one call, in order: one script run instead of one per step.
// The stored body may be lighter than the live one (no preview image): previews
// matter to whoever watches now, and would make the log grow with every job.
// A ranked event (EventOrder) has its key last in KEYS and its rank and TTL
// last in ARGV: it is appended only above the key's rank, which it then
// becomes. A counted event has the key and then its counter set last in KEYS,
// and its member and TTL last in ARGV: it is appended once per member (a
// member already in the set drops it: a job's final event announced again,
// docs/operations.md), and raises the key's rank to 2 × the set's size − 1.
// A ranked event with `notAfter` has that order's key after its own in KEYS,
// and before its rank in ARGV that order's rank or member and which it is: it
// is dropped too once the event of that order was appended (its rank reached,
// its member counted). An ordered or counted call carries one event. An
// unranked call with such a condition ('unless': that order's key last in
// KEYS, its rank or member and which it is last in ARGV) carries several
// events of one run (its steps), all dropped once that order's event is in.
const APPEND_SCRIPT = new RedisScript<string[]>('atelierEventAppend', 'any', `
local streams = #KEYS
local mode = ARGV[#ARGV]
-- Whether the event of the order whose key is last in KEYS was appended: its rank reached, or its member counted.
local function appendedAlready(after, kind)
  if kind == 'member' then return redis.call('SISMEMBER', KEYS[#KEYS], after) == 1 end
  return tonumber(redis.call('GET', KEYS[#KEYS]) or '-1') >= tonumber(after)
end
if mode == 'unless' then
  streams = streams - 1
  if appendedAlready(ARGV[#ARGV - 2], ARGV[#ARGV - 1]) then return {} end
elseif mode == 'ordered' or mode == 'ordered-unless' then
  local rankKey = KEYS[#KEYS]
  streams = streams - 1
  if mode == 'ordered-unless' then
    rankKey = KEYS[#KEYS - 1]
    streams = streams - 1
    if appendedAlready(ARGV[#ARGV - 4], ARGV[#ARGV - 3]) then return {} end
  end
  local rank = tonumber(ARGV[#ARGV - 2])
  if rank <= tonumber(redis.call('GET', rankKey) or '-1') then return {} end
  redis.call('SET', rankKey, rank, 'EX', ARGV[#ARGV - 1])
elseif ARGV[#ARGV] == 'counted' then
  streams = streams - 2
  if redis.call('SADD', KEYS[#KEYS], ARGV[#ARGV - 2]) == 0 then return {} end
  redis.call('EXPIRE', KEYS[#KEYS], ARGV[#ARGV - 1])
  local floor = 2 * redis.call('SCARD', KEYS[#KEYS]) - 1
  if floor > tonumber(redis.call('GET', KEYS[#KEYS - 1]) or '-1') then
    redis.call('SET', KEYS[#KEYS - 1], floor, 'EX', ARGV[#ARGV - 1])
  end
end
local n = tonumber(ARGV[1])
local limits = 1 + 2 * n
local ids = {}
for e = 1, n do
  local stored, live = ARGV[2 * e], ARGV[2 * e + 1]
  for i = 1, streams do
    local key = KEYS[i]
    local id = redis.call('XADD', key, 'MAXLEN', '~', ARGV[limits + 2 * i - 1], '*', 'e', stored)
    redis.call('PUBLISH', key, id .. ' ' .. live)
    ids[#ids + 1] = id
  end
end
for i = 1, streams do redis.call('EXPIRE', KEYS[i], ARGV[limits + 2 * i]) end
return ids`);

/** The key an order's event leaves behind, and what shows it was appended: a rank reached, or a member counted. */
function endOf(order: EventOrder): [key: string, after: string | number, kind: 'rank' | 'member'] {
  return 'rank' in order ? [order.key, order.rank, 'rank'] : [order.counter, order.member, 'member'];
}

/** An event's stored body (a PROGRESS without its preview image) and its live one. */
function bodiesOf(event: AtelierEvent): [stored: string, live: string] {
  const live = JSON.stringify(event);
  return [event.type === 'PROGRESS' && event.preview ? JSON.stringify({ ...event, preview: undefined }) : live, live];
}

/** What the event log keeps for replay with `after` (docs/limits.md). */
export const EVENT_LOG_LIMITS = {
  jobMaxLen: 2000, jobTtlSeconds: 24 * 3600, sessionMaxLen: 5000, sessionTtlSeconds: 7 * 24 * 3600,
  // A batch's stream holds every event of all its jobs (docs/batches.md).
  batchMaxLen: 20_000, batchTtlSeconds: 24 * 3600,
};

/**
 * How long a catch-up keeps trying to read what its channels missed: the
 * command connection it reads through may have been cut off with the
 * subscriber's and is then replaced only once a read has waited on it for its
 * socket timeout (docs/operations.md, "A subscriber connection that never
 * answers again").
 */
const CATCH_UP_MS = 2 * REDIS_SOCKET_TIMEOUT_MS;
/** The pause between two tries of a catch-up's read. */
const CATCH_UP_RETRY_MS = 250;
/** The most events one XRANGE reads; a longer read takes several (a batch's stream holds 20,000). */
const READ_PAGE = 10_000;

/**
 * The error that ends a subscription which can no longer show that it has
 * every event of its stream, once it has what it had already: SERVICE_UNAVAILABLE,
 * so the client subscribes again after the last event it has
 * (docs/operations.md, "A subscription that cannot be caught up").
 */
function cannotCatchUp(why: string): Error {
  return toGraphQLError(serviceUnavailable(`${why}: subscribe again, with after set to the eventId of the last event you received`, 1));
}

interface Listener {
  deliver(event: LoggedEvent): void;
  /**
   * A subscription's queue: the id of the last event it has, or where it
   * resumes from while it has none (`after`, the stream's last id when it
   * opened live, '0-0' for a replay from the start; `catchUp`).
   */
  lastId?(): string;
  /** Then `deliver` drops what the queue has already, until an event comes past it. */
  recheck?(): void;
  /** Ends the subscription with `error` after the events it has (`catchUp`: it cannot be given what it missed). */
  end?(error: Error): void;
}

/** Any logged event: the stream kind decides which union it belongs to. */
type Logged = { eventId: string; type: string };

/**
 * The event log behind subscriptions: one capped Redis Stream per job and per
 * session for replay, plus Redis pub/sub for live delivery to every API
 * replica. One subscriber connection per process fans out to local listeners.
 */
export class EventLog {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  /** Live events of a channel held while its missed ones are read (`catchUp`). */
  private readonly held = new Map<string, LoggedEvent[]>();
  /** Told, after each catch-up, which streams this process still has subscribers on (`onReconnected`). */
  private readonly reconnectedHandlers: ((streams: { kind: StreamKind; id: string }[]) => void)[] = [];
  /** How many times the subscriber connection has been ready: a catch-up that sees it move reads again. */
  private connections = 0;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    /**
     * Job logs serve late subscribers of a job while and shortly after it runs;
     * session logs serve members reconnecting with `after`.
     */
    private readonly limits = EVENT_LOG_LIMITS,
    /** How long a catch-up tries to read what was missed (tests shorten it). */
    private readonly catchUpMs = CATCH_UP_MS,
  ) {
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message.toString()));
    // Connected again (after a Redis restart, a network blip, a dead connection replaced): what was published
    // meanwhile never came.
    this.subscriber.on('ready', () => {
      this.connections += 1;
      void this.catchUp();
    });
  }

  key(kind: StreamKind, id: string): string {
    return `${this.prefix}:events:${kind}:${id}`;
  }

  /** The stream a live channel (a `key`) belongs to. */
  private streamOf(channel: string): { kind: StreamKind; id: string } {
    const rest = channel.slice(`${this.prefix}:events:`.length);
    const colon = rest.indexOf(':');
    return { kind: rest.slice(0, colon) as StreamKind, id: rest.slice(colon + 1) };
  }

  /**
   * Calls `handler` after each reconnection of the subscriber connection, once
   * what was published meanwhile has been delivered (`catchUp`), with the
   * streams that still have subscribers here: what an outage kept from being
   * published at all is for the caller to tell (LiveEvents).
   */
  onReconnected(handler: (streams: { kind: StreamKind; id: string }[]) => void): void {
    this.reconnectedHandlers.push(handler);
  }

  /**
   * Appends an event to each of its streams (topicsOf: job, session, batch) in
   * one call; returns the ids given. With a ranked `order`, only if its rank
   * is above the last one appended under `order.key`, with a counted one only
   * the first time its member is counted (nothing is returned otherwise; EventOrder).
   */
  async publish(event: AtelierEvent, order?: EventOrder): Promise<{ jobEventId?: string; sessionEventId?: string; batchEventId?: string }> {
    const { topics, keys, limits } = this.streamsOf(event);
    const result: { jobEventId?: string; sessionEventId?: string; batchEventId?: string } = {};
    if (topics.length === 0) return result;
    const ids = await this.appendOrdered(keys, [bodiesOf(event)], limits, order);
    ids.forEach((id, i) => { result[`${topics[i].kind}EventId`] = id; });
    return result;
  }

  /** One event appended to `keys` as `order` says (EventOrder); the ids given, none when it was dropped. */
  private appendOrdered(
    keys: string[], bodies: [stored: string, live: string][], limits: [maxLen: number, ttlSeconds: number][], order: EventOrder | undefined,
  ): Promise<string[]> {
    if (!order) return this.append(keys, bodies, limits);
    const ttl = Math.max(...limits.map(([, seconds]) => seconds));
    if (!('rank' in order)) {
      return this.append([...keys, `${this.prefix}:${order.key}`, `${this.prefix}:${order.counter}`], bodies, limits, [order.member, ttl, 'counted']);
    }
    const rankKey = `${this.prefix}:${order.key}`;
    const end = order.notAfter;
    if (!end) return this.append([...keys, rankKey], bodies, limits, [order.rank, ttl, 'ordered']);
    const [endKey, after, kind] = endOf(end);
    return this.append([...keys, rankKey, `${this.prefix}:${endKey}`], bodies, limits, [after, kind, order.rank, ttl, 'ordered-unless']);
  }

  /**
   * Appends several events of one job (its steps, sent together) to the
   * job's streams in one call, in order: each is logged and published as
   * `publish` would, one script run for all of them. With `notAfter`, none
   * once the event of that order was appended (a run's steps after its
   * return to the queue was told).
   */
  async publishAll(events: readonly AtelierEvent[], notAfter?: EventOrder): Promise<void> {
    if (events.length === 0) return;
    const { keys, limits } = this.streamsOf(events[0]);
    if (keys.length === 0) return;
    const streams = keys.join(' ');
    if (events.some((event) => this.streamsOf(event).keys.join(' ') !== streams)) {
      throw new Error('publishAll takes events of one job: these go to different streams');
    }
    if (!notAfter) return void (await this.append(keys, events.map(bodiesOf), limits));
    const [endKey, after, kind] = endOf(notAfter);
    await this.append([...keys, `${this.prefix}:${endKey}`], events.map(bodiesOf), limits, [after, kind, 'unless']);
  }

  /** An event's streams: their kinds and ids, Redis keys, and MAXLEN and TTL each. */
  private streamsOf(event: AtelierEvent) {
    const topics = topicsOf(event);
    return { topics, keys: topics.map(({ kind, id }) => this.key(kind, id)), limits: topics.map(({ kind }) => this.limitsOf(kind)) };
  }

  private limitsOf(kind: StreamKind): [maxLen: number, ttlSeconds: number] {
    const l = this.limits;
    if (kind === 'job' || kind === 'training') return [l.jobMaxLen, l.jobTtlSeconds];
    return kind === 'session' ? [l.sessionMaxLen, l.sessionTtlSeconds] : [l.batchMaxLen, l.batchTtlSeconds];
  }

  /**
   * Appends a training run's event to the run's stream (replayed by
   * `trainingUpdated`, kept like a job's), as `order` says; undefined when dropped.
   */
  async publishTraining(event: TrainingEvent, order?: EventOrder): Promise<string | undefined> {
    const body = JSON.stringify(event);
    const [id] = await this.appendOrdered([this.key('training', event.runId)], [[body, body]], [this.limitsOf('training')], order);
    return id;
  }

  private append(
    keys: string[], bodies: [stored: string, live: string][], limits: [maxLen: number, ttlSeconds: number][], order: (string | number)[] = [],
  ): Promise<string[]> {
    return APPEND_SCRIPT.run(this.redis, keys, [bodies.length, ...bodies.flat(), ...limits.flat(), ...order]);
  }

  /**
   * Whether a job's stream holds an event of `type` among its first 16
   * entries (QUEUED is its first, or follows a POSITION or two).
   */
  async hasJobEvent(jobId: string, type: string): Promise<boolean> {
    return (await this.read('job', jobId, null, 16)).some((event) => event.type === type);
  }

  /**
   * Events of a stream after `after` (exclusive), or all of them when `after`
   * is null; the first `count` of them when given. An `after` the stream no
   * longer shows it has everything after (`lostAfter`) is BAD_USER_INPUT on
   * `after`: a replay from it would skip what was trimmed. So is one that is
   * no event of this stream (`foreignTo`: another stream's, or made up),
   * from which a replay would skip or repeat events without a word.
   */
  async read<E extends Logged = LoggedEvent>(kind: StreamKind, id: string, after: string | null, count?: number): Promise<E[]> {
    const key = this.key(kind, id);
    const from = after ?? '0-0';
    const events: E[] = [];
    let checked = false;
    await this.readPages<E>(key, from, async (page) => {
      if (!checked && await this.lostAfter(key, from, page[0]?.eventId)) {
        throw badInput('after', `Events after ${from} are no longer all kept (a stream keeps its latest, docs/limits.md): subscribe without after to start over`);
      }
      if (!checked && await this.foreignTo(key, from, page[0]?.eventId)) {
        throw badInput('after', `${from} is not an event of this stream: give the eventId of an event it delivered (or 0-0 for its start)`);
      }
      checked = true;
      for (const event of page) if (event.eventId !== from) events.push(event);
      return count === undefined || events.length < count;
    }, Math.min((count ?? READ_PAGE) + 1, READ_PAGE));
    return count === undefined ? events : events.slice(0, count);
  }

  /**
   * Hands `take` a stream's events from `from` on, `from` itself included
   * while the stream has it ('0-0': from the start), in pages of at most
   * `pageSize`, in order, each read once `take` has had the one before; stops
   * after a page `take` answers false for.
   */
  private async readPages<E extends Logged>(
    key: string, from: string, take: (page: E[]) => boolean | void | Promise<boolean | void>, pageSize = READ_PAGE,
  ): Promise<void> {
    for (let start = from === '0-0' ? '-' : from; ;) {
      const entries = (await this.redis.xrange(key, start, '+', 'COUNT', pageSize)) as [string, string[]][];
      const page = entries.map(([eventId, fields]) => ({ ...JSON.parse(fields[1]), eventId }) as E);
      if ((await take(page)) === false || page.length < pageSize) return;
      start = `(${page[page.length - 1].eventId}`;
    }
  }

  /**
   * Whether a stream can no longer show it holds every event after `from`:
   * `from` is gone from it (its first event, `first`, is later) and its cap
   * has trimmed its head, so what followed `from` may have gone too. '0-0'
   * (the stream's start) and a stream with nothing from `from` on lose nothing.
   */
  private async lostAfter(key: string, from: string, first: string | undefined): Promise<boolean> {
    return isBehind(from, first) && this.trimmedHead(key);
  }

  /**
   * Whether `from` is no event of a stream that is still kept, read after
   * `lostAfter` said nothing was trimmed past it: the stream's entries from
   * `from` on start with `first`, which is not `from` (a stream holds its
   * events from its first on, so `from` fell between two of them, before its
   * first, or after its last). '0-0' is every stream's start; a stream with
   * nothing kept (expired, or never written) cannot tell, and takes any.
   */
  private async foreignTo(key: string, from: string, first: string | undefined): Promise<boolean> {
    if (from === '0-0' || first === from) return false;
    return first !== undefined || (await this.lastIdOf(key)) !== '0-0';
  }

  /**
   * Whether a stream's cap (MAXLEN) has trimmed its head: more entries were
   * added to it than it holds (XINFO STREAM's entries-added, Redis 7.0 and
   * later; nothing else deletes from these streams). A Redis that does not say
   * cannot show that nothing was trimmed, so it counts as trimmed.
   */
  private async trimmedHead(key: string): Promise<boolean> {
    const info = (await this.redis.xinfo('STREAM', key)) as unknown[];
    const added = info.indexOf('entries-added');
    return added < 0 || Number(info[added + 1]) > Number(info[info.indexOf('length') + 1]);
  }

  /**
   * Replays what came after `after` (everything when `after` is 'start', nothing
   * when null) and continues live, with no gap and no duplicate: the live
   * listener is attached before the replay is read, and anything it buffered
   * at or before the last replayed id is dropped. The same holds across a
   * reconnection of the subscriber connection (`catchUp`), also one while the
   * replay is still being read: a queue with no event yet resumes from
   * `after`, from the stream's start for 'start', or with no replay from where
   * the stream stood when it opened (its last id, read before the live
   * listener is attached: one XREVRANGE), so a reconnection gives it what the
   * stream got since (with any published while its listener was being
   * attached). A catch-up that cannot give it that ends it with an error
   * (`catchUp`), and an `after` the stream can no longer show it has
   * everything after is refused (`read`).
   */
  async subscribe<E extends Logged = LoggedEvent>(
    kind: StreamKind, id: string, after: string | 'start' | null,
    options: { isLast?: (event: E) => boolean; onClose?: () => void } = {},
  ): Promise<AsyncQueue<E>> {
    const channel = this.key(kind, id);
    const buffered: E[] = [];
    let live: AsyncQueue<E> | null = null;
    /**
     * The last event pushed, or where the queue resumes from until one is (`catchUp`): `after`, the stream's start
     * for 'start' (a reconnection while the replay is read must not skip what it missed), or with no replay the
     * stream's last id before anything live can come; ids are compared only while `checking`.
     */
    let lastId: string = after === null ? await this.lastIdOf(channel) : after === 'start' ? '0-0' : after;
    let checking = false;
    let queue: AsyncQueue<E> | null = null;
    /** Set when a catch-up ends the subscription before its queue is made (`end`). */
    let ended: Error | null = null;
    const listener: Listener = {
      deliver: (logged) => {
        const event = logged as unknown as E;
        if (!live) return void buffered.push(event);
        // Only the first live events after the replay (or a catch-up) can repeat its: the channel is in log order
        // (XADD and PUBLISH happen in one script), so once one is past it every later one is, and no id is compared.
        if (checking) {
          if (compareEventIds(event.eventId, lastId) <= 0) return;
          checking = false;
        }
        lastId = event.eventId;
        live.push(event);
      },
      lastId: () => lastId,
      recheck: () => { checking = true; },
      end: (error) => {
        ended = error;
        queue?.end(error);
      },
    };
    await this.attach(channel, listener);
    // The queue is what graphql-ws iterates: no generator layers in between, so a
    // delivery costs one promise resolution per subscriber (see bench/fanout).
    queue = new AsyncQueue<E>(() => {
      this.detach(channel, listener);
      options.onClose?.();
    }, options.isLast);
    if (ended) queue.end(ended);
    try {
      if (after && !queue.ended) {
        for (const event of await this.read<E>(kind, id, after === 'start' ? null : after)) {
          queue.push(event);
          lastId = event.eventId;
        }
      }
    } catch (error) {
      queue.end();
      throw error;
    }
    live = queue;
    checking = true;
    for (const event of buffered) listener.deliver(event as unknown as LoggedEvent);
    return queue;
  }

  /**
   * The eventId of a stream's last event ('0-0' for none): an `after` that
   * replays everything appended after this read (`Session.lastEventId`).
   */
  lastEventId(kind: StreamKind, id: string): Promise<string> {
    return this.lastIdOf(this.key(kind, id));
  }

  /** The id of a stream's last event ('0-0' for none). */
  private async lastIdOf(key: string): Promise<string> {
    const [last] = (await this.redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last?.[0] ?? '0-0';
  }

  /**
   * Calls `onEvent` with each live event of a stream (no replay) until the
   * returned function is called; resolves once the listener is attached.
   */
  async watch(kind: StreamKind, id: string, onEvent: (event: LoggedEvent) => void): Promise<() => void> {
    const channel = this.key(kind, id);
    const listener: Listener = { deliver: onEvent };
    await this.attach(channel, listener);
    return () => this.detach(channel, listener);
  }

  /** Listeners of this process on a stream's live channel (0 once every subscriber has gone). */
  listenerCount(kind: StreamKind, id: string): number {
    return this.listeners.get(this.key(kind, id))?.size ?? 0;
  }

  private async attach(channel: string, listener: Listener): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.subscribing.set(channel, this.subscriber.subscribe(channel));
    }
    set.add(listener);
    try {
      await this.subscribing.get(channel);
    } catch (error) {
      // Not subscribed (ioredis gave the SUBSCRIBE up while its connection was away): a listener left behind would
      // buffer the channel's events for good and keep the failed subscribe for every later one.
      this.detach(channel, listener);
      throw error;
    }
  }

  private detach(channel: string, listener: Listener): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) {
      this.listeners.delete(channel);
      this.subscribing.delete(channel);
      this.subscriber.unsubscribe(channel).catch(() => undefined);
    }
  }

  private dispatch(channel: string, message: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    const space = message.indexOf(' ');
    const event = { ...(JSON.parse(message.slice(space + 1)) as AtelierEvent), eventId: message.slice(0, space) };
    const held = this.held.get(channel);
    if (held) return void held.push(event);
    for (const listener of set) listener.deliver(event);
  }

  /**
   * After the subscriber connection came back, gives each subscription what
   * its channel published while it was away, in order and once: a worker's
   * events after a Redis restart, a job's final event told again, whatever
   * a connection cut off without closing missed until it was replaced
   * (docs/operations.md, "Outages of PostgreSQL or Redis"). Live events wait
   * from now (nothing of the new connection is read before this tick ends)
   * until the channel's missed ones are read. Each round subscribes the
   * channels (ioredis has sent their SUBSCRIBE again too; ours is answered
   * after it), so what is published later comes live and what came earlier
   * is in the streams. A read that fails is tried again for up to
   * {@link CATCH_UP_MS}: the command connection may have been cut off with
   * this one and is replaced once a read has waited on it long enough. A
   * reconnection during a round (which leaves these channels to this
   * catch-up) makes another, or a new catch-up once that time is over. A
   * channel whose read still fails then ends its subscriptions with
   * SERVICE_UNAVAILABLE (`cannotCatchUp`) rather than go on after a gap; so
   * does one whose stream no longer holds what followed a subscription's last
   * event (`readMissed`). A subscriber connection closed for good (the process
   * stopping) ends it at once: nothing more can come, and its reads would
   * only fail again.
   */
  private async catchUp(): Promise<void> {
    const channels = [...this.listeners.keys()].filter((channel) => !this.held.has(channel));
    if (channels.length === 0) return;
    for (const channel of channels) this.held.set(channel, []);
    const deadline = Date.now() + this.catchUpMs;
    let pending = channels;
    let reconnected = false;
    for (;;) {
      const connection = this.connections;
      await this.subscriber.subscribe(...pending).catch(() => undefined);
      const read = await Promise.all(pending.map((channel) => this.readMissed(channel)));
      reconnected = connection !== this.connections;
      pending = (reconnected ? channels : pending.filter((_, i) => !read[i])).filter((channel) => this.listeners.has(channel));
      if (pending.length === 0 || Date.now() >= deadline || this.subscriber.status === 'end') break;
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_RETRY_MS));
    }
    const stopping = this.subscriber.status === 'end';
    // After a reconnection the next catch-up reads these channels again, with time of its own.
    if (!reconnected && !stopping) {
      const error = cannotCatchUp('Events published while the server\'s connection to Redis was away could not be read back');
      // A listener that is no subscription (`watch`) has nothing to resume from, and stays.
      for (const channel of pending) for (const listener of [...(this.listeners.get(channel) ?? [])]) listener.end?.(error);
    }
    for (const channel of channels) this.releaseHeld(channel);
    if (stopping) return;
    if (reconnected) void this.catchUp();
    const streams = [...this.listeners.keys()].map((channel) => this.streamOf(channel));
    for (const handler of this.reconnectedHandlers) handler(streams);
  }

  /**
   * Gives a channel's subscribers what its stream got after the last event
   * they have, a page at a time; false when it could not be read (what was
   * handed out stays: a subscriber's last event moved with it). A subscriber
   * whose last event the stream can no longer show it has all that followed
   * (`lostAfter`) is ended instead.
   */
  private async readMissed(channel: string): Promise<boolean> {
    let resumable = [...(this.listeners.get(channel) ?? [])].filter((l) => l.lastId);
    if (resumable.length === 0) return true;
    const from = resumable.map((l) => l.lastId!()).sort(compareEventIds)[0];
    let first = true;
    try {
      await this.readPages<LoggedEvent>(channel, from, async (page) => {
        if (first) {
          resumable = await this.endLost(channel, resumable, page[0]?.eventId);
          for (const listener of resumable) listener.recheck?.();
          first = false;
        }
        for (const event of page) for (const listener of resumable) listener.deliver(event);
      });
    } catch {
      return false;
    }
    return true;
  }

  /**
   * Ends each of `listeners` for which the stream, its first event now
   * `first`, can no longer show it holds everything after its last event
   * (`lostAfter`); returns the others.
   */
  private async endLost(channel: string, listeners: Listener[], first: string | undefined): Promise<Listener[]> {
    const lost = listeners.filter((l) => isBehind(l.lastId!(), first));
    if (lost.length === 0 || !(await this.trimmedHead(channel))) return listeners;
    const error = cannotCatchUp('The stream no longer holds every event that followed the last one this subscription delivered');
    for (const listener of lost) listener.end?.(error);
    return listeners.filter((l) => !lost.includes(l));
  }

  /** Hands out the live events a catch-up held, after what it read (those it read too are dropped). */
  private releaseHeld(channel: string): void {
    const held = this.held.get(channel) ?? [];
    this.held.delete(channel);
    const listeners = this.listeners.get(channel) ?? [];
    for (const listener of listeners) listener.recheck?.();
    for (const event of held) for (const listener of listeners) listener.deliver(event);
  }
}
