import type { ErrorCode } from './generated/enums';

/** A GraphQL error's `extensions`, as Atelier formats them. */
interface FormattedError {
  message: string;
  extensions?: { code?: unknown; field?: unknown };
}

/**
 * What every SDK call throws: Atelier's `extensions.code` (and `field` for bad
 * input), or NETWORK when no answer came back.
 */
export class AtelierError extends Error {
  constructor(message: string, readonly code: ErrorCode | 'NETWORK', readonly field: string | null = null) {
    super(message);
    this.name = 'AtelierError';
  }

  /** The first error of a GraphQL response. */
  static fromGraphQL(errors: readonly FormattedError[]): AtelierError {
    const [first] = errors;
    const code = typeof first?.extensions?.code === 'string' ? (first.extensions.code as ErrorCode) : 'INTERNAL';
    const field = typeof first?.extensions?.field === 'string' ? first.extensions.field : null;
    return new AtelierError(first?.message ?? 'Unknown GraphQL error', code, field);
  }
}
