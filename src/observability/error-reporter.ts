import { describeError, outageBehind, type ErrorDescription } from '../kernel/errors';
import type { Logger } from './logger';
import type { AtelierMetrics } from './metrics';
import { OutageLog } from './outage-log';
import type { RecentErrors } from './recent-errors';

export type Transport = 'http' | 'ws' | 'rest';

/** Where an error happened, for the log line and the admin's recent-errors list. */
export interface ErrorSite {
  transport: Transport;
  requestId: string | null;
  /** Operation label (GraphQL) or route (REST). */
  operation: string;
  userId?: string | null;
}

/**
 * The one place errors are counted and logged, for every transport: each
 * error is described once (kernel/errors.ts `describeError`), counted in
 * `atelier_errors_total{transport,code}` (and `atelier_refusals_total` when a
 * limit refused), and unexpected ones are logged at error level and kept for
 * the admin page. An outage (SERVICE_UNAVAILABLE) is neither: during one every
 * request and every subscriber's every event fails the same way, so it is
 * logged at warn, at most once a minute per transport, and not kept
 * (docs/operations.md, "What an outage logs"). Clients see the same
 * description (the formatters call `describeError` too), so the client's
 * code, the log's code and the metric label always agree.
 */
export class ErrorReporter {
  private readonly outages = new Map<Transport, OutageLog>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: AtelierMetrics,
    private readonly recentErrors?: RecentErrors,
  ) {}

  /**
   * Counts and logs one error; `quiet` leaves the log line of an expected error to a caller that logs its own with
   * the code. Outages past the first of the minute are logged at debug only.
   */
  report(error: unknown, site: ErrorSite, quiet = false): ErrorDescription {
    const described = describeError(error);
    this.metrics.errors.inc({ transport: site.transport, code: described.code });
    if (described.kind === 'refusal') this.metrics.refusals.inc({ code: described.code });
    if (described.kind === 'outage') {
      const logged = this.outageLog(site.transport).warn({ ...site, errorCode: described.code, reason: reasonOf(error) });
      if (!logged && !quiet) this.logger.debug({ ...site, errorCode: described.code }, 'request refused');
    } else if (described.kind !== 'unexpected') {
      if (!quiet) this.logger.info({ ...site, errorCode: described.code }, 'request refused');
    } else {
      const message = (error as Error | null)?.message ?? String(error);
      this.logger.error({ err: error, ...site, errorCode: described.code }, 'unexpected error');
      this.recentErrors?.record({ at: new Date().toISOString(), code: described.code, message, requestId: site.requestId, operation: site.operation })
        .catch(() => undefined);
    }
    return described;
  }

  private outageLog(transport: Transport): OutageLog {
    let log = this.outages.get(transport);
    if (!log) {
      log = new OutageLog(this.logger, `${transport} requests answered SERVICE_UNAVAILABLE: a server Atelier depends on is unreachable`);
      this.outages.set(transport, log);
    }
    return log;
  }
}

/** What said the server is unreachable, as its client said it (`connect ECONNREFUSED …`, `Command timed out`). */
function reasonOf(error: unknown): string {
  return String(outageBehind(error)?.message ?? error);
}
