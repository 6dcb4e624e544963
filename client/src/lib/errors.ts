import { CombinedGraphQLErrors } from '@apollo/client/errors';
import type { ErrorCode } from '../gql/enums';

/** A GraphQL error reduced to what the UI shows: a sentence, the code and the offending field. */
export interface ExplainedError {
  message: string;
  code?: ErrorCode;
  field?: string;
  limit?: number;
  retryAfterSeconds?: number;
  /** A CONFLICT over a training run of the viewer's: the run (`extensions.runId`). */
  runId?: string;
}

/** What people read when the token a request carried stopped working (expired, revoked). */
export const SESSION_ENDED = 'Your session has ended; sign in again.';

/**
 * Set by the Apollo link on an UNAUTHENTICATED error of a request that carried a
 * token: only then did a session end. A refused sign-in keeps the server's words.
 */
export const SESSION_ENDED_EXTENSION = 'sessionEnded';

const FRIENDLY: Partial<Record<ErrorCode, string>> = {
  INTERNAL: 'Something went wrong on our side. Try again in a moment.',
  // The client's own requests fit every tier's budget; should one not, the server's advice (smaller pages, fewer fields) is not the user's to follow.
  QUERY_TOO_COMPLEX: 'This page asked the server for more at once than your plan allows. Reload the page; if it happens again, tell us what you were doing.',
};

/** Turns whatever Apollo threw into one explained error (the first GraphQL error wins). */
export function explainError(error: unknown): ExplainedError | null {
  if (!error) return null;
  if (CombinedGraphQLErrors.is(error) && error.errors.length > 0) {
    const first = error.errors[0];
    const ext = (first.extensions ?? {}) as Record<string, unknown>;
    const code = typeof ext.code === 'string' ? (ext.code as ErrorCode) : undefined;
    const ended = code === 'UNAUTHENTICATED' && ext[SESSION_ENDED_EXTENSION] === true;
    return {
      message: ended ? SESSION_ENDED : (code && FRIENDLY[code]) || first.message,
      code,
      field: typeof ext.field === 'string' ? ext.field : undefined,
      limit: typeof ext.limit === 'number' ? ext.limit : undefined,
      retryAfterSeconds: typeof ext.retryAfterSeconds === 'number' ? ext.retryAfterSeconds : undefined,
      runId: typeof ext.runId === 'string' ? ext.runId : undefined,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/fetch|network/i.test(message)) return { message: 'Cannot reach the Atelier server. Check your connection and try again.' };
  return { message };
}

/**
 * The error a page looking up the record its URL names (/jobs/:id) shows, if any: none where the lookup found
 * nothing there for the viewer, NOT_FOUND or an id that is no UUID (BAD_USER_INPUT on `id`), which the page shows
 * as its own "not found". A broken link and an unknown id are one page to whoever follows them (docs/errors.md, "Ids").
 */
export function lookupError(error: unknown): unknown {
  const explained = explainError(error);
  const missing = explained?.code === 'NOT_FOUND' || (explained?.code === 'BAD_USER_INPUT' && explained.field === 'id');
  return missing ? undefined : error;
}
