import { ErrorCode, isErrorCode } from '../kernel/errors';
import type { AnsweredFailure } from '../../sdk/src/retries';

/** An error the CLI reports and exits on: the server's code, message and offending field. */
export class CliError extends Error {
  /** The answer's HTTP status; null when no answer came (or the error is the CLI's own). */
  readonly status: number | null;
  /** The wait the server asked for before trying again (Retry-After), else null. */
  readonly retryAfterSeconds: number | null;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field: string | null = null,
    answer: Partial<AnsweredFailure> = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.status = answer.status ?? null;
    this.retryAfterSeconds = answer.retryAfterSeconds ?? null;
  }

  /** From a GraphQL error object (`extensions.code`, `extensions.field`) and the answer it came in. */
  static fromGraphQL(
    error: { message?: unknown; extensions?: Record<string, unknown> }, answer: Partial<AnsweredFailure> = {},
  ): CliError {
    const code = error.extensions?.code;
    const field = error.extensions?.field;
    return new CliError(isErrorCode(code) ? code : ErrorCode.INTERNAL, String(error.message ?? 'Unknown error'), typeof field === 'string' ? field : null, answer);
  }
}

export const badCliInput = (field: string, message: string): CliError => new CliError(ErrorCode.BAD_USER_INPUT, message, field);
