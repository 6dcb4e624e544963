/**
 * The server's hard limits on what the forms send, so a form can check every
 * field before it sends anything and say at once what is wrong with each.
 * The client is built apart and imports nothing from src/, so these are
 * copies of the server's sources of truth: GENERATION_LIMITS in
 * src/kernel/generation-parameters.ts, the preset rules of
 * src/services/presets.ts and the account rules of src/services/auth.ts
 * (test/e2e/library-authoring.test.ts compares the shared table with the
 * server's). The server checks again and has the last word; tiers narrow
 * some maxima further (LimitHints.ts).
 */

/** A numeric range; `integer` and `multipleOf` add their own conditions. */
export interface NumberLimit {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly multipleOf?: number;
}

/** The hard limits of every generation, whatever the tier. */
export const GENERATION_LIMITS = {
  width: { min: 64, max: 2048, integer: true, multipleOf: 8 },
  height: { min: 64, max: 2048, integer: true, multipleOf: 8 },
  steps: { min: 1, max: 150, integer: true },
  guidanceScale: { min: 1, max: 30, integer: false },
  /** The seed of the first image (image i uses seed + i). */
  seed: { min: 0, max: 2_147_483_647, integer: true },
  count: { min: 1, max: 8, integer: true },
  /** Characters (code points) of the prompt and of the negative prompt. */
  promptChars: { min: 1, max: 2000, integer: true },
  loraWeight: { min: -2, max: 2, integer: false },
} as const satisfies Record<string, NumberLimit>;

/**
 * The hard limits of a clip's length and frame rate, whatever the tier (a
 * copy of VIDEO_LIMITS in src/kernel/generation-parameters.ts, compared with
 * it by test/e2e/video.test.ts); each tier allows at most its
 * `maxVideoSeconds` and `maxVideoFps` of them.
 */
export const VIDEO_LIMITS = {
  durationSeconds: { min: 0.5, max: 60, integer: false },
  fps: { min: 1, max: 60, integer: true },
} as const satisfies Record<string, NumberLimit>;

/** What a preset may hold besides the generation limits. */
export const PRESET_LIMITS = {
  nameChars: 80,
  templateChars: 1000,
  loras: 5,
  durationSeconds: { min: 0.5, max: 120, integer: false },
  fps: { min: 1, max: 120, integer: true },
} as const;

/** What an account may be created with. */
export const ACCOUNT_LIMITS = {
  emailChars: 254,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  displayNameChars: 80,
} as const;

/** An email address as the server accepts one: something, @, a domain with a dot. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Whether `value` fits `limit`. */
export const fits = (value: number, limit: NumberLimit): boolean =>
  Number.isFinite(value) && value >= limit.min && value <= limit.max &&
  (!limit.integer || Number.isInteger(value)) && (!limit.multipleOf || value % limit.multipleOf === 0);

/** What fits `limit`, for a message: `a whole number from 64 to 2048, a multiple of 8`. */
export function describeRange(limit: NumberLimit): string {
  const multiple = limit.multipleOf ? `, a multiple of ${limit.multipleOf}` : '';
  return `${limit.integer ? 'a whole number' : 'a number'} from ${limit.min} to ${limit.max}${multiple}`;
}

/** Characters as the server counts a prompt's: code points, so an emoji is one. */
export const codePoints = (text: string): number => [...text].length;
