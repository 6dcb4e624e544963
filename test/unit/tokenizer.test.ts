import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../src/gpu-worker/pipeline/tokenizer';
import { bytesToUnicode } from '../../src/gpu-worker/pipeline/tokenizer';
import { buildTinyModelInTemp } from './helpers/tiny-model';

describe('ClipTokenizer with the tiny model vocab', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let tok: ClipTokenizer;
  let vocab: Record<string, number>;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    tok = await ClipTokenizer.load(path.join(model.modelDir, 'tokenizer'));
    vocab = JSON.parse(await readFile(path.join(model.modelDir, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
  });
  afterAll(() => model?.cleanup());

  it('encodes known words as single tokens between start and end, padded to 77', () => {
    const ids = tok.encode('A red cat');
    expect(ids).toHaveLength(77);
    expect(Array.from(ids.slice(0, 5))).toEqual([tok.startId, vocab['a</w>'], vocab['red</w>'], vocab['cat</w>'], tok.endId]);
    expect(ids.slice(5).every((id) => id === tok.padId)).toBe(true);
    expect([tok.startId, tok.endId]).toEqual([vocab['<|startoftext|>'], vocab['<|endoftext|>']]);
  });

  it('is stable, lowercases and collapses whitespace', () => {
    expect(Array.from(tok.encode('  A   RED\tcat '))).toEqual(Array.from(tok.encode('a red cat')));
  });

  it('encodes unknown words and symbols byte by byte instead of failing', () => {
    const ids = tok.tokenize('zqxj ünï 🌅');
    expect(ids.length).toBeGreaterThan(3);
    expect(ids.includes(tok.endId)).toBe(false);
  });

  it('truncates long prompts to 77 with the end token last', () => {
    const ids = tok.encode(Array(200).fill('castle').join(' '));
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(tok.startId);
    expect(ids[76]).toBe(tok.endId);
    expect(ids[75]).toBe(vocab['castle</w>']);
  });
});

describe('ClipTokenizer BPE rules (CLIP format)', () => {
  // A hand-made vocab in CLIP's layout: 512 byte symbols, then merges, then specials.
  const base = [...bytesToUnicode().values()];
  const merges = ['l o', 'lo w</w>', 'e r</w>', 'lo w', 'n e', 'ne w</w>', 'd o', 'do n</w>', "' t</w>"];
  const tokens = [...base, ...base.map((c) => `${c}</w>`), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const tok = ClipTokenizer.fromData(vocab, merges, { pad_token: '!' });
  const pieces = (text: string): string[] => tok.tokenize(text).map((id) => tokens[id]);

  it('applies merges by rank', () => {
    expect(pieces('low')).toEqual(['low</w>']);
    expect(pieces('lower')).toEqual(['low', 'er</w>']);
    expect(pieces('new')).toEqual(['new</w>']);
  });

  it("splits like CLIP's regex: contractions, digits, punctuation", () => {
    expect(pieces("don't")).toEqual(['don</w>', "'t</w>"]);
    expect(pieces('42')).toEqual(['4</w>', '2</w>']);
    expect(pieces('low, new!')).toEqual(['low</w>', ',</w>', 'new</w>', '!</w>']);
  });

  it('uses the configured pad token and special tokens from the vocab', () => {
    expect(tok.padId).toBe(vocab['!']);
    expect(tok.startId).toBe(tokens.length - 2);
    const ids = tok.encode('low');
    expect(Array.from(ids.slice(0, 4))).toEqual([tok.startId, vocab['low</w>'], tok.endId, vocab['!']]);
  });
});
