/** The seven categories of prompt suggestions (docs/architecture.md, "Domain"). */
export enum SuggestionCategory {
  SUBJECTS = 'SUBJECTS',
  STYLES = 'STYLES',
  LIGHTING = 'LIGHTING',
  CAMERA = 'CAMERA',
  QUALITY = 'QUALITY',
  MOOD = 'MOOD',
  COLORS = 'COLORS',
}

/** One phrase people can add to a prompt. */
export interface VocabularyEntry {
  text: string;
  category: SuggestionCategory;
}

const RAW: Record<SuggestionCategory, string[]> = {
  SUBJECTS: [
    'portrait of a woman', 'portrait of an old man', 'a cat sleeping on a windowsill', 'a futuristic city skyline',
    'a mountain lake at dawn', 'an astronaut riding a horse', 'a cozy cabin in the woods', 'a dragon over a castle',
  ],
  STYLES: [
    'oil painting', 'watercolor', 'anime art style', 'concept art', 'photorealistic', 'pixel art',
    'studio ghibli style', 'cyberpunk', 'art nouveau', 'low poly 3d render',
  ],
  LIGHTING: [
    'cinematic lighting', 'golden hour', 'soft diffused light', 'dramatic shadows', 'neon lights',
    'volumetric lighting', 'rim lighting', 'studio lighting',
  ],
  CAMERA: [
    '85mm lens', 'portrait photography', 'wide angle shot', 'macro shot', 'aerial view', 'shallow depth of field',
    'close-up portrait', 'bokeh',
  ],
  QUALITY: ['highly detailed', 'sharp focus', 'high quality', '8k uhd', 'masterpiece', 'intricate details'],
  MOOD: ['serene', 'mysterious', 'melancholic', 'whimsical', 'epic', 'dreamy'],
  COLORS: ['vibrant colors', 'pastel colors', 'monochrome', 'muted earth tones', 'teal and orange', 'black and white'],
};

/** Every suggestion, in category order (52 entries). */
export const PROMPT_VOCABULARY: readonly VocabularyEntry[] = Object.entries(RAW).flatMap(([category, texts]) =>
  texts.map((text) => ({ text, category: category as SuggestionCategory })));

/** Entries of one category. */
export function vocabularyOf(category: SuggestionCategory): VocabularyEntry[] {
  return PROMPT_VOCABULARY.filter((e) => e.category === category);
}

/** Terms `enhancePrompt` adds for quality, in order. */
export const QUALITY_TERMS = ['highly detailed', 'sharp focus', 'high quality', '8k uhd'] as const;

/** Terms `enhancePrompt` adds for style, in order. */
export const STYLE_TERMS = ['cinematic lighting', 'professional photography', 'vibrant colors'] as const;
