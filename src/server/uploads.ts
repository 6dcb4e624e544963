import type express from 'express';
import { Role } from '../entities';
import type { Services } from '../services';
import { rateSubjects } from '../services/jobs';
import { UploadQuotaExceededError, UploadTooLargeError } from '../services/uploads';
import { findAppError } from '../schema/errors';

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429, QUOTA_EXCEEDED: 429 };

function refuse(res: express.Response, status: number, code: string, error: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error, code, ...extra });
}

/**
 * `POST /uploads`: the raw request body (e.g. a LoRA's .safetensors) goes to
 * storage under the caller; the answer `{ uploadId, sha256, bytes }` is then
 * passed to `registerLora`. Same Bearer token or API key as /graphql; EDITOR
 * and ADMIN only; bodies over ATELIER_MAX_UPLOAD_MB get 413 PAYLOAD_TOO_LARGE,
 * and so do uploads past the tier's allowance for uploads not yet registered
 * (`pendingUploadMb`) with code QUOTA_EXCEEDED.
 */
export function mountUploads(app: express.Express, services: Services): void {
  app.post('/uploads', async (req, res) => {
    try {
      const viewer = await services.auth.authenticate(req.headers.authorization, { ip: req.ip, userAgent: req.get('user-agent') });
      if (!viewer) return refuse(res, 401, 'UNAUTHENTICATED', 'Sign in first: send Authorization: Bearer <token or API key>');
      if (viewer.user.role === Role.VIEWER) return refuse(res, 403, 'FORBIDDEN', 'Viewers cannot upload files');
      const policy = await services.quotas.policyFor(viewer.user.tier);
      await services.rateLimiter.hit('requests', rateSubjects(viewer), services.quotas.rateLimitsOf(viewer.user, policy).requestsPerMinute);
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > services.uploads.limit) {
        return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `Uploads are limited to ${services.uploads.limit} bytes`, { limit: services.uploads.limit });
      }
      const receipt = await services.uploads.receive(viewer.user.id, req, {
        quotaBytes: policy.pendingUploadMb * 1024 * 1024, tier: policy.tier, declaredBytes: Number.isFinite(declared) ? declared : undefined,
      });
      res.status(201).json(receipt);
    } catch (error) {
      if (error instanceof UploadTooLargeError || error instanceof UploadQuotaExceededError) {
        // Stop reading the rest of a refused body; the client gets the answer at once.
        res.setHeader('Connection', 'close');
        return error instanceof UploadTooLargeError
          ? refuse(res, 413, 'PAYLOAD_TOO_LARGE', error.message, { limit: error.limit })
          : refuse(res, 413, 'QUOTA_EXCEEDED', error.message, { limit: error.limit, used: error.used });
      }
      const appError = findAppError(error);
      if (appError) return refuse(res, STATUS[appError.code] ?? 400, appError.code, appError.message, appError.extensions);
      refuse(res, 500, 'INTERNAL', 'Upload failed');
    }
  });
}
