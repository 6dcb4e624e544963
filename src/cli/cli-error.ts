import { ErrorCode, isErrorCode } from '../kernel/errors';
import type { AnsweredFailure } from '../../sdk/src/retries';
import { SIGNAL_EXIT } from './exit-codes';

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

/** The user stopped the command (Ctrl-C at a prompt): code CANCELLED, exit 130 like any command stopped by Ctrl-C. */
export class CancelledError extends Error {
  readonly code = 'CANCELLED';
  readonly exitCode = SIGNAL_EXIT.SIGINT;
  constructor(message: string) {
    super(message);
    this.name = 'CancelledError';
  }
}

export const badCliInput = (field: string, message: string): CliError => new CliError(ErrorCode.BAD_USER_INPUT, message, field);

const ERRNO_REASONS: Record<string, string> = {
  EISDIR: 'it is a folder', ENOTDIR: 'a file is in the way of a folder', EEXIST: 'a file is in the way', ENOENT: 'no such file or folder',
  EACCES: 'permission denied', EPERM: 'not permitted', ENOSPC: 'the disk is full', EROFS: 'read-only file system',
};

/** A file system error's code in words ("EACCES" → "permission denied"); an unknown code as it is. */
export const errnoReason = (code: string | undefined): string => (code ? ERRNO_REASONS[code] ?? code : 'unknown error');

/**
 * The error with the server's (or trainer's) field names given as the flags
 * the user typed (`presetId` → `preset`, "rank must be …" → "--network_dim
 * must be …"), so the message says what to fix on the command line.
 */
export function asFlags(error: unknown, flagOf: Record<string, string>): unknown {
  if (!(error instanceof CliError) || !error.field) return error;
  const flag = flagOf[error.field.replace(/\[.*$/, '')];
  if (!flag || flag === error.field) return error;
  // Messages start with the field ("presetId must be a UUID"); an indexed one (images[3].caption) keeps its words.
  const message = error.message.startsWith(`${error.field} `) ? `--${flag}${error.message.slice(error.field.length)}` : error.message;
  return new CliError(error.code, message, flag, { status: error.status ?? undefined, retryAfterSeconds: error.retryAfterSeconds ?? undefined });
}
