import type { ErrorCode } from '../gql/enums';

/** What `POST /uploads` answers: the id to pass to `registerLora`, and what the server received. */
export interface UploadReceipt {
  uploadId: string;
  sha256: string;
  bytes: number;
}

/** A refused upload, with the server's code (UNAUTHENTICATED, FORBIDDEN, PAYLOAD_TOO_LARGE, RATE_LIMITED…). */
export class UploadError extends Error {
  constructor(message: string, readonly code: ErrorCode | 'NETWORK' | 'ABORTED', readonly status: number) {
    super(message);
  }
}

/** Turns the server's refusal into a sentence a person can act on. */
function explainRefusal(status: number, body: { error?: string; code?: ErrorCode; limit?: number; retryAfterSeconds?: number } | null,
  fallback = 'The upload failed. Try again in a moment.'): UploadError {
  const code: ErrorCode | 'NETWORK' | 'ABORTED' = body?.code ?? (status === 0 ? 'NETWORK' : 'INTERNAL');
  let message = body?.error ?? fallback;
  if (code === 'PAYLOAD_TOO_LARGE' && typeof body?.limit === 'number') message = `The file is too large: uploads are limited to ${(body.limit / 1024 / 1024).toFixed(1)} MB.`;
  else if (code === 'RATE_LIMITED' && typeof body?.retryAfterSeconds === 'number') message = `${message}. Try again in ${body.retryAfterSeconds} s.`;
  else if (code === 'NETWORK') message = 'Cannot reach the Atelier server. Check your connection and try again.';
  return new UploadError(message, code, status);
}

/**
 * Sends a file's raw bytes to `POST /uploads` (the same Bearer token as
 * GraphQL). XMLHttpRequest rather than fetch because only XHR reports upload
 * progress; `onProgress` gets 0..1. `signal` aborts the transfer.
 */
export function uploadFile(file: Blob, token: string, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadReceipt> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/uploads');
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = xhr.response as (UploadReceipt & { error?: string; code?: ErrorCode }) | null;
      if (xhr.status === 201 && body?.uploadId) {
        onProgress(1);
        resolve(body);
      } else {
        reject(explainRefusal(xhr.status, body));
      }
    };
    xhr.onerror = () => reject(explainRefusal(0, null));
    xhr.onabort = () => reject(new UploadError('Upload cancelled.', 'ABORTED', 0));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/**
 * `DELETE /uploads/:id`: withdraws one of the caller's uploads not yet used
 * (same Bearer token as `POST /uploads`), so its room in the tier's
 * pending-upload allowance is free at once. A 404 (used, withdrawn already,
 * expired) counts as gone and resolves; any other refusal rejects with an
 * UploadError.
 */
export async function withdrawUpload(uploadId: string, token: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`/uploads/${encodeURIComponent(uploadId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  } catch {
    throw explainRefusal(0, null);
  }
  if (response.status === 204 || response.status === 404) return;
  const body = (await response.json().catch(() => null)) as Parameters<typeof explainRefusal>[1];
  throw explainRefusal(response.status, body, 'The file could not be deleted from the server. Try again in a moment.');
}
