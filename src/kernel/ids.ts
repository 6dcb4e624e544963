import { badInput } from './errors';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID (any version): every id Atelier hands out is one. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value);

/** Returns `value` if it is a UUID; otherwise BAD_USER_INPUT naming `field`. */
export function assertUuid(field: string, value: string): string {
  if (!isUuid(value)) throw badInput(field, `${field} must be a UUID`);
  return value;
}
