import { badInput } from './errors';
import { isUuid } from './ids';

/**
 * The paginated lists, by the name their cursors carry: a list refuses a
 * cursor another list handed out (docs/errors.md, "Pagination cursors").
 * `audit` is the name auditEvents' cursors always carried.
 */
export type CursorList = 'jobs' | 'batches' | 'albums' | 'favorites' | 'datasets' | 'trainingRuns' | 'Batch.jobs' | 'Album.images' | 'audit';

/** The list name a cursor starts with; cursors handed out before they named their list start with none. */
const NAMED = /^([A-Za-z]+(?:\.[A-Za-z]+)?):/;

/** An opaque cursor of `list`: `<list>:<payload>` in base64url. */
export function encodeCursor(list: CursorList, payload: string): string {
  return Buffer.from(`${list}:${payload}`).toString('base64url');
}

/**
 * What a cursor of `list` carries. One that names another list is
 * BAD_USER_INPUT on `field`; one that names none, handed out before cursors
 * named their list, is taken as it was then (its payload checked by the list).
 */
export function cursorPayload(list: CursorList, cursor: string, field = 'after'): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  const named = NAMED.exec(text);
  if (!named) return text;
  if (named[1] !== list) throw badInput(field, 'Invalid cursor: it is from another list');
  return text.slice(named[0].length);
}

/**
 * Keyset cursors for lists ordered by (time, id) descending: the cursor is the
 * last row's time and id, so pages stay stable while rows are added. The time
 * is the row's as PostgreSQL keeps it, to the microsecond (KEYSET_TIME_FORMAT):
 * cut to a Date's millisecond, a cursor would pass over the rows after its own
 * in that millisecond (docs/errors.md, "Pagination cursors").
 */
export function encodeKeysetCursor(list: CursorList, at: string, id: string): string {
  return encodeCursor(list, `${at}|${id}`);
}

/** PostgreSQL's `to_char` format of a keyset cursor's time: ISO 8601 in UTC, to the microsecond. */
export const KEYSET_TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** A cursor's time as KEYSET_TIME_FORMAT writes it, or as `toISOString` did (cursors from before they kept microseconds). */
const KEYSET_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

/** A time PostgreSQL's timestamptz takes, as `toISOString` writes it: years 1 to 9999. */
const inTimestampRange = (at: Date): boolean => !Number.isNaN(at.getTime()) && at.getUTCFullYear() >= 1 && at.getUTCFullYear() <= 9999;

/** A cursor's time as the text PostgreSQL reads to the microsecond, when it is a real date in timestamptz's years; else null. */
function keysetTime(text: string): string | null {
  const match = KEYSET_TIME.exec(text);
  if (!match) return null;
  const [, seconds, fraction = ''] = match;
  const at = new Date(`${seconds}Z`);
  // Compared back, so that a date no calendar has (February 30th) is refused here, not by PostgreSQL.
  if (!inTimestampRange(at) || at.toISOString().slice(0, 19) !== seconds) return null;
  return `${seconds}.${fraction.padEnd(6, '0')}Z`;
}

/**
 * Decodes a cursor from `encodeKeysetCursor` for the same list; anything else (another list's, a forged id, a
 * time PostgreSQL cannot hold) is BAD_USER_INPUT on `field`, never a query error. `at` is the time to the
 * microsecond, as PostgreSQL reads it.
 */
export function decodeKeysetCursor(list: CursorList, cursor: string, field = 'after'): { at: string; id: string } {
  const parts = cursorPayload(list, cursor, field).split('|');
  const [time, id] = parts;
  const at = keysetTime(time ?? '');
  if (parts.length !== 2 || !isUuid(id) || at === null) throw badInput(field, 'Invalid cursor');
  return { at, id };
}

/** Cursors for lists in a fixed order (a batch's jobs by position): the cursor is the last position. */
export function encodePositionCursor(list: CursorList, position: number): string {
  return encodeCursor(list, `p${position}`);
}

/** Decodes a cursor from `encodePositionCursor` for the same list; anything else is BAD_USER_INPUT on `field`. */
export function decodePositionCursor(list: CursorList, cursor: string, field = 'after'): number {
  const match = /^p(\d{1,9})$/.exec(cursorPayload(list, cursor, field));
  if (!match) throw badInput(field, 'Invalid cursor');
  return Number(match[1]);
}
