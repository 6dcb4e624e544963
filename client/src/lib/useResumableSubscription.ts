import type { ErrorLike, OperationVariables, TypedDocumentNode } from '@apollo/client';
import { useSubscription } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import { explainError } from './errors';

/** The longest wait between two tries to pick a stream up again. */
const MAX_RESUME_DELAY_MS = 30_000;

export interface ResumableOptions<TData, TVariables> {
  /** The stream's variables without `after`, which this hook sets. */
  variables: Omit<TVariables, 'after'>;
  /**
   * Where the stream starts until an event arrives (`Session.lastEventId`, read with the page's data): the
   * events after that read, so none is lost between the read and the subscription, and a reconnection before
   * the first event resumes from there. Without it the stream starts as the server does without `after`.
   * Read while nothing is delivered: keep it the same for the stream (the first read's).
   */
  from?: string | null;
  skip?: boolean;
  /** The eventId of a delivered event. */
  eventIdOf: (data: TData) => string | null | undefined;
  onData: (data: TData) => void;
}

/**
 * A live stream (`jobUpdated`, `batchUpdated`, `trainingUpdated`,
 * `sessionEvents`) that picks up where it stopped, as the SDK and the CLI
 * do (docs/errors.md, "Subscriptions"):
 *
 * - after the WebSocket dropped and came back, graphql-ws subscribes again
 *   by itself, with `after` set to the last eventId delivered
 *   (resume-link.ts);
 * - when the server ends it with SERVICE_UNAVAILABLE (it could not show it
 *   had every event after an outage of its Redis), it subscribes again the
 *   same way once `retryAfterSeconds` have passed, backing off while that
 *   keeps failing; meanwhile the error is not shown (the page says nothing
 *   went wrong while it is being mended);
 * - when its `after` is no longer kept (BAD_USER_INPUT on `after`), it
 *   subscribes without one: a job's, batch's or run's stream then replays
 *   from its first event, a session's goes on live.
 *
 * Until its first event, the stream resumes from `from` when given.
 *
 * Any other error (FORBIDDEN, NOT_FOUND) ends it and is returned.
 */
export function useResumableSubscription<TData, TVariables extends OperationVariables & { after?: string | null }>(
  document: TypedDocumentNode<TData, TVariables>,
  options: ResumableOptions<TData, TVariables>,
): { error: ErrorLike | undefined } {
  // Which stream (its variables): a page that shows another job, batch, run or session in the same component
  // (its route's id changed) starts that stream afresh, never after the other stream's last event.
  const stream = JSON.stringify(options.variables);
  const latest = useRef({ options, stream });
  latest.current = { options, stream };
  /** The last event delivered, and of which stream. */
  const last = useRef<{ stream: string; eventId: string | null }>({ stream, eventId: null });
  const lastOfCurrent = () => (last.current.stream === latest.current.stream ? last.current.eventId : null);
  const failures = useRef(0);
  /** Set once the hook chose where to resume (after an end the server could not avoid); until then `from`. */
  const [resume, setResume] = useState<{ stream: string; after: string | null } | null>(null);
  const after = resume?.stream === stream ? resume.after : options.from ?? null;
  const result = useSubscription(document, {
    variables: { ...options.variables, after } as unknown as TVariables,
    skip: options.skip,
    onData: ({ data }) => {
      if (!data.data) return;
      failures.current = 0;
      const eventId = latest.current.options.eventIdOf(data.data);
      if (eventId) last.current = { stream: latest.current.stream, eventId };
      latest.current.options.onData(data.data);
    },
  });
  const explained = explainError(result.error);
  const unavailable = explained?.code === 'SERVICE_UNAVAILABLE';
  const afterGone = explained?.code === 'BAD_USER_INPUT' && explained.field === 'after';
  const { restart } = result;
  useEffect(() => {
    if (!unavailable && !afterGone) return undefined;
    const delay = afterGone ? 0 : Math.min(
      MAX_RESUME_DELAY_MS, Math.max((explained?.retryAfterSeconds ?? 1) * 1000, 500 * 2 ** failures.current),
    );
    const timer = setTimeout(() => {
      failures.current += 1;
      const next = afterGone ? null : lastOfCurrent() ?? latest.current.options.from ?? null;
      if (afterGone) last.current = { stream: latest.current.stream, eventId: null };
      // The same variables would not subscribe again by themselves.
      if (next === after) restart();
      else setResume({ stream: latest.current.stream, after: next });
    }, delay);
    return () => clearTimeout(timer);
  }, [result.error, unavailable, afterGone, explained?.retryAfterSeconds, after, restart]);
  // While it is being picked up again, nothing went wrong that the page should show.
  return { error: unavailable || afterGone ? undefined : result.error };
}
