import corsMiddleware from 'cors';
import type express from 'express';

/**
 * CORS for third-party SPAs, through the `cors` package. Credentials travel in
 * the Authorization header, never in cookies, so allowing other origins
 * exposes nothing a script could not already send; `origins` narrows it
 * (ATELIER_CORS_ORIGINS): a listed origin is echoed back with `Vary: Origin`,
 * any other gets no Access-Control-Allow-Origin.
 */
export function cors(origins: string[] | '*'): express.RequestHandler {
  return corsMiddleware({
    origin: origins,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-ID', 'Apollo-Require-Preflight', 'Traceparent'],
    exposedHeaders: ['X-Request-ID'],
    maxAge: 600,
  });
}
