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
function explainRefusal(status: number, body: { error?: string; code?: ErrorCode; limit?: number; retryAfterSeconds?: number } | null): UploadError {
  const code: ErrorCode | 'NETWORK' | 'ABORTED' = body?.code ?? (status === 0 ? 'NETWORK' : 'INTERNAL');
  let message = body?.error ?? 'The upload failed. Try again in a moment.';
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
