import type express from 'express';
import helmet, { contentSecurityPolicy } from 'helmet';

/**
 * The Content-Security-Policy the bundled client runs under: its own scripts,
 * styles and fonts only (Vite emits no inline script; React sets styles
 * through the DOM, which CSP allows), images from the API (signed `/files`
 * URLs) and the `data:` URLs of latent previews, fetch and WebSocket to the
 * API ('self' covers ws(s) to the same host), and no framing by anyone.
 */
export function contentSecurityDirectives(https: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/**
 * Security headers on every response (helmet): nosniff, no framing
 * (X-Frame-Options DENY with CSP frame-ancestors 'none'), no Referer (invite
 * and album-link tokens sit in URLs), HSTS only when the public URL is https.
 * Resources may be read cross-origin only when CORS lets other origins in.
 * `/graphql` gets no header CSP: Apollo's landing page there brings its own
 * nonce-based CSP in a meta tag, and a header policy would intersect with it.
 */
export function securityHeaders(options: { publicUrl: string; corsOrigins: string[] | '*' }): express.RequestHandler[] {
  const csp = contentSecurityPolicy({ useDefaults: false, directives: contentSecurityDirectives(new URL(options.publicUrl).protocol === 'https:') });
  return [
    graphQLSecurityHeaders(options),
    (req, res, next) => (req.path === '/graphql' ? next() : csp(req, res, next)),
  ];
}

/** The headers of `securityHeaders` without the CSP: what `/graphql` sends. Plain node:http middleware, as helmet is. */
export function graphQLSecurityHeaders(options: { publicUrl: string; corsOrigins: string[] | '*' }): ReturnType<typeof helmet> {
  const https = new URL(options.publicUrl).protocol === 'https:';
  const own = new URL(options.publicUrl).origin;
  const foreignAllowed = options.corsOrigins === '*' || options.corsOrigins.some((origin) => origin !== own);
  return helmet({
    contentSecurityPolicy: false,
    strictTransportSecurity: https ? { maxAge: 365 * 24 * 3600, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: foreignAllowed ? 'cross-origin' : 'same-origin' },
  });
}
