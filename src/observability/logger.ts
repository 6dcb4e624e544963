import pino from 'pino';

export type Logger = pino.Logger;

/** Keys whose values never reach a log line. */
const SECRET_KEYS = ['password', 'token', 'authorization', 'secret', 'apiKey', 'jwtSecret', 'passwordHash', 'secretHash', 'cookie'];
/** Keys holding user prompts: logged truncated (see `redactPrompt`), never whole. */
const PROMPT_KEYS = ['prompt', 'negativePrompt'];

/** Redaction paths for `keys` at the top level and one or two levels down (pino paths are explicit). */
function pathsFor(keys: string[]): string[] {
  return keys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
}

/**
 * JSON logs (pino). Secrets are replaced by `[redacted]` wherever a logged
 * object names them (`password`, `token`, `authorization`, …, up to two levels
 * deep, request headers included); prompts are user content, so a `prompt`
 * field is cut to its first words. `destination` lets tests read the lines.
 */
export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const promptKeys = new Set(PROMPT_KEYS);
  return pino({
    name: options.name ?? 'atelier',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [...pathsFor(SECRET_KEYS), 'req.headers.authorization', 'req.headers.cookie', ...pathsFor(PROMPT_KEYS)],
      censor: (value: unknown, path: string[]) =>
        promptKeys.has(path[path.length - 1]) && typeof value === 'string' ? redactPrompt(value) : '[redacted]',
    },
  }, options.destination);
}

/** Keeps enough of a prompt to recognise it in logs without storing it there. */
export function redactPrompt(prompt: string, keep = 24): string {
  const trimmed = prompt.trim();
  if (/… \(\d+ chars\)$/.test(trimmed)) return trimmed; // already cut (logged again by a child logger)
  return trimmed.length <= keep ? trimmed : `${trimmed.slice(0, keep)}… (${trimmed.length} chars)`;
}

/**
 * The security audit stream: JSON lines of its own, marked `stream: "audit"`
 * and always at level info whatever LOG_LEVEL says (they are never dropped),
 * written to stdout, stderr or an appended file (ATELIER_AUDIT_LOG).
 * `close` releases a file (stdout and stderr stay open).
 */
export function createAuditLogger(target: string | pino.DestinationStream): { logger: Logger; close: () => Promise<void> } {
  const file = typeof target === 'string' && target !== 'stdout' && target !== 'stderr'
    ? pino.destination({ dest: target, sync: true, mkdir: true, append: true }) : null;
  const destination = file ?? (typeof target !== 'string' ? target : pino.destination({ dest: target === 'stderr' ? 2 : 1, sync: true }));
  const logger = createLogger({ name: 'atelier', level: 'info', destination }).child({ stream: 'audit' });
  return { logger, close: async () => file?.end() };
}
