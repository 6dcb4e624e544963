import { ErrorCode } from '../kernel/errors';

/**
 * The `atelier` CLI's exit status for each error code (README, "Command
 * line"). A `Record` over `ErrorCode`, so a new code fails the build until it
 * is given a status here. 0 is success; Ctrl-C ends a command with 130, as
 * the shell reports a command it stopped (`train` and `generate` say
 * CANCELLED first; `generate` cancels its job, or says it had already ended), except `watch`, which exits 0.
 */
export const EXIT_CODES: Record<ErrorCode, number> = {
  [ErrorCode.BAD_USER_INPUT]: 2,
  [ErrorCode.UNAUTHENTICATED]: 3,
  [ErrorCode.FORBIDDEN]: 4,
  [ErrorCode.NOT_FOUND]: 5,
  [ErrorCode.QUOTA_EXCEEDED]: 6,
  [ErrorCode.RATE_LIMITED]: 6,
  [ErrorCode.SERVICE_UNAVAILABLE]: 7,
  [ErrorCode.CONFLICT]: 1,
  [ErrorCode.QUERY_TOO_COMPLEX]: 1,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 1,
  [ErrorCode.GRAPHQL_PARSE_FAILED]: 1,
  [ErrorCode.GRAPHQL_VALIDATION_FAILED]: 1,
  [ErrorCode.BAD_REQUEST]: 1,
  [ErrorCode.PERSISTED_QUERY_NOT_FOUND]: 1,
  [ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED]: 1,
  [ErrorCode.OPERATION_RESOLUTION_FAILURE]: 1,
  [ErrorCode.INTERNAL]: 1,
};

/** A job that ended FAILED or CANCELLED: the request was fine, the work did not finish. */
export const EXIT_JOB_FAILED = 1;

/** The signals that stop a command (`generate`, `train`): Ctrl-C and a polite kill. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Exit status of a command stopped by a signal: the shell's 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM). */
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** How a message names the signal that stopped a command. */
export const signalName = (signal: StopSignal): string => (signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM');
