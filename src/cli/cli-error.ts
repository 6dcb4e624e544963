import { ErrorCode, isErrorCode } from '../kernel/errors';

/** An error the CLI reports and exits on: the server's code, message and offending field. */
export class CliError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'CliError';
  }

  /** From a GraphQL error object (`extensions.code`, `extensions.field`). */
  static fromGraphQL(error: { message?: unknown; extensions?: Record<string, unknown> }): CliError {
    const code = error.extensions?.code;
    const field = error.extensions?.field;
    return new CliError(isErrorCode(code) ? code : ErrorCode.INTERNAL, String(error.message ?? 'Unknown error'), typeof field === 'string' ? field : null);
  }
}

export const badCliInput = (field: string, message: string): CliError => new CliError(ErrorCode.BAD_USER_INPUT, message, field);
