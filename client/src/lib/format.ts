/** Small display formatters shared by the pages. */

export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null) return '';
  if (seconds < 1) return 'less than a second';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function relativeTime(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/**
 * Who someone is, in a list or a caption: their display name, else their
 * address. Another user's address comes masked (`b…@example.com`,
 * docs/security.md "Email addresses") and is shown whole, domain included,
 * so two teammates without a display name can still be told apart; your own
 * is shortened to its local part.
 */
export function personName(user: { displayName?: string | null; email: string } | null | undefined): string {
  if (!user) return 'someone';
  if (user.displayName) return user.displayName;
  return user.email.includes('…') ? user.email : user.email.split('@')[0];
}

/** A wait the server asks for (retryAfterSeconds), short: "3 s", "4 min", "5 h 12 min". */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 120) return `${s} s`;
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  const minutes = Math.ceil((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
}
