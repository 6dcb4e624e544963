import type express from 'express';
import { Role } from '../entities';
import type { Services } from '../resolvers/context';
import type { Viewer } from '../services/auth';
import { AppError, ErrorCode, forbidden, unauthenticated } from '../kernel/errors';
import type { ErrorReporter } from '../observability/error-reporter';
import type { Logger } from '../observability/logger';
import { UploadQuotaExceededError, UploadStalledError, UploadTooLargeError } from '../services/uploads';
import { sendRestError } from './rest-errors';

const tooLarge = (message: string, limit: number) => new AppError(ErrorCode.PAYLOAD_TOO_LARGE, message, { limit });

// Another user's upload reads like one that never existed: ids are not revealed.
const uploadNotFound = () => new AppError(ErrorCode.NOT_FOUND, 'Upload not found: it is not yours, was used or withdrawn already, or was deleted unused after a day', { field: 'uploadId' });

/** The answer to an upload cut off while it streamed, or null for an error that is not a refusal. */
function refusalOf(error: unknown): AppError | null {
  if (error instanceof UploadTooLargeError) return tooLarge(error.message, error.limit);
  if (error instanceof UploadQuotaExceededError) return new AppError(ErrorCode.QUOTA_EXCEEDED, error.message, { limit: error.limit, used: error.used });
  if (error instanceof UploadStalledError) return new AppError(ErrorCode.BAD_REQUEST, error.message);
  return null;
}

/**
 * `POST /uploads`: the raw request body (e.g. a LoRA's .safetensors) goes to
 * storage under the caller; the answer `{ uploadId, sha256, bytes }` is then
 * passed to `registerLora`. Same Bearer token or API key as /graphql; EDITOR
 * and ADMIN only; bodies over ATELIER_MAX_UPLOAD_MB get 413 PAYLOAD_TOO_LARGE,
 * and so do uploads past the tier's allowance for uploads not yet registered
 * (`pendingUploadMb`) with code QUOTA_EXCEEDED. `DELETE /uploads/:id`
 * withdraws one of the caller's uploads not yet used, giving its room in that
 * allowance back at once (204); anything else is 404 NOT_FOUND on `uploadId`.
 * A body that stops arriving is cut off with 400 BAD_REQUEST (docs/operations.md,
 * "HTTP connections and timeouts"). Temporary files a killed process left
 * behind are swept as the routes are mounted, at start.
 */
export function mountUploads(app: express.Express, services: Services, errors: ErrorReporter, logger: Logger): void {
  services.uploads.sweepLeftoverFolders().then(
    (removed) => {
      if (removed > 0) logger.info({ removed }, 'removed upload folders left by a stopped process');
    },
    (err) => logger.warn({ err }, 'cannot sweep upload folders left by a stopped process'),
  );

  /** A signed-in caller's request to /uploads; every refusal and failure answers in the REST error shape. */
  const signedIn = (handle: (viewer: Viewer, req: express.Request, res: express.Response, refuse: (error: unknown) => void) => Promise<void>) =>
    async (req: express.Request, res: express.Response): Promise<void> => {
      let userId: string | null = null;
      const refuse = (error: unknown) => sendRestError(res, error, errors, { requestId: null, operation: 'uploads', userId });
      try {
        const viewer = await services.gate.admit(req.headers.authorization, { ip: req.ip, userAgent: req.get('user-agent') });
        if (!viewer) return refuse(unauthenticated());
        userId = viewer.user.id;
        await handle(viewer, req, res, refuse);
      } catch (error) {
        refuse(error);
      }
    };

  app.post('/uploads', signedIn(async (viewer, req, res, refuse) => {
    if (viewer.user.role === Role.VIEWER) return refuse(forbidden('Viewers cannot upload files'));
    const policy = await services.quotas.policyOf(viewer);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > services.uploads.limit) {
      return refuse(tooLarge(`Uploads are limited to ${services.uploads.limit} bytes`, services.uploads.limit));
    }
    try {
      const receipt = await services.uploads.receive(viewer.user.id, req, {
        quotaBytes: policy.pendingUploadMb * 1024 * 1024, tier: policy.tier, declaredBytes: Number.isFinite(declared) ? declared : undefined,
      });
      res.status(201).json(receipt);
    } catch (error) {
      const refusal = refusalOf(error);
      // A client that went away mid-body: nobody to answer, and its ECONNRESET is no outage of ours.
      if (!refusal && res.socket?.destroyed) return;
      if (!refusal) throw error;
      // Stop reading the rest of a refused body; the client gets the answer at once.
      res.setHeader('Connection', 'close');
      refuse(refusal);
    }
  }));

  // No role check: only the uploader's own uploads can be named, and giving one back is never harmful.
  app.delete('/uploads/:id', signedIn(async (viewer, req, res, refuse) => {
    if (!(await services.uploads.withdraw(viewer.user.id, String(req.params.id)))) return refuse(uploadNotFound());
    res.status(204).end();
  }));
}
