import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON logs. Secrets are redacted by path; prompts are user content, so log
 * lines carry them truncated (see `redactPrompt`).
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'atelier',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'secret', '*.secret', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** Keeps enough of a prompt to recognise it in logs without storing it there. */
export function redactPrompt(prompt: string, keep = 24): string {
  const trimmed = prompt.trim();
  return trimmed.length <= keep ? trimmed : `${trimmed.slice(0, keep)}… (${trimmed.length} chars)`;
}
