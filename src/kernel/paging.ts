import { badInput } from './errors';
import { isUuid } from './ids';

/**
 * Keyset cursors for lists ordered by (time, id) descending: the cursor is the
 * last row's time and id, so pages stay stable while rows are added.
 */
export function encodeKeysetCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** A time PostgreSQL's timestamptz takes, as `toISOString` writes it: years 1 to 9999. */
const inTimestampRange = (at: Date): boolean => !Number.isNaN(at.getTime()) && at.getUTCFullYear() >= 1 && at.getUTCFullYear() <= 9999;

/**
 * Decodes a cursor from `encodeKeysetCursor`; anything else (a forged id, a
 * time PostgreSQL cannot hold) is BAD_USER_INPUT on `field`, never a query error.
 */
export function decodeKeysetCursor(cursor: string, field = 'after'): { at: Date; id: string } {
  const parts = Buffer.from(cursor, 'base64url').toString().split('|');
  const [time, id] = parts;
  const at = new Date(time ?? '');
  if (parts.length !== 2 || !isUuid(id) || !inTimestampRange(at)) throw badInput(field, 'Invalid cursor');
  return { at, id };
}

/** Cursors for lists in a fixed order (a batch's jobs by position): the cursor is the last position. */
export function encodePositionCursor(position: number): string {
  return Buffer.from(`p${position}`).toString('base64url');
}

/** Decodes a cursor from `encodePositionCursor`; anything else is BAD_USER_INPUT on `field`. */
export function decodePositionCursor(cursor: string, field = 'after'): number {
  const match = /^p(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badInput(field, 'Invalid cursor');
  return Number(match[1]);
}
