import { describe, expect, it } from 'vitest';
import { PROMPT_VOCABULARY, SuggestionCategory } from '../../src/services/prompt-vocabulary';
import { enhancePrompt, matchRank, randomPrompts, rankSuggestions } from '../../src/services/suggestions';

describe('prompt vocabulary', () => {
  it('has about fifty entries in seven categories, no duplicates', () => {
    expect(PROMPT_VOCABULARY.length).toBeGreaterThanOrEqual(45);
    expect(PROMPT_VOCABULARY.length).toBeLessThanOrEqual(60);
    expect(new Set(PROMPT_VOCABULARY.map((e) => e.category))).toEqual(new Set(Object.values(SuggestionCategory)));
    expect(new Set(PROMPT_VOCABULARY.map((e) => e.text)).size).toBe(PROMPT_VOCABULARY.length);
  });
});

describe('rankSuggestions', () => {
  it('ranks prefix, then word-prefix, then substring matches', () => {
    const vocab = [
      { text: 'self-portraiture', category: SuggestionCategory.STYLES },
      { text: 'close-up portrait', category: SuggestionCategory.CAMERA },
      { text: 'portrait of a woman', category: SuggestionCategory.SUBJECTS },
      { text: 'unrelated', category: SuggestionCategory.MOOD },
    ];
    expect(rankSuggestions('portrait', 10, vocab).map((s) => [s.text, s.rank])).toEqual([
      ['portrait of a woman', 0], ['self-portraiture', 1], ['close-up portrait', 1],
    ]);
    expect(matchRank('teal and orange', 'range')).toBe(2);
    expect(matchRank('teal and orange', 'xyz')).toBeNull();
  });

  it('puts a prefix match first for "portrait" on the real vocabulary, case-insensitively', () => {
    const result = rankSuggestions('  PORTRAIT ', 5);
    expect(result[0].text.startsWith('portrait')).toBe(true);
    expect(result[0].rank).toBe(0);
    const ranks = result.map((r) => r.rank);
    expect([...ranks].sort()).toEqual(ranks);
    expect(result.some((r) => r.rank > 0)).toBe(true);
  });

  it('limits, lists for a blank query and refuses a bad limit', () => {
    expect(rankSuggestions('', 3)).toHaveLength(3);
    expect(rankSuggestions('l', 2)).toHaveLength(2);
    expect(() => rankSuggestions('a', 0)).toThrow(/limit/);
    expect(() => rankSuggestions('a', 51)).toThrow(/limit/);
  });
});

describe('enhancePrompt', () => {
  it('adds quality terms the prompt lacks, without duplicates', () => {
    const r = enhancePrompt('a fox, Sharp Focus', true, false);
    expect(r.addedTerms).toEqual(['highly detailed', 'high quality', '8k uhd']);
    expect(r.prompt).toBe('a fox, Sharp Focus, highly detailed, high quality, 8k uhd');
  });

  it('adds style terms when asked and nothing when all are present', () => {
    expect(enhancePrompt('a fox', false, true).addedTerms).toEqual(['cinematic lighting', 'professional photography', 'vibrant colors']);
    const full = 'x, highly detailed, sharp focus, high quality, 8k uhd';
    expect(enhancePrompt(full, true, false)).toEqual({ original: full, prompt: full, addedTerms: [] });
    expect(() => enhancePrompt('   ')).toThrow(/empty/);
  });
});

describe('randomPrompts', () => {
  it('composes subject, style, lighting and quality, distinct prompts', () => {
    let n = 0;
    const prompts = randomPrompts(5, () => ((n += 0.37) % 1));
    expect(prompts).toHaveLength(5);
    expect(new Set(prompts).size).toBe(5);
    for (const p of prompts) {
      const parts = p.split(', ');
      expect(parts).toHaveLength(4);
      const category = (text: string) => PROMPT_VOCABULARY.find((e) => e.text === text)?.category;
      expect(parts.map(category)).toEqual([SuggestionCategory.SUBJECTS, SuggestionCategory.STYLES, SuggestionCategory.LIGHTING, SuggestionCategory.QUALITY]);
    }
    expect(() => randomPrompts(0)).toThrow(/count/);
  });
});
