import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkGenerationSettings, checkNumber, GENERATION_DEFAULTS, GENERATION_LIMITS as L, type NumberLimit,
} from '../../src/kernel/generation-parameters';

const valid = { prompt: 'a lighthouse', width: 512, height: 512, steps: 20, guidanceScale: 7.5, seed: 1, count: 1 };

describe('generation limits table', () => {
  it('docs/generation-parameters.md shows the table the code uses', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../docs/generation-parameters.md'), 'utf8');
    const rows: [string, NumberLimit, number | undefined][] = [
      ['width', L.width, GENERATION_DEFAULTS.width], ['height', L.height, GENERATION_DEFAULTS.height],
      ['steps', L.steps, GENERATION_DEFAULTS.steps], ['guidanceScale', L.guidanceScale, GENERATION_DEFAULTS.guidanceScale],
      ['seed', L.seed, undefined], ['count', L.count, GENERATION_DEFAULTS.count],
      ['prompt, negativePrompt (characters)', L.promptChars, undefined], ['LoRAs per job', L.loraCount, undefined],
      ['LoRA weight', L.loraWeight, undefined],
    ];
    for (const [name, limit, fallback] of rows) {
      const row = doc.split('\n').find((line) => line.startsWith(`| ${name} |`));
      expect(row, name).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect([cells[2], cells[3]], name).toEqual([String(limit.min), String(limit.max)]);
      if (fallback !== undefined) expect(cells[5], name).toBe(String(fallback));
    }
  });

  it('the defaults are inside the table', () => {
    expect(checkGenerationSettings({ ...valid, ...GENERATION_DEFAULTS })).toBeNull();
  });

  it('checks integers, multiples and finiteness, naming the field', () => {
    expect(checkNumber('width', 512.5, L.width)).toEqual({ field: 'width', message: 'width must be an integer from 64 to 2048 and a multiple of 8' });
    expect(checkNumber('guidanceScale', Number.NaN, L.guidanceScale)?.field).toBe('guidanceScale');
    expect(checkNumber('guidanceScale', 7.25, L.guidanceScale)).toBeNull();
    expect(checkNumber('steps', '20', L.steps)?.field).toBe('steps');
  });

  it('reports the first violation in field order', () => {
    expect(checkGenerationSettings({ ...valid, width: 1, count: 99 })?.field).toBe('width');
    expect(checkGenerationSettings({ ...valid, loras: [{ weight: 1 }, { weight: 9 }] })?.field).toBe('loras[1].weight');
    expect(checkGenerationSettings({ ...valid, negativePrompt: null })).toBeNull();
  });
});

describe('prompts as text', () => {
  it('counts characters as code points (an emoji is one), and refuses half of a surrogate pair', async () => {
    const { checkPromptLength } = await import('../../src/kernel/generation-parameters');
    expect(checkPromptLength('prompt', '🎨'.repeat(L.promptChars.max))).toBeNull();
    expect(checkPromptLength('prompt', '🎨'.repeat(L.promptChars.max + 1))).toEqual({ field: 'prompt', message: 'prompt must be at most 2000 characters' });
    expect(checkPromptLength('prompt', 'a'.repeat(L.promptChars.max + 1))?.field).toBe('prompt');
    expect(checkPromptLength('negativePrompt', 'a lighthouse \ud83c at dusk')).toEqual({
      field: 'negativePrompt', message: 'negativePrompt must be valid Unicode text (it has half of a surrogate pair)',
    });
    expect(checkPromptLength('prompt', 'a lighthouse \udfa8')?.field).toBe('prompt');
  });
});
