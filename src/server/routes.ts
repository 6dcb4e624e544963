import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { forbidden, notFound, serviceUnavailable } from '../kernel/errors';
import type { ErrorReporter } from '../observability/error-reporter';
import { sendRestError } from './rest-errors';
import type { Logger } from '../observability/logger';
import { mountHealthRoutes, type HealthOptions } from '../observability/health';
import type { Services } from '../resolvers/context';
import type { ArtifactStore } from '../storage/artifact-store';

/** Health, readiness, metrics and signed file downloads. */
export function mountHttpRoutes(options: HealthOptions & { services: Services; store: ArtifactStore; logger: Logger; errors: ErrorReporter }): void {
  const { app, services, store, logger } = options;
  const refuse = (res: express.Response, error: unknown) => sendRestError(res, error, options.errors, { requestId: null, operation: 'files' });
  mountHealthRoutes(options);
  app.get('/files/{*key}', async (req, res) => {
    const key = ([] as string[]).concat((req.params as { key?: string | string[] }).key ?? []).join('/');
    const { expires, sig } = req.query as Record<string, string | undefined>;
    let valid = false;
    try {
      valid = Boolean(expires && sig) && services.urlSigner.verify(key, expires!, sig!, services.clock.now());
    } catch {
      valid = false;
    }
    if (!valid) return refuse(res, forbidden('Invalid or expired link'));
    // A validly signed key is one we wrote, so a failure here is the store's
    // (S3 down, misconfigured): say so, instead of pretending the file is gone.
    let data: Buffer | null;
    try {
      data = await store.get(key);
    } catch (err) {
      logger.error({ err, key }, 'artifact store read failed');
      return refuse(res, serviceUnavailable('Storage is unavailable; try again'));
    }
    if (!data) return refuse(res, notFound('File'));
    res.setHeader('Content-Type', contentTypeOf(key));
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.send(data);
  });
  mountClientApp(app);
}

/** What the artifact store holds: PNG images and posters, MP4 clips (docs/video.md), and opaque files. */
function contentTypeOf(key: string): string {
  if (key.endsWith('.png')) return 'image/png';
  if (key.endsWith('.mp4')) return 'video/mp4';
  return 'application/octet-stream';
}

/** Paths the API owns; everything else that asks for HTML gets the SPA. */
const API_PATHS = /^\/(graphql|files|uploads|metrics|healthz|readyz|auth)(\/|$)/;

/** `client/dist` seen from `src/server` (tests) or `dist/src/server` (built). */
function clientDist(): string | null {
  const candidates = [path.resolve(__dirname, '../../client/dist'), path.resolve(__dirname, '../../../client/dist')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? null;
}

/**
 * Serves the built SPA (`npm run client:build`) at `/`, with index.html for
 * any other non-API GET that accepts HTML so client-side routes survive a
 * reload. Looked up per request: building the client needs no restart.
 */
export function mountClientApp(app: express.Express): void {
  const statics = new Map<string, express.Handler>();
  app.use((req, res, next) => {
    const dir = req.method === 'GET' || req.method === 'HEAD' ? clientDist() : null;
    if (!dir || API_PATHS.test(req.path)) return next();
    if (!statics.has(dir)) {
      statics.set(dir, express.static(dir, {
        index: false,
        // Vite fingerprints assets, so they never change under a name.
        setHeaders: (r, file) => r.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
      }));
    }
    statics.get(dir)!(req, res, () => {
      if (!req.accepts('html')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(dir, 'index.html'));
    });
  });
}
