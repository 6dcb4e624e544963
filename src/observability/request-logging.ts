import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type GraphQLError } from 'graphql';
import type { AppContext } from '../schema/context';
import { parseLimitOf } from '../schema/document-limits';
import { findAppError } from '../schema/errors';
import type { Logger } from './logger';
import type { AtelierMetrics } from './metrics';
import type { RecentErrors } from './recent-errors';
import { annotateActiveSpan } from './tracing';

/** Error codes that are refusals by a limit, counted in `atelier_refusals_total`. */
const REFUSAL_CODES = new Set(['QUOTA_EXCEEDED', 'RATE_LIMITED']);
/** Codes that mean the server misbehaved: logged at error level and kept for the admin page. */
const UNEXPECTED_CODES = new Set(['INTERNAL', 'INTERNAL_SERVER_ERROR']);

/** The code a client sees for `error` (domain code, GraphQL extension code, or INTERNAL). */
export function errorCodeOf(error: GraphQLError | Error): string {
  const appError = findAppError(error);
  if (appError) return appError.code;
  // Document limits keep their code through Apollo's parse and validation wrappers.
  if ((error as GraphQLError).extensions?.queryLimit || parseLimitOf(error)) return 'QUERY_TOO_COMPLEX';
  const code = (error as GraphQLError).extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

/** The caller's operation name for logs and traces (free text, so never a metric label), if it is a GraphQL name. */
function loggedName(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'other';
}

/**
 * One JSON log line per GraphQL operation over HTTP (request id, operation
 * name and type, user id, duration, outcome, error codes) and the
 * operation metrics. Variables are never logged: they hold prompts and
 * passwords.
 */
export function requestLoggingPlugin(options: { logger: Logger; metrics: AtelierMetrics; recentErrors?: RecentErrors }): ApolloServerPlugin<AppContext> {
  const { logger, metrics, recentErrors } = options;
  return {
    async contextCreationDidFail({ error }) {
      // Thrown while authenticating or by the per-user request limit, before any operation ran.
      const code = errorCodeOf(error);
      if (REFUSAL_CODES.has(code)) metrics.refusals.inc({ code });
      metrics.graphqlOperations.inc({ operation: 'unknown', type: 'unknown', outcome: 'error' });
      logger.info({ outcome: 'error', errorCodes: [code] }, 'graphql request refused');
    },
    async requestDidStart({ request }) {
      const started = process.hrtime.bigint();
      let operation = loggedName(request.operationName);
      // Until the operation is resolved (it may never be: parse and validation errors) nothing the caller wrote is a label.
      let label = 'other';
      let type = 'unknown';
      const codes: string[] = [];
      let unexpectedMessage: string | null = null;
      return {
        async didResolveOperation({ operationName, operation: definition }) {
          const first = definition?.selectionSet.selections[0];
          operation = loggedName(operationName);
          label = metrics.operationLabel(operationName, first?.kind === Kind.FIELD ? first.name.value : null);
          type = definition?.operation ?? type;
          annotateActiveSpan({ name: operation, type });
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const code = errorCodeOf(error);
            codes.push(code);
            if (UNEXPECTED_CODES.has(code)) unexpectedMessage ??= (error.originalError ?? error).message;
          }
        },
        async willSendResponse({ contextValue }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const outcome = codes.length ? 'error' : 'ok';
          metrics.graphqlOperations.inc({ operation: label, type, outcome });
          metrics.graphqlDuration.observe({ operation: label, type, outcome }, seconds);
          for (const code of codes) if (REFUSAL_CODES.has(code)) metrics.refusals.inc({ code });
          annotateActiveSpan(null, codes);
          const line = {
            requestId: contextValue.requestId, operation, operationType: type, userId: contextValue.viewer?.user.id ?? null,
            durationMs: Math.round(seconds * 1000), outcome, ...(codes.length ? { errorCodes: [...new Set(codes)] } : {}),
          };
          if (unexpectedMessage !== null) {
            logger.error(line, 'graphql operation failed');
            await recentErrors?.record({
              at: new Date().toISOString(), code: 'INTERNAL', message: unexpectedMessage, requestId: contextValue.requestId, operation,
            }).catch(() => undefined);
          } else {
            logger.info(line, 'graphql operation');
          }
        },
      };
    },
  };
}
