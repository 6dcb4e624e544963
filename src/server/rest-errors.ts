import type express from 'express';
import type { ErrorReporter, ErrorSite } from '../observability/error-reporter';

/**
 * Answers a REST route's error as JSON `{ error, code, …extensions }` with the
 * status, Retry-After and reporting that GraphQL errors get (same codes, same
 * metric, same log).
 */
export function sendRestError(res: express.Response, error: unknown, reporter: ErrorReporter, site: Omit<ErrorSite, 'transport'>): void {
  const described = reporter.report(error, { ...site, transport: 'rest' });
  const retryAfter = described.extensions.retryAfterSeconds;
  if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
  res.status(described.httpStatus).json({ ...described.extensions, error: described.message, code: described.code });
}
