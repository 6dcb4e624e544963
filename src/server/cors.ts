import type express from 'express';

/**
 * CORS for third-party SPAs. Credentials travel in the Authorization header,
 * never in cookies, so allowing other origins exposes nothing a script could
 * not already send; `origins` narrows it (ATELIER_CORS_ORIGINS).
 */
export function cors(origins: string[] | '*'): express.RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (origins === '*' || origins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origins === '*' ? '*' : origin);
      if (origins !== '*') res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'X-Request-ID');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Request-ID, Apollo-Require-Preflight, Traceparent');
        res.setHeader('Access-Control-Max-Age', '600');
        return void res.status(204).end();
      }
    }
    next();
  };
}
