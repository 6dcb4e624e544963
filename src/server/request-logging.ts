import type { ApolloServerPlugin } from '@apollo/server';
import { Kind } from 'graphql';
import type { AppContext } from '../resolvers/context';
import type { ErrorReporter } from '../observability/error-reporter';
import type { Logger } from '../observability/logger';
import type { AtelierMetrics } from '../observability/metrics';
import { annotateActiveSpan } from '../observability/tracing';

/** The caller's operation name for logs and traces (free text, so never a metric label), if it is a GraphQL name. */
function loggedName(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'other';
}

/**
 * One JSON log line per GraphQL operation over HTTP (request id, operation
 * name and type, user id, duration, outcome, error codes) and the
 * operation metrics. Errors are counted and described by the ErrorReporter,
 * so the codes logged here are the codes the client saw. Variables are never
 * logged: they hold prompts and passwords.
 */
export function requestLoggingPlugin(options: { logger: Logger; metrics: AtelierMetrics; errors: ErrorReporter }): ApolloServerPlugin<AppContext> {
  const { logger, metrics, errors: reporter } = options;
  return {
    async contextCreationDidFail({ error }) {
      // Thrown while authenticating or by the per-user request limit, before any operation ran.
      const { code } = reporter.report(error, { transport: 'http', requestId: null, operation: 'unknown' }, true);
      metrics.graphqlOperations.inc({ operation: 'unknown', type: 'unknown', outcome: 'error' });
      logger.info({ transport: 'http', outcome: 'error', errorCodes: [code] }, 'graphql request refused');
    },
    async requestDidStart({ request }) {
      const started = process.hrtime.bigint();
      let operation = loggedName(request.operationName);
      // Until the operation is resolved (it may never be: parse and validation errors) nothing the caller wrote is a label.
      let label = 'other';
      let type = 'unknown';
      const seen: unknown[] = [];
      return {
        async didResolveOperation({ operationName, operation: definition }) {
          const first = definition?.selectionSet.selections[0];
          operation = loggedName(operationName);
          label = metrics.operationLabel(operationName, first?.kind === Kind.FIELD ? first.name.value : null);
          type = definition?.operation ?? type;
          annotateActiveSpan({ name: operation, type });
        },
        async didEncounterErrors({ errors }) {
          seen.push(...errors);
        },
        async willSendResponse({ contextValue }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const requestId = contextValue.requestId;
          const userId = contextValue.viewer?.user.id ?? null;
          const described = seen.map((error) => reporter.report(error, { transport: 'http', requestId, operation, userId }, true));
          const codes = described.map((d) => d.code);
          const outcome = codes.length ? 'error' : 'ok';
          metrics.graphqlOperations.inc({ operation: label, type, outcome });
          metrics.graphqlDuration.observe({ operation: label, type, outcome }, seconds);
          annotateActiveSpan(null, codes);
          const line = {
            transport: 'http', requestId, operation, operationType: type, userId,
            durationMs: Math.round(seconds * 1000), outcome, ...(codes.length ? { errorCodes: [...new Set(codes)] } : {}),
          };
          if (described.some((d) => d.kind === 'unexpected')) logger.error(line, 'graphql operation failed');
          else logger.info(line, 'graphql operation');
        },
      };
    },
  };
}
