import { badInput } from './errors';

/**
 * Keyset cursors for lists ordered by (time, id) descending: the cursor is the
 * last row's time and id, so pages stay stable while rows are added.
 */
export function encodeKeysetCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** Decodes a cursor from `encodeKeysetCursor`; anything else is BAD_USER_INPUT on `field`. */
export function decodeKeysetCursor(cursor: string, field = 'after'): { at: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = new Date(time ?? '');
  if (!id || Number.isNaN(at.getTime())) throw badInput(field, 'Invalid cursor');
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
