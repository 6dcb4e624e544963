import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { ApolloServerPlugin } from '@apollo/server';
import compression from 'compression';
import type express from 'express';
import type { GraphQLError } from 'graphql';
import { describeError, ErrorCode, OUTAGE_RETRY_AFTER_SECONDS } from '../kernel/errors';
import type { AppContext } from '../resolvers/context';

/** Bytes of query text the automatic persisted query cache holds (least recently used go first). */
export const APQ_CACHE_BYTES = 8 * 1024 * 1024;
/** How long a registered persisted query stays known without being used again, in seconds. */
export const APQ_TTL_SECONDS = 24 * 60 * 60;
/** Responses smaller than this go out uncompressed: below it gzip saves less than it costs. */
export const COMPRESS_ABOVE_BYTES = 1024;

/** Apollo's automatic persisted queries, on a cache of its own with a size bound (docs/request-limits.md). */
export function persistedQueries() {
  return { cache: new InMemoryLRUCache<string>({ maxSize: APQ_CACHE_BYTES }), ttl: APQ_TTL_SECONDS };
}

/**
 * gzip or brotli (as the client's Accept-Encoding asks) for /graphql answers
 * over COMPRESS_ABOVE_BYTES. Streams are never compressed: the compressor
 * would hold back the chunks a client waits for (graphql-ws runs on the
 * upgraded socket and never passes through here).
 */
export function compressResponses(): express.RequestHandler {
  return compression({
    threshold: COMPRESS_ABOVE_BYTES,
    filter: (req, res) => {
      const type = String(res.getHeader('content-type') ?? '');
      if (/^(text\/event-stream|multipart\/)/i.test(type)) return false;
      return compression.filter(req, res);
    },
  });
}

/**
 * Every answer is `Cache-Control: no-store`: no field carries a cache hint.
 * This replaces Apollo's cache-control plugin, which wraps every field
 * resolver of every request to collect hints the schema never gives
 * (docs/architecture.md, "The request path").
 */
export const noStorePlugin: ApolloServerPlugin<AppContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (!response.http.headers.has('cache-control')) response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};

function retryAfterOf(errors: readonly GraphQLError[], codes: ErrorCode[]): number | null {
  const seconds = errors
    .map((e) => describeError(e))
    .filter((d) => codes.includes(d.code))
    .map((d) => d.extensions.retryAfterSeconds)
    .filter((s): s is number => typeof s === 'number');
  return seconds.length > 0 ? Math.max(...seconds) : null;
}

/**
 * The HTTP status of an answer whose errors say "come back later", so
 * clients, proxies and load balancers back off without reading the body:
 * - an operation that hit a PostgreSQL or Redis outage answers 503 with Retry-After;
 * - an operation refused as a whole (no data) by a rate limit or a quota that
 *   frees up answers 429 with Retry-After. A quota that waiting cannot lift
 *   (retryAfterSeconds null: a tier's ceiling) keeps 200, like a partial answer.
 * Refusals before execution (the RequestGate's rate limit) carry both through
 * toGraphQLError (kernel/graphql-errors.ts).
 */
export const refusalStatusPlugin: ApolloServerPlugin<AppContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, errors }) {
        if (!errors?.length) return;
        if (errors.some((e) => describeError(e).code === ErrorCode.SERVICE_UNAVAILABLE)) {
          response.http.status = 503;
          response.http.headers.set('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
          return;
        }
        const body = response.body;
        if (body.kind !== 'single' || body.singleResult.data != null) return;
        const retryAfter = retryAfterOf(errors, [ErrorCode.RATE_LIMITED, ErrorCode.QUOTA_EXCEEDED]);
        if (retryAfter === null) return;
        response.http.status = 429;
        response.http.headers.set('retry-after', String(retryAfter));
      },
    };
  },
};
