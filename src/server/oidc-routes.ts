import { parse as parseCookies } from 'cookie';
import type express from 'express';
import type { Logger } from '../observability/logger';
import type { RequestOrigin } from '../services/audit-log';
import { PENDING_TTL_SECONDS, SignInRefused, type OidcSignIn } from '../services/oidc-sign-in';

/** Ties a sign-in to the browser that started it (login CSRF): the callback's state must match. */
const STATE_COOKIE = 'atelier_oidc_state';
const COOKIE_PATH = '/auth/oidc';

/**
 * `GET /auth/oidc/start[?next=/path]` sends the browser to the provider;
 * `GET /auth/oidc/callback` finishes there and lands on the SPA's
 * `/signin/sso#code=…` (or `#error=<reason>`). See docs/single-sign-on.md.
 */
export function mountOidcRoutes(app: express.Express, oidc: OidcSignIn, logger: Logger): void {
  const log = logger.child({ component: 'oidc' });

  app.get(`${COOKIE_PATH}/start`, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const next = typeof req.query.next === 'string' ? req.query.next : undefined;
    try {
      const { state, authorizationUrl } = await oidc.begin(originOf(req), next);
      res.cookie(STATE_COOKIE, state, {
        httpOnly: true, sameSite: 'lax', secure: oidc.secureCookies, path: COOKIE_PATH, maxAge: PENDING_TTL_SECONDS * 1000,
      });
      res.redirect(303, authorizationUrl);
    } catch (error) {
      land(res, refusalOf(error, log, req.ip));
    }
  });

  app.get(`${COOKIE_PATH}/callback`, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    // The query holds the provider's code: never pass this URL on as a Referer.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.clearCookie(STATE_COOKIE, { path: COOKIE_PATH });
    // The URL the provider redirected to, as registered (not as a proxy rewrote it).
    const callbackUrl = new URL(oidc.redirectUri);
    callbackUrl.search = new URL(req.originalUrl, 'http://callback.invalid').search;
    try {
      const { code, next } = await oidc.finish(callbackUrl, parseCookies(req.headers.cookie ?? '')[STATE_COOKIE], originOf(req));
      res.redirect(303, oidc.landingUrl({ code, next }));
    } catch (error) {
      land(res, refusalOf(error, log, req.ip));
    }
  });

  function land(res: express.Response, reason: SignInRefused['reason']): void {
    res.redirect(303, oidc.landingUrl({ error: reason }));
  }
}

/** The browser's address (per ATELIER_TRUST_PROXY) and User-Agent, for the throttle and the audit log. */
const originOf = (req: express.Request): RequestOrigin => ({ ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });

/** Every refusal is logged with its detail; the browser learns only the reason word. */
function refusalOf(error: unknown, log: Logger, clientIp: string | undefined): SignInRefused['reason'] {
  if (error instanceof SignInRefused) {
    log.warn({ reason: error.reason, detail: error.message, clientIp }, 'single sign-on refused');
    return error.reason;
  }
  log.error({ err: error, clientIp }, 'single sign-on failed');
  return 'unavailable';
}
