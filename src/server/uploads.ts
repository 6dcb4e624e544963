import type express from 'express';
import { Role } from '../entities';
import type { Services } from '../resolvers/context';
import { AppError, ErrorCode, forbidden, unauthenticated } from '../kernel/errors';
import type { ErrorReporter } from '../observability/error-reporter';
import { UploadTooLargeError } from '../services/uploads';
import { sendRestError } from './rest-errors';

const tooLarge = (message: string, limit: number) => new AppError(ErrorCode.PAYLOAD_TOO_LARGE, message, { limit });

/**
 * `POST /uploads`: the raw request body (e.g. a LoRA's .safetensors) goes to
 * storage under the caller; the answer `{ uploadId, sha256, bytes }` is then
 * passed to `registerLora`. Same Bearer token or API key as /graphql; EDITOR
 * and ADMIN only; bodies over ATELIER_MAX_UPLOAD_MB get 413.
 */
export function mountUploads(app: express.Express, services: Services, errors: ErrorReporter): void {
  app.post('/uploads', async (req, res) => {
    let userId: string | null = null;
    const refuse = (error: unknown) => sendRestError(res, error, errors, { requestId: null, operation: 'uploads', userId });
    try {
      const viewer = await services.gate.admit(req.headers.authorization);
      if (!viewer) return refuse(unauthenticated());
      userId = viewer.user.id;
      if (viewer.user.role === Role.VIEWER) return refuse(forbidden('Viewers cannot upload files'));
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > services.uploads.limit) {
        return refuse(tooLarge(`Uploads are limited to ${services.uploads.limit} bytes`, services.uploads.limit));
      }
      const receipt = await services.uploads.receive(viewer.user.id, req);
      res.status(201).json(receipt);
    } catch (error) {
      if (error instanceof UploadTooLargeError) {
        // Stop reading the rest of an oversized body; the client gets the answer at once.
        res.setHeader('Connection', 'close');
        return refuse(tooLarge(error.message, error.limit));
      }
      refuse(error);
    }
  });
}
