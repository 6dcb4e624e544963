import { CombinedGraphQLErrors } from '@apollo/client/errors';
import type { ErrorCode } from '../gql/enums';

/** A GraphQL error reduced to what the UI shows: a sentence, the code and the offending field. */
export interface ExplainedError {
  message: string;
  code?: ErrorCode;
  field?: string;
  limit?: number;
  retryAfterSeconds?: number;
}

const FRIENDLY: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  INTERNAL: 'Something went wrong on our side. Try again in a moment.',
};

/** Turns whatever Apollo threw into one explained error (the first GraphQL error wins). */
export function explainError(error: unknown): ExplainedError | null {
  if (!error) return null;
  if (CombinedGraphQLErrors.is(error) && error.errors.length > 0) {
    const first = error.errors[0];
    const ext = (first.extensions ?? {}) as Record<string, unknown>;
    const code = typeof ext.code === 'string' ? (ext.code as ErrorCode) : undefined;
    return {
      message: code && FRIENDLY[code] && code !== 'FORBIDDEN' ? FRIENDLY[code] : first.message,
      code,
      field: typeof ext.field === 'string' ? ext.field : undefined,
      limit: typeof ext.limit === 'number' ? ext.limit : undefined,
      retryAfterSeconds: typeof ext.retryAfterSeconds === 'number' ? ext.retryAfterSeconds : undefined,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/fetch|network/i.test(message)) return { message: 'Cannot reach the Atelier server. Check your connection and try again.' };
  return { message };
}
