import type { Command } from 'commander';
import { connect, follow, request, signInHint, socket } from '../client';
import type { GlobalOptions } from '../options';
import { outputOf } from '../output';
import { requeuedText } from '../progress';

interface SessionEvent {
  eventId: string; type: string; at: string; jobId: string | null; step: number | null; totalSteps: number | null;
  queuePosition: number | null; requeueReason: string | null; onlineUserIds: string[]; user: { id: string; displayName: string | null } | null;
  error: { code: string; message: string } | null;
}

const EVENTS = `subscription CliWatch($sessionId: ID!, $after: String) {
  sessionEvents(sessionId: $sessionId, after: $after) {
    eventId type at jobId step totalSteps queuePosition requeueReason onlineUserIds error { code message } user { id displayName }
  }
}`;

/** One terminal line per event: time, type, job, and what changed. */
function describe(event: SessionEvent): string {
  const who = event.user ? ` by ${event.user.displayName ?? event.user.id}` : '';
  const job = event.jobId ? ` job ${event.jobId}` : '';
  const detail = {
    PROGRESS: ` step ${event.step}/${event.totalSteps}`,
    POSITION: ` queue position ${event.queuePosition}`,
    QUEUED: `${event.requeueReason ? ` ${requeuedText(event.requeueReason)},` : ''}${event.queuePosition != null ? ` queue position ${event.queuePosition}` : ''}`,
    FAILED: event.error ? ` ${event.error.code}: ${event.error.message}` : '',
    PRESENCE: ` ${event.onlineUserIds.length} online`,
  }[event.type] ?? '';
  return `${event.at.slice(11, 19)} ${event.type.padEnd(13)}${job}${detail}${who}`;
}

const POSITION = 'query CliWatchFrom($id: ID!) { session(id: $id) { lastEventId } }';

/**
 * Prints the session's events until Ctrl-C (then exits 0); `--json` prints one JSON object per line. The feed
 * starts where the session's stream stood when `watch` began (`Session.lastEventId`, read first), so a feed cut
 * before its first event resumes from there; a cut feed is resumed after the last event printed (`follow`).
 */
async function watch(sessionId: string, opts: GlobalOptions): Promise<void> {
  const output = outputOf(opts);
  const conn = connect(opts.url);
  const client = socket(conn);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  try {
    // A session the viewer cannot read has no position: the subscription then says why (NOT_FOUND, FORBIDDEN).
    const { session } = await request<{ session: { lastEventId: string } | null }>(conn, POSITION, { id: sessionId });
    // From here on every event of the session is printed.
    if (!output.json) console.log(`watching session ${sessionId} (Ctrl-C to stop)`);
    await follow<{ sessionEvents: SessionEvent }>(client, EVENTS, { sessionId, after: session?.lastEventId ?? null }, ({ sessionEvents }) => sessionEvents.eventId, ({ sessionEvents }) => {
      console.log(output.json ? JSON.stringify(sessionEvents) : describe(sessionEvents));
    }, stop.signal);
  } catch (error) {
    throw signInHint(conn, error);
  } finally {
    await client.dispose();
  }
}

export function watchCommand(program: Command): void {
  program.command('watch').description('a live feed of a session\'s events, until Ctrl-C')
    .argument('<sessionId>', 'the session to watch')
    .action(async (sessionId: string, _o, command: Command) => watch(sessionId, command.optsWithGlobals<GlobalOptions>()));
}
